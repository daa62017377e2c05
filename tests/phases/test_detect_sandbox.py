"""`incidentctl detect` against the sandbox cluster: every scenario's fault is found, exit codes hold, and a
broken or half-forbidden cluster still gives a clear answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

from incidentctl.cli.state import AppState


def _report(result: Any) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert doc["apiVersion"] == "incidentctl/v1"
    assert doc["kind"] == "DetectReport"
    return doc["data"]  # type: ignore[no-any-return]


def _check(data: dict[str, Any], check: str) -> dict[str, Any]:
    found = [c for c in data["checks"] if c["check"] == check]
    assert found, f"no check {check}: {[c['check'] for c in data['checks']]}"
    return found[0]  # type: ignore[no-any-return]


def test_healthy_cluster_exits_0_with_every_part_ok(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "detect", "-o", "json")
    assert result.exit_code == 0, result.output
    data = _report(result)
    assert data["health"] == "ok"
    assert {s["name"] for s in data["subjects"]} >= {
        "gateway",
        "retrieval",
        "synthesis",
        "postgres",
        "redis",
        "openai",
        "anthropic",
    }
    assert all(c["health"] == "ok" for c in data["checks"])
    kinds = {c["kind"] for c in data["checks"]}
    assert kinds >= {"deployment", "pods", "service", "ingress", "http", "dependency", "datastore", "signal", "alerts"}


@pytest.mark.parametrize(
    ("scenario", "check", "health", "needle"),
    [
        ("bad-deploy", "pods:synthesis", "degraded", "CrashLoopBackOff"),
        ("db-outage", "datastore:postgres", "down", "postgres-0"),
        ("dependency-outage", "dependency:openai", "down", "no answer within"),
        ("memory-leak", "pods:retrieval", "down", "OOMKilled"),
        ("traffic-spike", "signal:response_time:gateway", "degraded", "response_time"),
        ("cache-corruption", "alerts:retrieval", "degraded", "CacheValidationFailures"),
    ],
)
def test_each_scenario_is_detected(
    invoke: Invoke, site_for: Callable[..., Site], scenario: str, check: str, health: str, needle: str
) -> None:
    site = site_for(scenario)
    result = run(invoke, site, "detect", "-o", "json")
    assert result.exit_code == 3, result.output
    found = _check(_report(result), check)
    assert found["health"] == health
    assert needle in " ".join([found["summary"], *found["reasons"]])


@pytest.mark.parametrize(
    ("scenario", "check", "failure"),
    [
        ("healthy", "http:gateway", None),
        ("bad-deploy", "pods:synthesis", "crash_loop"),
        ("dependency-outage", "dependency:openai", "timeout"),
        ("memory-leak", "pods:retrieval", "oom_killed"),
        ("traffic-spike", "signal:response_time:gateway", "threshold"),
        ("cache-corruption", "alerts:retrieval", "alerts_firing"),
    ],
)
def test_each_scenario_says_what_failed_as_data(
    invoke: Invoke, site_for: Callable[..., Site], scenario: str, check: str, failure: str | None
) -> None:
    """What failed is a field a script can branch on, not words to search the summary for."""
    site = site_for(scenario)
    data = _report(run(invoke, site, "detect", "-o", "json"))
    assert _check(data, check)["failure"] == failure
    assert all((c["failure"] is None) == (c["health"] == "ok") for c in data["checks"]), [
        (c["check"], c["health"], c["failure"]) for c in data["checks"]
    ]


def test_table_has_a_row_per_component_and_the_findings(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    result = run(invoke, site, "detect")
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "DETAILS"]
    synthesis = next(line for line in lines if line.startswith("synthesis"))
    assert "CrashLoopBackOff" in result.stdout
    assert synthesis.split()[2] in ("DOWN", "DEGRADED")
    assert "Findings" in result.stdout
    assert "problem(s) found" in result.stdout


def test_component_filter_checks_only_that_component(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    result = run(invoke, site, "detect", "--component", "retrieval", "-o", "json")
    data = _report(result)
    components = {s["name"] for s in data["subjects"] if s["kind"] == "component"}
    assert components == {"retrieval"}
    assert result.exit_code == 0  # retrieval and what it uses are fine in bad-deploy


def test_label_selector_picks_components_by_pod_labels(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    data = _report(run(invoke, site, "detect", "-l", "app=gateway", "-o", "json"))
    assert {s["name"] for s in data["subjects"] if s["kind"] == "component"} == {"gateway"}


def test_unknown_component_is_a_usage_error(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = run(invoke, site, "detect", "--component", "gatewya")
    assert result.exit_code == 2
    assert "unknown component 'gatewya'" in result.stderr


def test_stopped_cluster_exits_4_with_one_line(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.stop()
    result = run(invoke, site, "detect")
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: cannot reach the Kubernetes API at http://127.0.0.1:")
    assert "connection refused" in first
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    # what else was tried is still shown (here refused too: the sandbox serves the health endpoints as well)
    assert "kubernetes" in result.stdout
    assert "healthy" not in result.stdout


def test_stopped_cluster_in_json_gives_an_error_envelope(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.stop()
    result = run(invoke, site, "detect", "-o", "json")
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Error"
    assert doc["error"]["reason"] == "Unreachable"
    assert doc["error"]["exitCode"] == 4


def test_forbidden_pods_leave_the_rest_of_the_report(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.forbid("list", "pods")
    result = run(invoke, site, "detect", "-o", "json")
    assert result.exit_code == 3
    data = _report(result)
    pods = _check(data, "pods:gateway")
    assert pods["health"] == "unknown"
    assert "forbidden" in pods["summary"]
    assert "HTTP 403" in pods["summary"]
    assert _check(data, "deployment:gateway")["health"] == "ok"
    assert _check(data, "http:gateway")["health"] == "ok"
    assert _check(data, "datastore:postgres")["health"] == "unknown"


def test_everything_forbidden_is_unauthorized_exit_4(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    for resource in ("deployments", "pods", "services", "endpoints", "ingresses"):
        site.sandbox.faults.forbid("list", resource)
    result = run(invoke, site, "detect")
    assert result.exit_code == 4
    assert "forbidden" in result.stderr.splitlines()[0]


def test_api_errors_are_retried(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.errors(503, count=2)
    site.sandbox.faults.rate_limit(retry_after=1, count=1)
    result = run(invoke, site, "detect", "-o", "json")
    assert result.exit_code == 0, result.output
    assert _report(result)["health"] == "ok"


def test_junit_report_for_ci(invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path) -> None:
    site = site_for("db-outage")
    junit = tmp_path / "detect.xml"
    result = run(invoke, site, "detect", "--junit", str(junit))
    assert result.exit_code == 3
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["datastore:postgres"].find("failure") is not None
    assert cases["deployment:gateway"].find("failure") is None
    assert int(root.get("failures", "0")) >= 1
    assert int(root.get("tests", "0")) == len(cases)


def test_open_incident_gets_what_detect_saw(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    declared = run(invoke, site, "incident", "declare", "--title", "retrieval errors", "--severity", "P2")
    incident_id = declared.stdout.strip()
    result = run(invoke, site, "detect")
    assert result.exit_code == 3
    assert f"recorded in {incident_id}" in result.stderr
    timeline = json.loads(run(invoke, site, "incident", "timeline", incident_id, "-o", "json").stdout)
    detected = [e for e in timeline["data"]["events"] if e["kind"] == "detected"]
    assert len(detected) == 1
    data = detected[0]["data"]
    assert data["subjects"]["postgres"] == "down"
    assert "postgres down" in data["summary"]
    assert any(p.startswith("datastore:postgres") for p in data["problems"])


class _Rounds:
    """Stands in for the wait between ``--watch`` rounds: runs a step after each round, then Ctrl-C."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        self.steps = list(steps)
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if not self.steps:
            raise KeyboardInterrupt
        self.steps.pop(0)()


