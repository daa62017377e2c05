"""A local, kubectl-compatible simulated cluster running the SarvanOM system, with scripted incidents.

Imported only by the ``sandbox`` and ``demo`` commands and by tests: it is a server, not part of the tool's
normal path. See :class:`incidentctl.sandbox.sandbox.Sandbox`.
"""

from __future__ import annotations
