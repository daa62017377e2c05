"""The sandbox suites use the reusable fixtures that later suites (detect, triage) use too."""

from __future__ import annotations

from incidentctl.sandbox.testing import kubectl, sandbox, sandbox_factory

__all__ = ["kubectl", "sandbox", "sandbox_factory"]
