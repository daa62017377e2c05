"""How mitigations read in ``incident timeline`` (table and markdown) and ``incident show``: one line each that says
which mitigation, what it did and how it ended, from the events a real run records."""

from __future__ import annotations

from collections.abc import Callable

from tests.mitigate.conftest import Drill, advancing


def test_each_mitigation_event_reads_as_one_plain_line(drill: Callable[..., Drill]) -> None:
    d = drill("memory-leak")
    incident = d.declare()
    assert d.run("mitigate", "restart", "postgres").exit_code == 5  # destructive without --reason
    no = advancing(d.sandbox, confirm=lambda _question: False)
    assert d.run("mitigate", "restart", "retrieval", state=no).exit_code == 5
    assert d.run("--yes", "mitigate", "restart", "retrieval", "--reason", "leak").exit_code == 0
    d.sandbox.faults.forbid("patch", "deployments", count=1)
    assert d.run("--yes", "mitigate", "restart", "gateway", "--no-verify").exit_code == 4
    assert d.run("mitigate", "verify", "gateway").exit_code == 0

    table = d.run("incident", "timeline", incident)
    assert table.exit_code == 0, table.output
    expected = [
        "mitigation refused by guardrail destructive: restart statefulset/postgres: restart on postgres cannot be "
        "undone and needs a reason; nothing was changed",
        "mitigation not confirmed: restart deployment/retrieval (the responder said no); nothing was changed",
        "mitigation M1 planned: restart deployment/retrieval; reason: leak",
        "mitigation M1 applied: restart deployment/retrieval (1 write)",
        "mitigation M1 verified (retrieval): healthy",
        "mitigation M2 planned: restart deployment/gateway",
        "mitigation M2 failed (restart deployment/gateway)",
        "verified gateway: healthy",
    ]
    flat = " ".join(table.stdout.split())
    for line in expected:
        assert " ".join(line.split()) in flat, line

    markdown = d.run("incident", "timeline", incident, "-o", "markdown")
    assert markdown.exit_code == 0, markdown.output
    lines = [line for line in markdown.stdout.splitlines() if "mitigation" in line or "verified" in line]
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        assert want in line, (line, want)
    assert "HTTP 403" in lines[6]
    assert lines[6].endswith("nothing was changed (tester)")

    shown = d.run("incident", "show", incident)
    assert shown.exit_code == 0, shown.output
    assert "verified gateway: healthy" in shown.stdout
    assert "mitigation M2 failed" in shown.stdout
