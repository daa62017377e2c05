"""incidentctl: the on-call engineer's incident toolkit for services on Kubernetes."""

from __future__ import annotations

__version__ = "0.1.0"
