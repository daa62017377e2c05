"""Load runbook.yaml into the typed model, or fail with problems located at file:line:column.

YAML is parsed once into nodes (which keep their marks) and the plain data is built from those nodes, so every
error (syntax, schema, cross-references) can point at the exact line and column, and duplicate keys (which PyYAML
silently lets the last one win) are caught.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

from incidentctl.errors import RunbookError
from incidentctl.runbook.limits import check_expansion, check_size, read_runbook_text
from incidentctl.runbook.problems import Loc, Problem, RunbookInvalid
from incidentctl.runbook.types import URL_USERINFO

if typing.TYPE_CHECKING:
    import yaml
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

    from incidentctl.runbook.model import Runbook


def load_runbook(path: Path) -> Runbook:
    """Read, parse, validate and cross-check a runbook; raise RunbookInvalid with every problem found."""
    try:
        text = read_runbook_text(path)
    except FileNotFoundError as e:
        raise RunbookError(f"runbook not found: {path}") from e
    except OSError as e:
        raise RunbookError(f"cannot read runbook {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise RunbookError(f"cannot read runbook {path}: not UTF-8 text (byte {e.start})") from e
    return parse_runbook(text, path)


def parse_runbook(text: str, path: Path) -> Runbook:
    from pydantic import ValidationError

    from incidentctl.runbook.model import Runbook
    from incidentctl.runbook.references import check_references

    root = _compose(text, path)
    problems: list[Problem] = []
    data = _to_data(root, (), problems, _constructor())
    if problems:
        raise RunbookInvalid(path, problems)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {_type_name(data)}"
        raise RunbookInvalid(
            path,
            [
                Problem(
                    (),
                    f"expected a mapping of runbook sections, but the file is {kind}",
                    hint="start from `incidentctl runbook init DIR`",
                    line=1,
                    column=1,
                )
            ],
        )
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as e:
        raise RunbookInvalid(path, [_locate(p, root) for p in _schema_problems(e, data)]) from e
    problems = [_locate(p, root) for p in check_references(runbook, path.parent)]
    if problems:
        raise RunbookInvalid(path, problems)
    return runbook


def load_runbook_data(path: Path) -> dict[str, Any]:
    """The runbook as plain data (for tools that rewrite it, such as the sandbox), validated on the way."""
    load_runbook(path)
    root = _compose(read_runbook_text(path), path)
    data = _to_data(root, (), [], _constructor())
    assert isinstance(data, dict)
    return data


# --- YAML -------------------------------------------------------------------------------------------------------


def _compose(text: str, path: Path) -> yaml.Node | None:
    """The node tree, once the file is known to stay within the limits (see ``runbook.limits``)."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)  # libyaml, when PyYAML was built with it: same nodes, same marks
    check_size(len(text), path)
    check_expansion(text, path)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass  # parse again below: the pure-Python parser words syntax errors better
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        hint = "check the indentation of this line and the one above it; quote values that contain ': ' or '#'"
        if "\\t" in problem or "\t" in problem:
            hint = "YAML does not allow tabs for indentation: use spaces"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise RunbookInvalid(path, [Problem((), f"YAML syntax error: {problem}", hint, line, column)]) from e
    except yaml.YAMLError as e:
        raise RunbookInvalid(path, [Problem((), f"YAML syntax error: {e}")]) from e


def _constructor() -> yaml.constructor.SafeConstructor:
    import yaml

    return yaml.constructor.SafeConstructor()


def _to_data(
    node: yaml.Node | None, loc: Loc, problems: list[Problem], constructor: yaml.constructor.SafeConstructor
) -> Any:
    """Build plain Python data from nodes, recording duplicate keys as problems."""
    import yaml

    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        first_seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                _merge(value_node, loc, problems, constructor, merged)
                continue
            key = _to_data(key_node, loc, problems, constructor)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                problems.append(_at(key_node, Problem(loc, "a key must be a plain value")))
                continue
            if key in first_seen:
                seen = first_seen[key].start_mark.line + 1
                problems.append(
                    _at(
                        key_node,
                        Problem(
                            (*loc, str(key)),
                            f"duplicate key {key!r} (first set on line {seen})",
                            hint="remove one of them; YAML would silently keep only the last",
                        ),
                    )
                )
            first_seen[key] = key_node
            result[key] = _to_data(value_node, (*loc, str(key)), problems, constructor)
        return {**merged, **result} if merged else result
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, (*loc, i), problems, constructor) for i, item in enumerate(node.value)]
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as e:  # a tag such as !!python/object that safe loading refuses
        problems.append(_at(node, Problem(loc, f"cannot read this value: {e.problem or e}")))
        return None


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _merge(
    node: yaml.Node,
    loc: Loc,
    problems: list[Problem],
    constructor: yaml.constructor.SafeConstructor,
    into: dict[Any, Any],
) -> None:
    """YAML's merge key (``<<: *defaults``, or a list of them): the keys of each mapping, the earlier mapping
    winning; keys written beside the merge win over all of them (the caller applies those last)."""
    import yaml

    sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            problems.append(_at(source, Problem(loc, "'<<' merges a mapping (or a list of mappings) into this one")))
            continue
        for key, value in _to_data(source, loc, problems, constructor).items():
            into.setdefault(key, value)


def _node_at(root: yaml.Node | None, loc: Loc) -> tuple[yaml.Node | None, yaml.Node | None, bool]:
    """Walk ``loc`` through the node tree: (deepest node reached, its key node, whether the whole path exists)."""
    import yaml

    node, key_node = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node, key_node = v, k
                    break
            else:
                if _discriminator(node) == part:  # pydantic adds the union tag ("slack") to the path
                    continue
                return node, key_node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node, False
    return node, key_node, True


