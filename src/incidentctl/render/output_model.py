"""The base of every ``-o json|yaml`` result model, and the two kinds of value a typed field cannot describe yet.

A result model is a :class:`~incidentctl.core.wire.WireModel`: snake_case in Python, camelCase on the wire, through
the one alias generator there. It reads the phase's dataclasses by attribute (``from_attributes``), so a field the
output should gain is one line naming the attribute. Every field is always written (a value that is absent is
``null``), so the published schema marks every field required and a script never has to guess between "missing"
and "null".

Free-form mappings (a check's ``observed`` facts, an event's ``data``) are camelCased by :func:`wire_keys` on the
way out: their own field names follow the one style, and the names that are data (a check id, a component, a
Prometheus label) are left as written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import PurePath
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from incidentctl.core.wire import WireModel


class OutputModel(WireModel):
    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)


def _as_utc(value: datetime) -> datetime:
    """Times leave in UTC with a ``Z``, as Kubernetes writes them; a naive time is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


#: A point in time in machine output: RFC 3339, UTC, ``Z``.
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]

#: A field name in a free-form mapping: lowercase words joined by ``_`` (``ready_endpoints``). Anything else (a
#: check id ``http:gateway``, a component ``api-gateway``, an already camelCase name) is data and stays. The
#: runbook's names are DNS labels, so never snake_case; its signal names are, and key only typed maps.
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")

#: Keys whose value is a mapping of someone else's names (Prometheus labels, HTTP headers, Kubernetes
#: annotations): passed through as they are, since ``status_code`` there is a label, not our field.
OPAQUE_KEYS = frozenset({"labels", "headers", "annotations"})


def wire_keys(value: Any) -> Any:
    """A free-form value as JSON-ready data in the one key style (see the module's docstring)."""
    return _plain(value, camel=True)


def _plain(value: Any, *, camel: bool) -> Any:
    if isinstance(value, Enum):  # before str: a str-based enum must still become its plain value
        return _plain(value.value, camel=camel)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return _as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {
            _key(str(k)) if camel else str(k): _plain(v, camel=camel and str(k) not in OPAQUE_KEYS)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, camel=camel) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _key(name: str) -> str:
    """``ready_endpoints`` -> ``readyEndpoints``; a seconds suffix is spelled out (``duration_s`` ->
    ``durationSeconds``), as the typed fields write it."""
    if not _SNAKE.fullmatch(name):
        return name
    if name.endswith("_s"):
        name = name[:-2] + "_seconds"
    return to_camel(name)


def _mapping(value: Any) -> Any:
    """A typed value (a model) where a free-form one is expected reads as its wire document."""
    return value.model_dump(mode="json", by_alias=True) if isinstance(value, BaseModel) else value


#: A free-form mapping in a result model: any JSON object, written through :func:`wire_keys`.
FreeForm = Annotated[
    dict[str, Any],
    BeforeValidator(_mapping),
    PlainSerializer(wire_keys, return_type=dict[str, Any], when_used="always"),
]
