"""Tab completion on Click's protocol: what a request answers, from the real runbook and a real journal.

Each request is what a shell's completion function sends (``_INCIDENTCTL_COMPLETE=bash_complete`` and the words
typed so far); the answers are checked as the shell would read them. The journal is made by the real commands.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import RUNBOOK, Invoke
from typer.testing import CliRunner

from incidentctl.cli.app import app
from incidentctl.cli.typercompat import split_arg_string

SHELLS = ("bash", "zsh", "fish")


def _request(words: str, shell: str, env: dict[str, str]) -> dict[str, str]:
    """The environment a shell's completion function passes for the line ``words`` (cursor at its end)."""
    split = split_arg_string(words)
    if shell == "fish":
        current = "" if words.endswith(" ") else split[-1]
        return {**env, "_INCIDENTCTL_COMPLETE": "fish_complete", "COMP_WORDS": words, "COMP_CWORD": current}
    cword = len(split) if words.endswith(" ") else len(split) - 1
    return {**env, "_INCIDENTCTL_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


def _parse(shell: str, out: str) -> list[tuple[str, str]]:
    """(type, value) pairs, read as the shell's script reads them."""
    if shell == "zsh":
        lines = out.split("\n")[:-1]
        assert len(lines) % 3 == 0, out
        return [(lines[i], lines[i + 1].replace("\\:", ":")) for i in range(0, len(lines), 3)]
    pairs = []
    for line in out.splitlines():
        kind, _, rest = line.partition(",")
        pairs.append((kind, rest.split("\t", 1)[0]))
    return pairs


def complete(words: str, *, shell: str = "bash", env: dict[str, str] | None = None) -> list[str]:
    """The plain values offered for ``words`` (in-process, as the console script would answer)."""
    result = CliRunner().invoke(app, [], env=_request(words, shell, env or {}))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return [value for kind, value in _parse(shell, result.stdout) if kind == "plain"]


def complete_types(words: str, *, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    result = CliRunner().invoke(app, [], env=_request(words, "bash", env or {}))
    assert result.exit_code == 0, result.output
    return _parse("bash", result.stdout)


@pytest.fixture(autouse=True)
def _in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell completes in the folder the user is in: here, one with the real runbook and its journal."""
    monkeypatch.chdir(workdir)
    for name in ("INCIDENTCTL_RUNBOOK", "INCIDENTCTL_JOURNAL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def incidents(invoke: Invoke) -> list[str]:
    """Three incidents declared with the real command, into the runbook's journal (``./incidents``)."""
    ids = []
    for title, severity in (("Gateway 5xx", "P2"), ("Slow answers", "P3"), ("Login flood", "P1")):
        result = invoke(["incident", "declare", "--title", title, "--severity", severity])
        assert result.exit_code == 0, result.output
        ids.append(result.stdout.strip())
    return ids


# --- the scripts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_the_completion_command_prints_a_script_that_asks_incidentctl(invoke: Invoke, shell: str) -> None:
    result = invoke(["completion", shell])
    assert result.exit_code == 0, result.output
    assert f"_INCIDENTCTL_COMPLETE={shell}_complete" in result.stdout
    assert "incidentctl" in result.stdout
    assert not re.search(r"(^|[\s;(`])eval\s", result.stdout)  # the answer is read as data, never run


def test_an_unknown_shell_is_a_usage_error_on_one_line(invoke: Invoke) -> None:
    result = invoke(["completion", "tcsh"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "tcsh" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error, and where to look for usage
    assert "Traceback" not in result.stderr


# --- commands and options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_and_options_complete(shell: str) -> None:
    top = complete("incidentctl ", shell=shell)
    assert {"detect", "incident", "investigate", "mitigate", "completion", "sandbox"} <= set(top)
    assert complete("incidentctl inv", shell=shell) == ["investigate"]
    assert set(complete("incidentctl investigate ", shell=shell)) >= {"logs", "errors", "datastores", "changes"}
    assert "--incident" in complete("incidentctl investigate logs --", shell=shell)
    assert "--title" in complete("incidentctl incident declare --t", shell=shell)


def test_zsh_and_fish_show_what_each_command_does() -> None:
    result = CliRunner().invoke(app, [], env=_request("incidentctl ", "zsh", {}))
    lines = result.stdout.split("\n")
    assert lines[lines.index("detect") + 1].startswith("Check every component")
    fish = CliRunner().invoke(app, [], env=_request("incidentctl ", "fish", {}))
    assert any(line.startswith("plain,detect\tCheck every component") for line in fish.stdout.splitlines())


# --- incident ids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_incident_ids_come_from_the_journal_newest_first(incidents: list[str], shell: str) -> None:
    assert complete("incidentctl incident show ", shell=shell) == list(reversed(incidents))
    assert complete("incidentctl investigate logs --incident ", shell=shell) == list(reversed(incidents))


@pytest.mark.parametrize(
    "words",
    [
        "incidentctl incident note ",
        "incidentctl incident status ",
        "incidentctl communicate send initial ",
        "incidentctl communicate done --incident ",
        "incidentctl postmortem draft ",
        "incidentctl postmortem action done ",
        "incidentctl escalate check ",
        "incidentctl detect --incident ",
        "incidentctl mitigate rollback --incident ",
        "incidentctl investigate errors --incident=",
    ],
)
def test_every_command_that_takes_an_incident_completes_its_id(incidents: list[str], words: str) -> None:
    assert set(complete(words)) == set(incidents)


def test_an_id_completes_from_its_prefix_in_any_case(incidents: list[str]) -> None:
    assert complete(f"incidentctl incident show {incidents[0][:-1]}") == list(reversed(incidents))
    assert complete(f"incidentctl incident show {incidents[1]}") == [incidents[1]]
    assert complete(f"incidentctl incident show {incidents[1].lower()}") == [incidents[1]]
    assert complete(f"incidentctl incident show INC-{int(incidents[0][4:8]) - 1}-") == []


def test_incidents_follow_the_journal_the_commands_use(invoke: Invoke, incidents: list[str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "other-journal"
    result = invoke(
        ["incident", "declare", "--title", "Elsewhere", "--severity", "P4"], env={"INCIDENTCTL_JOURNAL": str(elsewhere)}
    )
    assert result.exit_code == 0, result.output
    other = result.stdout.strip()
    assert complete("incidentctl incident show ", env={"INCIDENTCTL_JOURNAL": str(elsewhere)}) == [other]

    # a runbook named on the line (before or after the subcommand) brings its own journal
    team = tmp_path / "team"
    team.mkdir()
    (team / "runbook.yaml").write_text(
        RUNBOOK.read_text(encoding="utf-8").replace("dir: incidents", "dir: records"), encoding="utf-8"
    )
    (team / "records" / "INC-2025-017").mkdir(parents=True)
    (team / "records" / "INC-2025-017" / "timeline.jsonl").write_text("{}\n", encoding="utf-8")
    assert complete(f"incidentctl --runbook {team} incident show ") == ["INC-2025-017"]
    assert complete(f"incidentctl incident show --runbook {team / 'runbook.yaml'} ") == ["INC-2025-017"]
    env_runbook = {"INCIDENTCTL_RUNBOOK": str(team / "runbook.yaml")}
    assert complete("incidentctl incident show ", env=env_runbook) == ["INC-2025-017"]


def test_folders_that_are_not_incidents_are_not_offered(incidents: list[str], workdir: Path) -> None:
    journal = workdir / "incidents"
    for name in ("INC-2026-4", "inc-2026-009", "INC-2026-000", "INC-2026-010 copy", "INC-2026-011;rm -rf ~", "notes"):
        (journal / name).mkdir()
        (journal / name / "timeline.jsonl").write_text("{}\n", encoding="utf-8")
    (journal / "INC-2026-012").mkdir()  # a declaration in progress: no record yet
    (journal / "INC-2026-013").write_text("a file, not a folder\n", encoding="utf-8")
    assert set(complete("incidentctl incident show ")) == set(incidents)


def test_no_journal_or_no_runbook_offers_no_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert complete("incidentctl incident show ") == []  # the runbook's journal folder does not exist yet
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.chdir(bare)
    assert complete("incidentctl incident show ") == []  # no runbook: the commands would not run either
    assert complete("incidentctl incident show ", env={"INCIDENTCTL_JOURNAL": str(bare / "missing")}) == []


def test_a_journal_that_is_not_a_folder_offers_nothing(workdir: Path) -> None:
    (workdir / "incidents").write_text("INC-2026-001\n", encoding="utf-8")
    assert complete("incidentctl incident show ") == []
    assert complete("incidentctl incident show ", env={"INCIDENTCTL_JOURNAL": "/dev/null"}) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_journal_offers_nothing_and_prints_nothing(incidents: list[str], workdir: Path) -> None:
    journal = workdir / "incidents"
    journal.chmod(0)
    try:
        result = CliRunner().invoke(app, [], env=_request("incidentctl incident show ", "bash", {}))
    finally:
        journal.chmod(stat.S_IRWXU)
    assert result.exit_code == 0
    assert result.output == ""


# --- names from the runbook ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("incidentctl detect --component ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl triage -c ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl investigate logs ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl investigate logs gateway ", ["retrieval", "synthesis"]),
        ("incidentctl investigate errors s", ["synthesis"]),
        ("incidentctl investigate datastores ", ["postgres", "redis"]),
        ("incidentctl investigate dependencies ", ["openai", "anthropic"]),
        ("incidentctl mitigate restart ", ["gateway", "retrieval", "synthesis", "postgres", "redis"]),
        ("incidentctl mitigate rollback ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl mitigate scale ", ["gateway=", "retrieval=", "synthesis="]),
        ("incidentctl mitigate verify ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl mitigate circuit-breaker ", ["openai"]),
        ("incidentctl mitigate circuit-breaker openai ", ["open", "close"]),
        ("incidentctl mitigate redirect ", ["standby"]),
        ("incidentctl mitigate redirect standby ", ["on", "off"]),
        ("incidentctl mitigate flush-cache ", ["postgres", "redis"]),
        ("incidentctl incident declare --component ", ["gateway", "retrieval", "synthesis"]),
        ("incidentctl incident declare -s ", ["P1", "P2", "P3", "P4"]),
        (
            "incidentctl incident declare --category security/",
            ["security/authentication", "security/authorization", "security/data-breach", "security/attack"],
        ),
        ("incidentctl escalate incident --to ", ["L1", "L2", "L3", "L4"]),
    ],
)
def test_runbook_names_complete_where_a_command_takes_them(words: str, expected: list[str]) -> None:
    assert complete(words) == expected


def test_names_follow_the_runbook_on_the_line(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        RUNBOOK.read_text(encoding="utf-8").replace("- name: gateway\n", "- name: frontdoor\n", 1), encoding="utf-8"
    )
    assert complete(f"incidentctl --runbook {other} investigate logs ") == ["frontdoor", "retrieval", "synthesis"]
    assert complete(f"incidentctl investigate logs --runbook={other} ") == ["frontdoor", "retrieval", "synthesis"]


def test_without_a_runbook_the_bundled_names_are_offered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert complete("incidentctl investigate logs ") == ["gateway", "retrieval", "synthesis"]
    # a runbook named that does not exist is not the bundled one: nothing
    assert complete(f"incidentctl --runbook {empty / 'nope.yaml'} investigate logs ") == []


# --- fixed choices and scenarios --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("incidentctl -o ", ["table", "json", "yaml", "markdown"]),
        ("incidentctl incident list --output j", ["json"]),
        ("incidentctl incident list --status ", ["investigating", "identified", "monitoring", "resolved"]),
        ("incidentctl incident list -s P", ["P1", "P2", "P3", "P4"]),
        ("incidentctl incident status INC-2026-001 ", ["investigating", "identified", "monitoring", "resolved"]),
        ("incidentctl incident severity INC-2026-001 ", ["P1", "P2", "P3", "P4"]),
        (
            "incidentctl incident note INC-2026-001 --tag ",
            ["root-cause", "contributing-factor", "lesson", "resolution", "impact"],
        ),
        (
            "incidentctl communicate send ",
            ["initial", "update", "resolution", "executive-summary", "status-page", "support", "escalation"],
        ),
        ("incidentctl postmortem complete INC-2026-001 ", ["immediate-review", "detailed-analysis", "action-items"]),
        ("incidentctl mitigate maintenance ", ["on", "off"]),
        ("incidentctl completion ", ["bash", "zsh", "fish"]),
        ("incidentctl demo --scenario bad-", ["bad-deploy", "bad-config"]),
        ("incidentctl sandbox up --scenario t", ["traffic-spike", "total-outage"]),
        ("incidentctl sandbox inject c", ["cache-corruption", "credential-stuffing"]),
        ("incidentctl sandbox fault s", ["slack", "statuspage"]),
    ],
)
def test_fixed_choices_complete(words: str, expected: list[str]) -> None:
    assert complete(words) == expected


def test_paths_are_left_to_the_shell() -> None:
    assert complete_types("incidentctl --runbook ") == [("file", "")]
    assert complete_types("incidentctl detect --junit rep") == [("file", "rep")]
    assert complete_types("incidentctl runbook init ") == [("dir", "")]


# --- a hostile or broken runbook never breaks the shell ----------------------------------------------------------

HOSTILE_NAMES = [
    "two words",
    "line\nbreak",
    "tab\there",
    "bell\x07",
    "esc\x1b[2J",
    "$(touch pwned)",
    "`touch pwned`",
    "a;b",
    "a&b",
    "a|b",
    "a>b",
    "*",
    "?x",
    "[ab]",
    "{a,b}",
    "~root",
    "'quoted'",
    '"quoted"',
    "back\\slash",
    "!history",
    "#comment",
    "caf\u00e9",
    "rtl\u202eevil",
    "-rf",
    "",
]


def _runbook_with_component_names(path: Path, names: list[str]) -> Path:
    import yaml

    data = yaml.safe_load(RUNBOOK.read_text(encoding="utf-8"))
    template = data["components"][0]
    data["components"] = [{**template, "name": name} for name in [*names, "good-one"]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("shell", SHELLS)
def test_names_a_shell_would_expand_or_run_are_never_offered(tmp_path: Path, shell: str) -> None:
    runbook = _runbook_with_component_names(tmp_path / "hostile.yaml", HOSTILE_NAMES)
    assert complete(f"incidentctl --runbook {runbook} investigate logs ", shell=shell) == ["good-one"]


@pytest.mark.parametrize(
    "text",
    [
        "components: [\n",  # a syntax error
        "- just\n- a list\n",
        "",
        "components: 7\ndependencies: {a: b}\ndatastores: [1, [2], {name: [x]}]\n",
        "a: &a [*a]\n",  # an alias inside itself
        "l0: &l0 [a, a, a, a, a, a, a, a, a]\n"
        + "".join(f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]\n" for i in range(1, 30))
        + "components: [*l29]\n",  # a billion laughs
        "[" * 5000,  # nesting deeper than any parser's recursion
        "\udcff",
    ],
    ids=["syntax", "list", "empty", "wrong-shapes", "alias-loop", "alias-bomb", "deep", "not-utf8"],
)
def test_a_broken_runbook_offers_nothing_and_prints_nothing(tmp_path: Path, text: str) -> None:
    runbook = tmp_path / "broken.yaml"
    runbook.write_bytes(text.encode("utf-8", "surrogateescape"))
    for words in ("investigate logs ", "incident show ", "mitigate scale "):
        result = CliRunner().invoke(app, [], env=_request(f"incidentctl --runbook {runbook} {words}", "bash", {}))
        assert result.exit_code == 0
        assert result.output == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_runbook_offers_nothing(workdir: Path) -> None:
    (workdir / "runbook.yaml").chmod(0)
    try:
        result = CliRunner().invoke(app, [], env=_request("incidentctl investigate logs ", "bash", {}))
    finally:
        (workdir / "runbook.yaml").chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.exit_code == 0
    assert result.output == ""


@pytest.mark.parametrize(
    "words",
    [
        "incidentctl detect --bogus --component ",  # a usage error the root group would print
        "incidentctl -o ",
        "incidentctl nosuchcommand ",
        "incidentctl incident show 'unterminated",
        "incidentctl --version ",
        "incidentctl --help ",
    ],
)
def test_a_line_the_commands_would_refuse_answers_only_data(words: str) -> None:
    result = CliRunner().invoke(app, [], env=_request(words, "bash", {}))
    assert result.exit_code == 0
    assert "error" not in result.output.lower()
    assert "Usage" not in result.output
    assert all(line.split(",", 1)[0] in ("plain", "file", "dir") for line in result.output.splitlines())


def test_the_console_script_answers_a_completion_request(incidents: list[str], workdir: Path) -> None:
    """A fresh process, as the shell runs it: the entry point's exit code and output are the protocol's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_")}
    proc = subprocess.run(
        [sys.executable, "-m", "incidentctl"],
        env=_request("incidentctl incident show ", "bash", env),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == [f"plain,{i}" for i in reversed(incidents)]


# --- refs to what an incident recorded -----------------------------------------------------------------------------


@pytest.fixture
def recorded(invoke: Invoke, incidents: list[str], workdir: Path) -> str:
    """Two action items added with the real command, and two mitigations recorded through the journal."""
    from datetime import datetime, timezone

    from incidentctl.core.events import EventKind
    from incidentctl.journal.store import Journal

    incident = incidents[0]
    for text in ("Alert on pool use", "Runbook for the pool"):
        result = invoke(["postmortem", "action", "add", incident, text, "--owner", "alice", "--due", "7d"])
        assert result.exit_code == 0, result.output
    journal = Journal(workdir / "incidents", clock=lambda: datetime.now(timezone.utc), actor="dave")
    for number, component in ((1, "synthesis"), (2, "gateway")):
        data = {"id": f"M{number}", "action": "restart", "summary": f"restart {component}"}
        journal.append(incident, EventKind.MITIGATION_PLANNED, {**data, "targets": [f"deployment/{component}"]})
    return incident


def test_action_item_refs_complete_after_the_incident(recorded: str, incidents: list[str]) -> None:
    assert complete("incidentctl postmortem action done ") == list(reversed(incidents))
    assert complete(f"incidentctl postmortem action done {recorded}/") == [f"{recorded}/A1", f"{recorded}/A2"]
    assert complete(f"incidentctl postmortem action change {recorded}/A2") == [f"{recorded}/A2"]
    assert complete(f"incidentctl postmortem action done {recorded} ") == ["A1", "A2"]
    assert complete(f"incidentctl postmortem action done {incidents[1]} ") == []  # it has none


def test_mitigation_refs_complete_for_undo(recorded: str, incidents: list[str]) -> None:
    assert complete("incidentctl mitigate undo ") == [f"{i}/" for i in reversed(incidents)]
    assert complete(f"incidentctl mitigate undo {recorded}/") == [f"{recorded}/M1", f"{recorded}/M2"]
    assert complete(f"incidentctl mitigate undo --incident {recorded.lower()} ") == ["M1", "M2"]


def test_a_damaged_timeline_gives_the_ids_it_can_still_read(recorded: str, workdir: Path) -> None:
    timeline = workdir / "incidents" / recorded / "timeline.jsonl"
    lines = timeline.read_text(encoding="utf-8").splitlines()
    hostile = '{"time":"x","actor":"x","kind":"action_added","data":{"id":"A3;touch pwned"}}'
    timeline.write_text("\n".join([*lines[:2], "{not json", hostile, *lines[2:]]) + '\n{"torn', encoding="utf-8")
    assert complete(f"incidentctl postmortem action done {recorded} ") == ["A1", "A2"]


def test_zsh_and_fish_show_each_incident_s_title(incidents: list[str]) -> None:
    result = CliRunner().invoke(app, [], env=_request("incidentctl incident show ", "zsh", {}))
    assert result.stdout.split("\n")[:3] == ["plain", incidents[2], "Login flood"]


def test_a_title_never_reaches_the_shell_as_anything_but_one_line_of_text(invoke: Invoke) -> None:
    title = "Gateway\x1b]0;pwned\x07 down\u202e $(touch x)"
    result = invoke(["incident", "declare", "--title", title, "--severity", "P2"])
    assert result.exit_code == 0, result.output
    for shell in ("zsh", "fish"):
        answer = CliRunner().invoke(app, [], env=_request("incidentctl incident show ", shell, {}))
        assert "\x1b" not in answer.stdout
        assert "\x07" not in answer.stdout
        assert "\u202e" not in answer.stdout
    zsh = CliRunner().invoke(app, [], env=_request("incidentctl incident show ", "zsh", {}))
    assert zsh.stdout.split("\n")[:3] == ["plain", result.stdout.strip(), "Gateway ]0;pwned down $(touch x)"]


def test_the_event_kinds_read_are_the_journal_s() -> None:
    from incidentctl.cli import completion_sources
    from incidentctl.core.events import EventKind

    assert completion_sources.DECLARED == EventKind.DECLARED
    assert completion_sources.ACTION_ADDED == EventKind.ACTION_ADDED
    assert completion_sources.MITIGATION_PLANNED == EventKind.MITIGATION_PLANNED
