"""No secret the runbook names reaches what a mitigation records or prints: the plan shown, its diff, the state
before and after, the dry run's answer, the journal, ``-o json``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from tests.mitigate.conftest import Drill, advancing

from incidentctl.adapters.kube import KubeClient
from incidentctl.cli.mitigate_common import build_request, run_and_show
from incidentctl.core.mitigation import Change, ObjectRef, Plan, Undo, Write, unified_diff
from incidentctl.errors import IncidentctlError
from incidentctl.phases.mitigate.base import ActionEnv
from incidentctl.phases.mitigate.state import observed_state
from incidentctl.sandbox import world

#: A value the runbook reads from the environment (the Statuspage API key), which has also ended up in a
#: ConfigMap the mitigation reads: it must be masked wherever the mitigation writes the ConfigMap's state.
SECRET = "sk-live-5b1e0c7f9a2d4e68"


@dataclass(frozen=True)
class OpenBreaker:
    """Sets synthesis-config's CIRCUIT_BREAKER, as a runbook switch does; the plan shows the whole data."""

    name: str = "circuit-breaker"

    def plan(self, env: ActionEnv) -> Plan:
        ref = ObjectRef("configmaps", "synthesis-config", env.namespace)
        live = env.kube.get(ref.resource, ref.namespace, ref.name)
        before = observed_state(live)
        data = dict(live.get("data") or {})
        after = {**data, "CIRCUIT_BREAKER": "open"}
        version = live["metadata"]["resourceVersion"]
        return Plan(
            action="circuit-breaker",
            summary=f"open the breaker in {ref.label} (LLM key {data['LLM_API_KEY']})",
            changes=(Change(ref, f"set CIRCUIT_BREAKER in {ref.label}", diff=unified_diff(data, after, ref.label)),),
            writes=(Write("patch", ref, body={"data": {"CIRCUIT_BREAKER": "open"}}, resource_version=version),),
            components=("synthesis",),
            before={ref.label: before},
            after={ref.label: {**before, "data": after}},
            undo=Undo("circuit-breaker", {"key": data["LLM_API_KEY"]}, "close it"),
            notes=(f"the key {data['LLM_API_KEY']} stays",),
        )


def prepare(d: Drill) -> None:
    client = KubeClient(kubeconfig=str(d.site.kubeconfig), env={})
    try:
        body = {"data": {"LLM_API_KEY": SECRET}}
        client.patch("configmaps", world.NAMESPACE, "synthesis-config", body, patch_type="merge")
    finally:
        client.close()


def run(d: Drill, *, dry_run: bool = False, output: str = "table", yes: bool = True) -> int:
    state = advancing(
        d.sandbox,
        runbook_path=d.site.runbook,
        kubeconfig=str(d.site.kubeconfig),
        yes=yes,
        output=output,
        confirm=None if yes else (lambda _question: True),
    )
    state.env = {"INCIDENTCTL_ACTOR": "tester", "INCIDENTCTL_STATUSPAGE_API_KEY": SECRET}
    request = build_request(state, OpenBreaker(), dry_run=dry_run, incident=None, reason=None, no_verify=True)
    with pytest.raises(typer.Exit) as ended:
        run_and_show(state, request)
    return int(ended.value.exit_code)


def journal_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.mark.parametrize(
    ("dry_run", "output", "yes"), [(True, "json", True), (False, "json", True), (False, "table", False)]
)
def test_a_secret_in_an_object_the_plan_reads_is_masked_everywhere(
    drill: Callable[..., Drill], capsys: pytest.CaptureFixture[str], dry_run: bool, output: str, yes: bool
) -> None:
    d = drill("healthy")
    incident = d.declare()
    prepare(d)
    assert run(d, dry_run=dry_run, output=output, yes=yes) == 0
    shown = capsys.readouterr()
    assert "CIRCUIT_BREAKER" in shown.out + shown.err  # the plan and the result were shown
    assert SECRET not in shown.out
    assert SECRET not in shown.err
    recorded = journal_text(d.site.journal)
    assert incident in recorded
    assert SECRET not in recorded
    if not dry_run:
        assert "mitigation_applied" in recorded
        assert "LLM_API_KEY" in recorded  # the key is recorded, its value is not


def test_an_undo_whose_arguments_were_masked_is_refused_not_replayed(drill: Callable[..., Drill]) -> None:
    d = drill("healthy")
    incident = d.declare()
    prepare(d)
    assert run(d, output="json") == 0
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["undo"]["masked"] is True
    result = d.run("--yes", "mitigate", "undo", "M1")
    assert result.exit_code == 5, result.output
    assert "secret" in result.stderr
    assert SECRET not in result.output


@dataclass(frozen=True)
class ScaleFromConfig:
    """A write whose value came from a ConfigMap that holds a secret: the server's 422 quotes the value back."""

    name: str = "scale"

    def plan(self, env: ActionEnv) -> Plan:
        config = env.kube.get("configmaps", env.namespace, "synthesis-config")
        ref = ObjectRef("deployments", "retrieval", env.namespace)
        body = {"spec": {"replicas": config["data"]["LLM_API_KEY"]}}
        return Plan(action="scale", summary="scale deployment/retrieval", writes=(Write("patch", ref, body=body),))


def test_a_server_error_that_quotes_a_secret_is_masked(
    drill: Callable[..., Drill], capsys: pytest.CaptureFixture[str]
) -> None:
    d = drill("healthy")
    d.declare()
    prepare(d)
    state = advancing(d.sandbox, runbook_path=d.site.runbook, kubeconfig=str(d.site.kubeconfig), yes=True)
    state.env = {"INCIDENTCTL_ACTOR": "tester", "INCIDENTCTL_STATUSPAGE_API_KEY": SECRET}
    request = build_request(state, ScaleFromConfig(), dry_run=False, incident=None, reason=None, no_verify=True)
    with pytest.raises(IncidentctlError) as failed:
        run_and_show(state, request)
    assert failed.value.exit_code == 5
    assert "Invalid value" in str(failed.value)
    assert SECRET not in str(failed.value)
    shown = capsys.readouterr()
    assert SECRET not in shown.out + shown.err
    recorded = journal_text(d.site.journal)
    assert "mitigation_failed" in recorded
    assert SECRET not in recorded
