"""The reference parts of README.md and docs/*.md, generated from the code they describe so they cannot drift.

Each generated part sits between two marker comments in a markdown file::

    <!-- generated: commands -->
    ...
    <!-- end generated -->

and is rendered here from its single source: the command reference from the Typer app (every command and group
that is not hidden, its usage, arguments and options with their help and defaults), the runbook.yaml reference
from the runbook's JSON Schema (``incidentctl runbook schema``), the output kinds from
:data:`incidentctl.render.output_kinds.KINDS` and the files in ``schemas/output/``, the exit codes from
:class:`incidentctl.exitcodes.ExitCode` (their comments, read from the source), and the drill scenarios from
:data:`incidentctl.sandbox.scenarios.SCENARIOS`.

``python -m incidentctl.docs_reference`` (``nox -s docs``) rewrites the blocks in place; ``--check`` only says
which ones differ, and ``tests/test_docs_reference.py`` fails the same way. It lives in the package, beside what
it reads, so that mypy and ruff hold it to the code's standard and the test imports it like any other module; no
command imports it, so it costs the CLI's start-up nothing.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

#: The repository's root, where README.md and docs/ are (the package is in src/incidentctl/).
REPO = Path(__file__).resolve().parents[2]
BEGIN = "<!-- generated: {name} -->"
END = "<!-- end generated -->"
#: How to bring the generated text up to date; the test's failure says it.
REGENERATE = "run `nox -s docs` (or `python -m incidentctl.docs_reference`)"
#: The full command reference, linked from the README's summary.
COMMANDS_DOC = "docs/commands.md"
RUNBOOK_DOC = "docs/runbook.md"


# --- markdown helpers ---------------------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Text made safe for one GitHub table cell: one line, pipes escaped, docstrings' ````code```` as markdown's."""
    return re.sub(r"``(.+?)``", r"`\1`", " ".join(text.split())).replace("|", "\\|")


def code(text: str) -> str:
    """Inline code that survives a table cell, whatever backticks the text holds."""
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


# --- the command reference ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandDoc:
    path: str
    usage: str
    help: str
    short_help: str
    is_group: bool
    arguments: list[tuple[str, str]]
    options: list[tuple[str, str]]


def walk_commands(typer_app: typer.Typer | None = None, name: str = "incidentctl") -> Iterator[CommandDoc]:
    """Every visible command and group under ``name`` (incidentctl's own tree unless another app is given), depth
    first, in the order ``--help`` lists them."""
    import typer.main
    from typer.core import TyperArgument

    from incidentctl.cli.typercompat import Context

    if typer_app is None:
        from incidentctl.cli.app import app

        typer_app = app
    root = typer.main.get_command(typer_app)

    def visit(cmd: Any, ctx: Context) -> Iterator[CommandDoc]:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in cmd.get_params(ctx):
            if getattr(param, "hidden", False):
                continue
            record = param.get_help_record(ctx)
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                arguments.append((name, (getattr(param, "help", None) or "") if record is None else record[1]))
            elif record is not None:
                options.append(record)
        usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])  # not wrapped to the terminal
        help_text = inspect.cleandoc(cmd.help or "")
        is_group = hasattr(cmd, "list_commands")
        yield CommandDoc(
            ctx.command_path, usage, help_text, cmd.get_short_help_str(limit=200), is_group, arguments, options
        )
        if is_group:
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is None or sub.hidden:
                    continue
                yield from visit(sub, Context(sub, info_name=name, parent=ctx))

    yield from visit(root, Context(root, info_name=name))


def commands_reference() -> str:
    """docs/commands.md: each command's usage, what it is for, its arguments and options."""
    parts: list[str] = []
    for doc in walk_commands():
        level = "#" * min(2 + doc.path.count(" "), 4)
        parts.append(f"{level} {doc.path}")
        parts.append(f"```\n{doc.usage}\n```")
        if doc.help:
            parts.append(doc.help)
        if doc.arguments:
            parts.append(table(["argument", "meaning"], [[code(n), cell(h)] for n, h in doc.arguments]))
        if doc.options:
            parts.append(table(["option", "meaning"], [[code(o), cell(h)] for o, h in doc.options]))
    return "\n\n".join(parts)


