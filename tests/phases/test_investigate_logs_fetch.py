"""The log fan-out against the sandbox: every container of every pod, merged in time order, nothing missing
silently (a pod that could not be read, a component with no pod, ``--previous`` on a pod that never restarted)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from tests.phases.conftest import Site

from incidentctl.adapters.kube import KubeClient, KubeForbidden, KubeNoPreviousContainer, LogOptions
from incidentctl.phases.context import Flags, PhaseContext, resolve_settings
from incidentctl.phases.investigate.base import Section
from incidentctl.phases.investigate.logs import (
    LogsRequest,
    NoSuchComponent,
    Previous,
    SourceProblem,
    fetch_logs,
)
from incidentctl.phases.wiring import build_context
from incidentctl.runbook.loader import load_runbook

NS = "sarvanom-production"


def context(site: Site, env: dict[str, str] | None = None) -> PhaseContext:
    rb = load_runbook(site.runbook)
    settings = resolve_settings(Flags(kubeconfig=str(site.kubeconfig)), {}, rb, site.runbook)
    return build_context(
        rb,
        settings,
        env=env or {},
        clock=lambda: datetime.now(timezone.utc),
        journal=lambda: pytest.fail("the log fan-out does not touch the journal"),
        runbook_dir=site.runbook.parent,
    )


def pods_of(site: Site, prefix: str) -> list[str]:
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        return sorted(
            p["metadata"]["name"] for p in client.list("pods", NS) if p["metadata"]["name"].startswith(prefix)
        )
    finally:
        client.close()


def test_every_pod_of_each_component_is_read_and_merged_in_time_order(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(120)
    fetch = fetch_logs(context(site), LogsRequest(components=("gateway", "retrieval")))
    assert fetch.exit_code == 0, fetch.errors
    expected = pods_of(site, "gateway-") + pods_of(site, "retrieval-")
    assert len(expected) >= 4
    assert sorted(s.pod for s in fetch.sources) == expected  # every pod, not one per deployment
    assert {line.pod for line in fetch.lines} == set(expected)
    times = [line.time for line in fetch.lines]
    assert None not in times
    assert times == sorted(times)  # type: ignore[type-var]
    assert {line.component for line in fetch.lines} == {"gateway", "retrieval"}
    # the kubelet's stamp is taken off the text
    assert not fetch.lines[0].text.startswith(times[0].strftime("%Y-%m-%dT%H:%M:%S.%f000Z"))  # type: ignore[union-attr]


def test_lines_are_what_the_api_returns_for_each_container(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(60)
    fetch = fetch_logs(context(site), LogsRequest(components=("synthesis",), tail=5))
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        for source in fetch.sources:
            text = client.read_log(NS, source.pod, source.container, LogOptions(tail_lines=5, timestamps=False))
            assert [ln.text for ln in fetch.lines_of(source)] == text.splitlines()
    finally:
        client.close()


def test_a_pod_that_cannot_be_read_is_reported_and_the_others_still_are(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    victim = pods_of(site, "gateway-")[0]
    site.sandbox.faults.errors(403, path=f"/api/v1/namespaces/{NS}/pods/{victim}/log")
    fetch = fetch_logs(context(site), LogsRequest(components=("gateway",)))
    assert fetch.exit_code == 3
    assert [(e.source.pod, e.problem) for e in fetch.errors] == [(victim, SourceProblem.FAILED)]
    assert isinstance(fetch.errors[0].error, KubeForbidden)
    assert victim not in {s.pod for s in fetch.sources}
    assert len(fetch.sources) == len(pods_of(site, "gateway-")) - 1
    assert any(victim in f.text and f.problem for f in fetch.findings())


def test_a_component_without_pods_says_so(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        client.patch("deployments", NS, "retrieval", {"spec": {"replicas": 0}})
    finally:
        client.close()
    site.sandbox.advance(60)
    fetch = fetch_logs(context(site), LogsRequest(components=("retrieval",)))
    assert fetch.exit_code == 3
    assert fetch.unmatched
    assert fetch.unmatched[0][0] == "retrieval"
    assert fetch.sources == ()
    assert fetch.lines == []
    assert any("retrieval" in f.text and f.problem for f in fetch.findings())


def test_an_unknown_component_is_a_usage_error(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    with pytest.raises(NoSuchComponent) as raised:
        fetch_logs(context(site), LogsRequest(components=("gatewy",)))
    assert raised.value.exit_code == 2
    assert "gateway" in (raised.value.hint or "")


def test_a_cluster_that_cannot_be_listed_is_the_fetchs_error(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.faults.forbid("list", "pods")
    fetch = fetch_logs(context(site), LogsRequest())
    assert isinstance(fetch.cluster_error, KubeForbidden)
    assert fetch.exit_code == 4
    assert fetch.findings()[0].problem


def test_previous_reads_crash_looping_containers_and_names_the_rest(site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    site.sandbox.advance(300)
    fetch = fetch_logs(context(site), LogsRequest(components=("synthesis",), previous=Previous.ONLY))
    assert fetch.problems == ()
    assert fetch.sources
    assert all(s.previous for s in fetch.sources)
    assert all(line.previous for line in fetch.lines)
    restarted = {pod for _c, pod, _ct, count in fetch.restarted if count}
    assert {s.pod for s in fetch.sources} == restarted
    never = [e for e in fetch.errors if e.problem is SourceProblem.NO_PREVIOUS]
    assert never
    assert {e.source.pod for e in never}.isdisjoint(restarted)
    assert isinstance(never[0].error, KubeNoPreviousContainer)
    assert fetch.exit_code == 0  # a container that never restarted is not a fault
    assert any(f.problem and "previous log was read" in f.text for f in fetch.findings())


def test_also_previous_reads_both_instances(site_for: Callable[..., Site]) -> None:
    site = site_for("bad-deploy")
    site.sandbox.advance(300)
    fetch = fetch_logs(context(site), LogsRequest(components=("synthesis",), previous=Previous.ALSO))
    assert {s.previous for s in fetch.sources} == {True, False}
    assert not [e for e in fetch.errors if e.problem is SourceProblem.NO_PREVIOUS]
    section: Section = fetch  # what the umbrella command reads
    paths = {e.path for e in section.evidence()}
    assert {f"logs/{s.pod}_{s.container}.previous.log" for s in fetch.sources if s.previous} < paths
    assert {f"logs/{s.pod}_{s.container}.log" for s in fetch.sources if not s.previous} < paths


def test_previous_asked_directly_of_the_api_is_typed(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    pod = pods_of(site, "gateway-")[0]
    client = KubeClient(kubeconfig=str(site.kubeconfig))
    try:
        with pytest.raises(KubeNoPreviousContainer) as raised:
            client.read_log(NS, pod, "gateway", LogOptions(previous=True))
    finally:
        client.close()
    assert raised.value.status == 400
    assert pod in str(raised.value)


def test_since_and_tail_reach_the_api(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(600)
    everything = fetch_logs(context(site), LogsRequest(components=("gateway",)))
    recent = fetch_logs(context(site), LogsRequest(components=("gateway",), since=timedelta(minutes=2)))
    tailed = fetch_logs(context(site), LogsRequest(components=("gateway",), tail=3))
    assert 0 < len(recent.lines) < len(everything.lines)
    newest = max(line.time for line in everything.lines if line.time is not None)
    assert all(line.time is not None and newest - line.time <= timedelta(minutes=2, seconds=1) for line in recent.lines)
    assert len(tailed.lines) == 3 * len(tailed.sources)


def test_evidence_is_one_redacted_file_per_container(site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    site.sandbox.advance(60)
    ctx = context(site)
    fetch = fetch_logs(ctx, LogsRequest(components=("gateway",), tail=2))
    first = fetch.sources[0]
    secret = next(fetch.lines_of(first)).text.split()[-1]  # a word the log holds stands for a leaked token
    ctx.secrets.remember(secret)
    files = {e.path: e for e in fetch.evidence()}
    assert set(files) == {f"logs/{s.pod}_{s.container}.log" for s in fetch.sources}
    out = io.BytesIO()
    files[first.evidence_path].write(out)
    written = out.getvalue().decode()
    assert written.count("\n") == 2
    assert secret not in written
    assert "***" in written