def test_watch_reports_every_round_and_records_only_changes(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    incident_id = run(invoke, site, "incident", "declare", "--title", "slow answers", "--severity", "P3").stdout.strip()

    def outage() -> None:
        site.sandbox.inject("db-outage")
        site.sandbox.advance(120)

    rounds = _Rounds(outage, lambda: None)
    result = invoke(site.args("detect", "--watch", "-o", "json"), state=AppState(sleep=rounds))
    assert result.exit_code == 3, result.output  # what the last round saw
    assert rounds.waits == [10.0, 10.0, 10.0]  # a bare --watch waits the default interval
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["kind"] for r in reports] == ["DetectReport"] * 3
    assert [r["data"]["health"] for r in reports] == ["ok", "down", "down"]
    timeline = json.loads(run(invoke, site, "incident", "timeline", incident_id, "-o", "json").stdout)
    detected = [e["data"]["summary"] for e in timeline["data"]["events"] if e["kind"] == "detected"]
    assert len(detected) == 2  # healthy, then the outage; the unchanged third round adds nothing
    assert "postgres down" in detected[1]


@pytest.mark.parametrize(("args", "wait"), [(["--watch", "3"], 3.0), (["-w2"], 2.0), (["--watch=1.5"], 1.5)])
def test_watch_takes_an_optional_interval(
    invoke: Invoke, site_for: Callable[..., Site], args: list[str], wait: float
) -> None:
    site = site_for("healthy")
    rounds = _Rounds()
    result = invoke(site.args("detect", *args, "-o", "json"), state=AppState(sleep=rounds))
    assert result.exit_code == 0, result.output
    assert rounds.waits == [wait]
    assert len(result.stdout.splitlines()) == 1


def test_watch_refuses_an_interval_under_a_second(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    result = run(invoke, site_for("healthy"), "detect", "--watch", "0.5")
    assert result.exit_code == 2
    assert "--watch" in result.output


def test_watch_rides_out_a_cluster_outage(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    rounds = _Rounds(site.sandbox.stop, site.sandbox.start)
    result = invoke(site.args("detect", "-w", "-o", "json"), state=AppState(sleep=rounds))
    assert result.exit_code == 0, result.output  # the API came back and the last round was healthy
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["kind"] for d in docs] == ["DetectReport", "Error", "DetectReport"]
    assert docs[1]["error"]["exitCode"] == 4
    assert "cannot reach the Kubernetes API" in docs[1]["error"]["message"]
    assert "Traceback" not in result.output


def test_watch_in_yaml_gives_one_document_per_round(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    result = invoke(site.args("detect", "-w", "-o", "yaml"), state=AppState(sleep=_Rounds(lambda: None)))
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in docs] == ["DetectReport", "DetectReport"]


def test_watch_off_a_terminal_prints_every_round_in_turn(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    """`detect --watch | tee watch.log`: each round (and the outage between) is in the log, in order."""
    site = site_for("healthy")
    rounds = _Rounds(site.sandbox.stop, site.sandbox.start)
    result = invoke(site.args("detect", "--watch", "5"), state=AppState(sleep=rounds))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("healthy at ") == 3  # two healthy rounds, and the last picture shown during the outage
    assert out.index("error at ") < out.index("last seen at ") < out.rindex("healthy at ")
    assert "cannot reach the Kubernetes API" in out
    assert "trying again every 5s" in out
