"""The one base for every value that leaves the tool as machine output (``-o json|yaml``, journal payloads).

Python names stay snake_case; what is written is camelCase, as kubectl and the Kubernetes API write it, through
the one alias generator here. A model is frozen (a result is a record of what was seen, not a thing to edit) and
accepts either spelling on input, so a document written by the tool reads back into the same model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready document: camelCase keys, RFC 3339 times, enums as their values."""
        return self.model_dump(mode="json", by_alias=True)