def commands_summary() -> str:
    """The README's table of the top-level commands, each with its subcommands, linked to docs/commands.md."""
    docs = list(walk_commands())
    rows = []
    for doc in docs:
        if doc.path.count(" ") != 1:
            continue
        subs = [d.path for d in docs if d.path.startswith(doc.path + " ") and d.path.count(" ") == 2]
        links = ", ".join(f"[{s.rsplit(' ', 1)[1]}]({COMMANDS_DOC}#{anchor(s)})" for s in subs)
        rows.append([f"[{code(doc.path)}]({COMMANDS_DOC}#{anchor(doc.path)})", cell(doc.short_help), links])
    return table(["command", "what it does", "subcommands"], rows)


# --- the runbook.yaml reference -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyDoc:
    path: str
    type: str
    required: bool
    default: str
    description: str


def _describe_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "object"
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return " | ".join(f"`{v}`" for v in schema["enum"])
    for union in ("anyOf", "oneOf"):
        if union in schema:
            kinds = [_describe_type(s, defs) for s in schema[union] if s.get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_describe_type(schema.get('items', {}), defs)}"
    if kind == "object" and ("additionalProperties" in schema or "patternProperties" in schema):
        return "map"
    return str(kind)


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return name, defs[name]
    return None, schema


def _objects_below(schema: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The object schemas a key's value can hold, each with the suffix its keys are written after (``[]`` for a
    list item, ``.<name>`` for a map's entry) and its model's name."""
    found: list[tuple[str, str | None, dict[str, Any]]] = []
    for union in ("anyOf", "oneOf"):
        for option in schema.get(union, []):
            found += _objects_below(option, defs)
    name, target = _deref(schema, defs)
    if name is not None:
        return [("", name, target)]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return [("[]", n, s) for suffix, n, s in _objects_below(schema["items"], defs) if not suffix]
    values = [schema["additionalProperties"]] if isinstance(schema.get("additionalProperties"), dict) else []
    values += list(schema.get("patternProperties", {}).values())
    for value in values:
        found += [(".<name>", n, s) for suffix, n, s in _objects_below(value, defs) if not suffix]
    return found


def runbook_keys() -> list[KeyDoc]:
    """Every key runbook.yaml may hold, depth first, from the schema ``incidentctl runbook schema`` prints."""
    import json

    from incidentctl.runbook.schema import runbook_json_schema

    schema = runbook_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    keys: list[KeyDoc] = []

    def visit(obj: dict[str, Any], prefix: str, seen: tuple[str, ...]) -> None:
        required = set(obj.get("required", []))
        for key, prop in obj.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            below = _objects_below(prop, defs)
            description = prop.get("description") or next((s.get("description", "") for _, _, s in below), "")
            default = "" if key in required or "default" not in prop else json.dumps(prop["default"])
            keys.append(KeyDoc(path, _describe_type(prop, defs), key in required, default, description))
            variants = [b for b in below if b[1] not in seen]
            for suffix, name, target in variants:
                where = path + suffix
                if len(variants) > 1 and name is not None:
                    where += f" ({name})"
                visit(target, where, (*seen, name or ""))

    visit(schema, "", ())
    return keys


def runbook_reference() -> str:
    """docs/runbook.md: a section per top-level key, one table row per key below it."""
    parts: list[str] = []
    keys = runbook_keys()
    for top in [k for k in keys if "." not in k.path and "[" not in k.path]:
        inner = [k for k in keys if k.path.startswith((f"{top.path}.", f"{top.path}["))]
        parts.append(f"## {top.path}")
        kind = f"{top.type}, {'required' if top.required else 'optional'}"
        if top.default:
            kind += f", default {code(top.default)}"
        parts.append(f"{kind}. {cell(top.description)}".strip())
        if inner:
            rows = [
                [
                    code(k.path),
                    cell(k.type),
                    "yes" if k.required else "",
                    code(k.default) if k.default else "",
                    cell(k.description),
                ]
                for k in inner
            ]
            parts.append(table(["key", "type", "required", "default", "description"], rows))
    return "\n\n".join(parts)


def runbook_summary() -> str:
    """The README's table of runbook.yaml's top-level sections, each linked to its keys in docs/runbook.md."""
    keys = runbook_keys()
    rows = []
    for key in keys:
        if "." in key.path or "[" in key.path:
            continue
        children = re.compile(rf"{re.escape(key.path)}(\[\])?(\.<name>)?(?: \(\w+\))?\.([a-z_]+)$")
        below = dict.fromkeys(m.group(3) for k in keys if (m := children.match(k.path)))
        link = f"[{code(key.path)}]({RUNBOOK_DOC}#{anchor(key.path)})" if below else code(key.path)
        holds = " ".join(filter(None, [cell(key.description), f"Keys: {', '.join(below)}." if below else ""]))
        rows.append([link, "yes" if key.required else "", holds or cell(key.type)])
    return table(["section", "required", "what it holds"], rows) + (
        f"\n\nEvery key, with its type, default and meaning: [{RUNBOOK_DOC}]({RUNBOOK_DOC})."
    )


# --- output kinds, exit codes, scenarios --------------------------------------------------------------------------


def output_kinds() -> str:
    """The README's table of ``-o json`` document kinds, each with its published schema file."""
    from incidentctl.render import output_kinds as kinds

    rows = []
    for kind in kinds.kind_names():
        schema = f"schemas/output/{kind}.schema.json"
        if not (REPO / schema).is_file():
            raise FileNotFoundError(f"{schema}: no published schema for output kind {kind}")
        rows.append([code(kind), cell(kinds.description(kind)), f"[{kind}.schema.json]({schema})"])
    return table(["kind", "what it is", "schema"], rows)


def exit_code_comments() -> dict[str, str]:
    """Each ExitCode member's ``#:`` comment, read from exitcodes.py: the one place the meanings are written."""
    from incidentctl import exitcodes

    source = Path(exitcodes.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    comments: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            text: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                text.insert(0, lines[row].strip().removeprefix("#:").strip())
                row -= 1
            comments[node.targets[0].id] = " ".join(text)
    return comments


def exit_codes() -> str:
    from incidentctl.exitcodes import ExitCode

    comments = exit_code_comments()
    rows = [[str(int(code_)), code(code_.name), cell(comments.get(code_.name, ""))] for code_ in ExitCode]
    return table(["code", "name", "meaning"], rows)


def scenarios() -> str:
    """The drill scenarios: what each plays, what a responder sees, and the fix it teaches."""
    import shlex

    from incidentctl.sandbox.scenarios import SCENARIOS

    rows = []
    for scenario in SCENARIOS.values():
        fix = code("incidentctl " + shlex.join(scenario.fix)) if scenario.fix else "nothing to fix"
        rows.append([code(scenario.name), cell(scenario.summary), cell(scenario.symptoms), fix])
    return table(["scenario", "what it plays", "what a responder sees", "the fix it teaches"], rows)


# --- the blocks and where they are --------------------------------------------------------------------------------

#: (file relative to the repository, block name) -> what renders it
BLOCKS: dict[tuple[str, str], Callable[[], str]] = {
    ("README.md", "scenarios"): scenarios,
    ("README.md", "commands"): commands_summary,
    ("README.md", "runbook"): runbook_summary,
    ("README.md", "output-kinds"): output_kinds,
    ("README.md", "exit-codes"): exit_codes,
    (COMMANDS_DOC, "commands"): commands_reference,
    (RUNBOOK_DOC, "runbook"): runbook_reference,
}


def block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(BEGIN.format(name=name)) + r"\n(.*?)" + re.escape(END), re.DOTALL)


def current_block(text: str, name: str) -> str | None:
    """The generated text now between the block's markers, or None when the markers are missing."""
    match = block_pattern(name).search(text)
    return None if match is None else match.group(1)


def rendered_block(name: str, render: Callable[[], str]) -> str:
    return f"\n{render().strip()}\n\n"


def rewrite(text: str, name: str, body: str) -> str:
    pattern = block_pattern(name)
    if pattern.search(text) is None:
        raise ValueError(f"no {BEGIN.format(name=name)} ... {END} markers")
    return pattern.sub(lambda _: f"{BEGIN.format(name=name)}\n{body}{END}", text, count=1)


def stale_blocks(root: Path = REPO) -> list[str]:
    """``file: block`` for each generated block whose committed text is not what the code renders now."""
    stale = []
    for (file, name), render in BLOCKS.items():
        path = root / file
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current_block(text, name) != rendered_block(name, render):
            stale.append(f"{file}: {name}")
    return stale


def write_blocks(root: Path = REPO) -> list[str]:
    """Rewrite every generated block in place; returns the files that changed."""
    changed: list[str] = []
    for (file, name), render in BLOCKS.items():
        path = root / file
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, name, rendered_block(name, render))
        if new != text:
            path.write_text(new, encoding="utf-8")
            if file not in changed:
                changed.append(file)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m incidentctl.docs_reference", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say which generated blocks are out of date")
    parser.add_argument("--root", type=Path, default=REPO, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_blocks(args.root)
        for block in stale:
            print(f"out of date: {block}; {REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    for file in write_blocks(args.root):
        print(f"rewrote {file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
