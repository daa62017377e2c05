"""The README and docs/*.md as a newcomer reads them: the generated references are what the code says now, every
`incidentctl ...` line in the README's code blocks parses against the real command tree, and the markdown holds
together (headings in order, tables whole, links that lead somewhere, diagrams that draw)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import typer.main
from tests.docs_check import markdown_structure, mermaid_problems

from incidentctl import docs_reference
from incidentctl.cli.app import app
from incidentctl.cli.typercompat import ClickException, Context

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md"))]


# --- the generated blocks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("file", "name"), list(docs_reference.BLOCKS))
def test_each_generated_block_is_what_the_code_says_now(file: str, name: str) -> None:
    text = (REPO / file).read_text(encoding="utf-8")
    committed = docs_reference.current_block(text, name)
    assert committed is not None, (
        f"{file}: no `<!-- generated: {name} -->` block; add its markers, then run `nox -s docs`"
    )
    expected = docs_reference.rendered_block(name, docs_reference.BLOCKS[(file, name)])
    assert committed == expected, f"{file}: the generated {name} block is out of date: run `nox -s docs`"


def test_the_generated_text_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = {block: render() for block, render in docs_reference.BLOCKS.items()}
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("NO_COLOR", "1")
    assert {block: render() for block, render in docs_reference.BLOCKS.items()} == wide


def test_a_block_edited_by_hand_is_found_and_rewritten(tmp_path: Path) -> None:
    for file in {f for f, _ in docs_reference.BLOCKS}:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text((REPO / file).read_text(encoding="utf-8"), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("| 3 | `PROBLEMS_FOUND`", "| 3 | `PROBLEMS`"))
    assert docs_reference.stale_blocks(tmp_path) == ["README.md: exit-codes"]
    assert docs_reference.write_blocks(tmp_path) == ["README.md"]
    assert docs_reference.stale_blocks(tmp_path) == []
    assert readme.read_text(encoding="utf-8") == README.read_text(encoding="utf-8")


def test_the_check_mode_fails_and_says_how_to_fix_a_stale_block(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert docs_reference.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"out of date: {file}: {name}; {docs_reference.REGENERATE}" for file, name in docs_reference.BLOCKS]
    assert "run `nox -s docs`" in docs_reference.REGENERATE
    assert docs_reference.main(["--check"]) == 0


def _toy_app() -> typer.Typer:
    toy = typer.Typer(name="toy", help="A toy.")

    @toy.command("shown")
    def shown(
        target: str = typer.Argument(..., help="What to act on."),
        since: str = typer.Option("1h", "--since", help="How far back."),
        secret: bool = typer.Option(False, "--secret", hidden=True, help="Not for users."),
    ) -> None:
        """Do the thing."""

    @toy.command("kept-quiet", hidden=True)
    def kept_quiet() -> None:
        """Hidden."""

    group = typer.Typer(help="A group.")

    @group.command("inner")
    def inner(count: int = typer.Option(3, "--count", help="How many.")) -> None:
        """The inner one."""

    toy.add_typer(group, name="group")
    return toy


def test_the_command_reference_holds_every_visible_command_with_its_defaults_and_never_a_hidden_one() -> None:
    docs = {d.path: d for d in docs_reference.walk_commands(_toy_app(), "toy")}
    assert list(docs) == ["toy", "toy shown", "toy group", "toy group inner"]
    shown = docs["toy shown"]
    assert shown.usage.startswith("toy shown [OPTIONS] ")
    assert shown.help == "Do the thing."
    assert shown.arguments == [("TARGET", "What to act on.  [required]")]
    options = dict(shown.options)
    assert "--since" in " ".join(options)
    assert any("[default: 1h]" in h for h in options.values())
    assert not any("--secret" in o for o in options)
    assert any("[default: 3]" in h for h in dict(docs["toy group inner"].options).values())


def test_the_real_reference_lists_every_command_of_the_tree() -> None:
    text = (REPO / docs_reference.COMMANDS_DOC).read_text(encoding="utf-8")
    headings = {h.text for h in markdown_structure(text).headings}
    root = typer.main.get_command(app)

    def paths(cmd: typer.core.TyperGroup, prefix: str) -> list[str]:
        found = []
        ctx = Context(cmd, info_name=prefix.rsplit(" ", 1)[-1])
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            found.append(f"{prefix} {name}")
            if isinstance(sub, typer.core.TyperGroup):
                found += paths(sub, f"{prefix} {name}")
        return found

    assert isinstance(root, typer.core.TyperGroup)
    expected = paths(root, "incidentctl")
    assert "incidentctl mitigate rollback" in expected
    assert [p for p in expected if p not in headings] == []


def test_the_runbook_reference_has_every_key_of_the_schema() -> None:
    keys = {k.path for k in docs_reference.runbook_keys()}
    # a key at each depth and shape: top level, nested object, list item, map entry, one shape of a union
    for path in (
        "cluster.namespace",
        "components[].health.timeout",
        "triage.rules[].when[].threshold",
        "communication.channels.<name> (SlackChannel).bot_token",
        "mitigation.guardrails",
    ):
        assert path in keys, sorted(keys)
    timeout = next(k for k in docs_reference.runbook_keys() if k.path == "components[].health.timeout")
    assert timeout.default
    assert not timeout.required


def test_every_exit_code_and_output_kind_is_in_the_readme() -> None:
    from incidentctl.exitcodes import ExitCode
    from incidentctl.render.output_kinds import kind_names

    structure = markdown_structure(README.read_text(encoding="utf-8"))
    [codes] = structure.section_tables("Exit codes")
    assert [row[0] for row in codes.rows] == [str(int(c)) for c in ExitCode]
    kinds = [t for t in structure.section_tables("JSON output") if t.header[0] == "kind"]
    assert [row[0].strip("`") for row in kinds[0].rows] == kind_names()


# --- the command lines in the README ------------------------------------------------------------------------------

#: what may come before a command on its line: a prompt, a YAML step, a variable taking its output
_LEAD = re.compile(r"^(?:\$ |- run: |run: |- |[A-Z_]+=\$\()+")
_SHELL_OPERATORS = {";", "&&", "||", "|", ">", ">>", "<", "2>", ")", "&"}


def readme_command_lines(text: str) -> list[tuple[int, list[str]]]:
    """Each ``incidentctl ...`` command in the README's fenced blocks (not JSON), with its line, as argv after
    ``incidentctl``: the line after its prompt or YAML key, up to the first shell operator or comment."""
    found: list[tuple[int, list[str]]] = []
    for fence in markdown_structure(text).fences:
        if fence.info in ("json", "mermaid", "python"):
            continue
        for offset, raw in enumerate(fence.content.splitlines(), start=1):
            line = _LEAD.sub("", raw.strip())
            if not line.startswith("incidentctl "):
                continue
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
            lexer.whitespace_split = True
            words = []
            for word in lexer:
                if word in _SHELL_OPERATORS or word.startswith(("&", "|", ">", ";", ")")):
                    break
                words.append(word)
            found.append((fence.line + offset, words[1:]))
    return found


def parse_command_line(argv: list[str]) -> str | None:
    """Parse ``incidentctl ARGV`` with Click as a run would, down to the command it names, without running it;
    the usage error, or None when it parses."""
    root = typer.main.get_command(app)
    try:
        ctx = root.make_context("incidentctl", list(argv))
        cmd: object = root
        while isinstance(cmd, typer.core.TyperGroup):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                if cmd.invoke_without_command:
                    return None
                return f"{ctx.command_path}: a subcommand is missing"
            name, sub, rest = cmd.resolve_command(ctx, rest)
            assert sub is not None
            assert name is not None
            ctx = sub.make_context(name, rest, parent=ctx)
            cmd = sub
    except typer.Exit as done:  # --help, --version: parsed; a usage error: reported, exit 2
        return None if done.exit_code == 0 else f"exit {done.exit_code}"
    except ClickException as err:
        return err.format_message()
    return None


def test_the_readme_shows_commands_in_the_places_that_matter() -> None:
    lines = [" ".join(argv) for _, argv in readme_command_lines(README.read_text(encoding="utf-8"))]
    assert "demo" in lines
    assert "detect -o json --junit report.xml" in lines
    assert "communicate due" in lines
    assert "postmortem status" in lines
    assert any(line.startswith("sandbox inject") for line in lines)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (["detect", "--junit-file", "r.xml"], "--junit-file"),  # a renamed option
        (["mitigate", "rollbak", "synthesis"], "rollbak"),  # a renamed command
        (["incident", "note"], "ID"),  # a missing argument
        (["sandbox", "fault", "slack", "--status", "200"], "--status"),  # a value out of its range
    ],
)
def test_a_command_line_that_no_longer_parses_is_caught(line: list[str], problem: str) -> None:
    error = parse_command_line(line)
    assert error is not None
    assert problem in error


def test_every_incidentctl_command_line_in_the_readme_parses() -> None:
    text = README.read_text(encoding="utf-8")
    problems = [
        f"README.md:{line}: incidentctl {shlex.join(argv)}: {error}"
        for line, argv in readme_command_lines(text)
        if (error := parse_command_line(argv)) is not None
    ]
    assert problems == []


# --- markdown structure -------------------------------------------------------------------------------------------


def _anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in markdown_structure(text).headings:
        slug = docs_reference.anchor(re.sub(r"`", "", heading.text))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_the_document_holds_together(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    structure = markdown_structure(text)
    problems = []
    levels = [h.level for h in structure.headings]
    if levels[:1] != [1] or levels.count(1) != 1:
        problems.append("one # title, first")
    for before, heading in zip(structure.headings, structure.headings[1:], strict=False):
        if heading.level > before.level + 1:
            problems.append(f"line {heading.line}: {heading.text!r} skips a level after {before.text!r}")
    for t in structure.tables:
        problems += [
            f"line {t.line}: a row of {len(r)} cells under {len(t.header)}" for r in t.rows if len(r) != len(t.header)
        ]
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, fragment = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            problems.append(f"link to {target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in _anchors(linked.read_text(encoding="utf-8")):
            problems.append(f"link to {target}: no such heading")
    assert problems == []


def test_the_readme_diagram_draws() -> None:
    assert mermaid_problems(README.read_text(encoding="utf-8")) == []


def test_the_readme_reads_in_the_order_a_newcomer_needs() -> None:
    outline = [h.text for h in markdown_structure(README.read_text(encoding="utf-8")).headings if h.level == 2]
    order = ["Install", "The demo", "Drills: a cluster to practise on", "Command reference", "runbook.yaml reference"]
    order += ["JSON output", "Exit codes", "CI examples"]
    assert [h for h in outline if h in order] == order
    assert outline.index("Performance") > outline.index("CI examples")
    assert outline[-1] == "Development"


def test_the_first_screen_has_both_setup_commands_and_ci_runs_the_same_test_command() -> None:
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:25])
    assert "pip install . && incidentctl demo" in first_screen
    test_command = "python3 -m pip install nox && python3 -m nox"
    assert test_command in first_screen
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == test_command