def _discriminator(node: yaml.MappingNode) -> str | None:
    for k, v in node.value:
        if getattr(k, "value", None) == "kind":
            return str(getattr(v, "value", ""))
    return None


def _at(node: yaml.Node | None, problem: Problem) -> Problem:
    if node is None:
        return problem
    mark = node.start_mark
    return Problem(problem.loc, problem.message, problem.hint, mark.line + 1, mark.column + 1, problem.at_key)


def _locate(problem: Problem, root: yaml.Node | None) -> Problem:
    """Attach a line and column: the offending key for unknown keys, else the value, else the nearest parent."""
    if problem.line is not None:
        return problem
    node, key_node, complete = _node_at(root, problem.loc)
    if complete and problem.at_key and key_node is not None:
        return _at(key_node, problem)
    return _at(node if node is not None else root, problem)


# --- schema errors ----------------------------------------------------------------------------------------------


def _schema_problems(error: ValidationError, data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for detail in error.errors(include_url=False):
        loc = _clean_loc(detail["loc"], data)
        problem = _describe(detail, loc, data, is_key="[key]" in detail["loc"])
        if (problem.loc, problem.message) not in seen:
            seen.add((problem.loc, problem.message))
            problems.append(problem)
    return problems


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> Loc:
    """Drop what pydantic adds to a path that is not in the file: union tags and ``[key]`` markers."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _describe(detail: ErrorDetails, loc: Loc, data: dict[str, Any], *, is_key: bool = False) -> Problem:
    kind = detail["type"]
    value = detail.get("input")
    ctx = detail.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(loc[-1])
        valid = _valid_keys(loc[:-1], data)
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else (f"valid keys: {', '.join(valid)}" if valid else None)
        return Problem(loc, f"unknown key {key!r}", hint, at_key=True)
    if kind == "missing":
        return Problem(loc, f"missing required key {loc[-1]!r}")
    if kind in _TYPE_WORDS:
        return Problem(loc, f"expected {_TYPE_WORDS[kind]}, got {_show(value)}")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip().strip("'") for c in str(expected).replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        return Problem(
            loc,
            f"expected one of {', '.join(choices)}, got {_show(value)}",
            f"did you mean {close[0]!r}?" if close else None,
        )
    if kind == "union_tag_invalid":
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = ctx.get("tag")
        close = difflib.get_close_matches(str(tag), tags, n=1, cutoff=0.5)
        return Problem(
            (*loc, "kind"),
            f"unknown kind {tag!r} (expected one of {', '.join(tags)})",
            f"did you mean {close[0]!r}?" if close else None,
        )
    if kind == "union_tag_not_found":
        return Problem(loc, f"missing required key {ctx.get('discriminator', 'kind')!r}".replace("'''", "'"))
    if kind == "string_pattern_mismatch":
        if is_key:
            return Problem(loc, f"{value!r} is not a valid key here (expected {_pattern_words(ctx)})", at_key=True)
        return Problem(loc, f"{_show(value)} is not valid (expected {_pattern_words(ctx)})")
    if kind in ("too_short", "too_long"):
        minimum = ctx.get("min_length")
        what = "item" if isinstance(value, list) else "entry"
        if kind == "too_short":
            return Problem(loc, f"needs at least {minimum} {what}{'s' if minimum != 1 else ''}")
        return Problem(loc, f"is too long (at most {ctx.get('max_length')})")
    if kind == URL_USERINFO:
        return Problem(
            loc,
            detail["msg"],
            "credentials never go into the runbook: send them from a secret reference, {env: NAME} or {file: PATH} "
            "(a check's headers, the service's token)",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return Problem(loc, f"{_show(value)} is out of range ({detail['msg'].lower()})")
    message = detail["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return Problem(loc, message)


def _pattern_words(ctx: dict[str, Any]) -> str:
    pattern = str(ctx.get("pattern", ""))
    if "a-z0-9" in pattern:
        return "lowercase letters, digits and '-', starting and ending with a letter or digit"
    if pattern.startswith("^P"):
        return "a severity id such as P1"
    if pattern.startswith("^L"):
        return "an escalation level id such as L2"
    return f"to match {pattern}"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{_type_name(value)} {value!r}"


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value), type(value).__name__)


def _valid_keys(loc: Loc, data: dict[str, Any]) -> list[str]:
    """The keys the schema allows at ``loc`` (for "did you mean"), found by walking the model's annotations."""
    from pydantic import BaseModel

    from incidentctl.runbook.model import Runbook

    current: Any = Runbook
    node: Any = data
    for part in loc:
        current = _pick_member(_unwrap(current), node)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_alias(current, str(part))
            if field is None:
                return []
            current = field
        else:
            current = _container_item(current)
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
        )
    current = _pick_member(_unwrap(current), node)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _field_by_alias(model: Any, key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _container_item(tp: Any) -> Any:
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple, set) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _pick_member(tp: Any, node: Any) -> Any:
    """For ``X | None`` take X; for a union of channel kinds take the one whose ``kind`` matches the data."""
    import types

    tp = _unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
        kind = node.get("kind") if isinstance(node, dict) else None
        for member in members:
            field = getattr(member, "model_fields", {}).get("kind")
            if field is not None and kind in typing.get_args(field.annotation):
                return member
        return None
    return tp
