"""(filled in by this module's owner)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: request type -> its use case (see :mod:`incidentctl.phases.postmortem.run`)
HANDLERS: dict[type[Any], Callable[[Any, Any], Any]] = {}
