"""The phase contract's context: every setting resolved by one rule (flag > env > runbook > default), and the
adapters, Prometheus and Alertmanager included, injected through it rather than built inside a phase."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.conftest import RUNBOOK
from tests.phases.conftest import Site

from incidentctl.cli.state import AppState
from incidentctl.journal.store import Journal
from incidentctl.phases.context import Flags, PhaseContext, Settings, resolve_settings
from incidentctl.phases.detect import DetectRequest, run_detect
from incidentctl.runbook.loader import load_runbook
from incidentctl.runbook.model import Alertmanager, Prometheus, Runbook


def runbook_with(tmp_path: Path, **overrides: Any) -> Runbook:
    """The SarvanOM runbook with ``cluster`` and ``journal`` settings set or left out (None: removed)."""
    data: dict[str, Any] = yaml.safe_load(RUNBOOK.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        if value is None:
            data.setdefault(section, {}).pop(key, None)
        else:
            data.setdefault(section, {})[key] = value
        if dotted == "cluster__namespace" and value is not None:  # mitigations may write to the runbook's own
            data["mitigation"]["guardrails"]["namespaces"] = [value]
    path = tmp_path / "rb" / "runbook.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_runbook(path)


@pytest.mark.parametrize(
    ("flags", "env", "runbook", "setting", "value", "source"),
    [
        # namespace: -n > the runbook's cluster.namespace (the runbook requires one; no variable, as for kubectl)
        (Flags(namespace="staging"), {}, {"cluster__namespace": "prod"}, "namespace", "staging", "flag"),
        (Flags(), {}, {"cluster__namespace": "prod"}, "namespace", "prod", "runbook"),
        # context: --context > the runbook's cluster.context > the kubeconfig's current-context
        (Flags(context="eu"), {}, {"cluster__context": "us"}, "context", "eu", "flag"),
        (Flags(), {}, {"cluster__context": "us"}, "context", "us", "runbook"),
        (Flags(), {}, {"cluster__context": None}, "context", None, "default"),
        # journal folder: $INCIDENTCTL_JOURNAL > the runbook's journal.dir (beside it) > ./incidents beside it
        (Flags(), {"INCIDENTCTL_JOURNAL": "/var/inc"}, {"journal__dir": "ops"}, "journal_dir", "/var/inc", "env"),
        (Flags(), {}, {"journal__dir": "ops"}, "journal_dir", "<rb>/ops", "runbook"),
        (Flags(), {}, {"journal__dir": "/srv/inc"}, "journal_dir", "/srv/inc", "runbook"),
        (Flags(), {}, {"journal__dir": None}, "journal_dir", "<rb>/incidents", "default"),
        (Flags(), {"INCIDENTCTL_JOURNAL": ""}, {"journal__dir": None}, "journal_dir", "<rb>/incidents", "default"),
    ],
)
def test_flag_over_env_over_runbook_over_default(
    tmp_path: Path,
    flags: Flags,
    env: dict[str, str],
    runbook: dict[str, Any],
    setting: str,
    value: str | None,
    source: str,
) -> None:
    rb = runbook_with(tmp_path, **runbook)
    path = tmp_path / "rb" / "runbook.yaml"
    resolved = getattr(resolve_settings(flags, env, rb, path), setting)
    expected: Any = Path(value.replace("<rb>", str(path.parent))) if setting == "journal_dir" and value else value
    assert (resolved.value, resolved.source) == (expected, source)


def test_the_kubeconfig_flag_is_passed_on_and_kubeconfig_rules_stay_kubectls(tmp_path: Path) -> None:
    rb = runbook_with(tmp_path)
    path = tmp_path / "rb" / "runbook.yaml"
    assert resolve_settings(Flags(kubeconfig="/k"), {"KUBECONFIG": "/a:/b"}, rb, path).kubeconfig == "/k"
    assert resolve_settings(Flags(), {"KUBECONFIG": "/a:/b"}, rb, path).kubeconfig is None


def test_the_cli_resolves_once_and_the_journal_follows_the_settings(tmp_path: Path) -> None:
    rb_path = tmp_path / "runbook.yaml"
    rb_path.write_text(RUNBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    state = AppState(runbook_path=rb_path, namespace="staging", env={"INCIDENTCTL_ACTOR": "t"}, cwd=tmp_path)
    settings = state.settings()
    assert isinstance(settings, Settings)
    assert state.settings() is settings
    assert settings.namespace.value == "staging"
    journal = state.journal()
    assert isinstance(journal, Journal)
    assert journal.directory == settings.journal_dir.value == tmp_path / "incidents"


def test_prometheus_and_alertmanager_come_through_the_context(site_for: Callable[..., Site]) -> None:
    """detect asks the context for its Prometheus and Alertmanager clients, as it does for the Kubernetes and
    HTTP clients: a test (or a later backend) hands it others without patching."""
    site = site_for("healthy")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={"INCIDENTCTL_ACTOR": "t"})
    ctx = state.phase_context()
    assert state.phase_context() is ctx  # built once per command (detect --watch reuses it every round)
    asked: list[str] = []

    def prometheus(http: httpx.Client, config: Prometheus) -> Any:
        asked.append(f"prometheus {config.url}")
        return ctx.adapters.prometheus(http, config)

    def alertmanager(http: httpx.Client, config: Alertmanager) -> Any:
        asked.append(f"alertmanager {config.url}")
        return ctx.adapters.alertmanager(http, config)

    mine: PhaseContext = replace(ctx, adapters=replace(ctx.adapters, prometheus=prometheus, alertmanager=alertmanager))
    result = run_detect(mine, DetectRequest(record=False))

    urls = site.sandbox.urls()
    assert sorted(asked) == [f"alertmanager {urls['alertmanager']}", f"prometheus {urls['prometheus']}"]
    kinds = {r.kind for r in result.report.results}
    assert {"signal", "alerts"} <= kinds
    assert int(result.exit_code) == 0


def test_detect_writes_its_own_look_in_the_open_incident(site_for: Callable[..., Site]) -> None:
    """The phase records, not the command: a look in the only open incident, a look that saw the same not again,
    and under ``--watch`` a round whose summary did not change does not even open the journal."""
    from incidentctl.core.incident import Declaration
    from incidentctl.core.looks import DETECTED

    site = site_for("bad-deploy")
    state = AppState(runbook_path=site.runbook, kubeconfig=str(site.kubeconfig), env={"INCIDENTCTL_ACTOR": "t"})
    ctx = state.phase_context()
    incident = ctx.journal().declare(Declaration(title="synthesis crashing", severity="P2"))

    first = run_detect(ctx, DetectRequest())
    assert first.recorded_in == incident.id
    assert first.exit_code == 3
    again = run_detect(ctx, DetectRequest())
    assert again.recorded is not None
    assert (again.recorded.event, again.recorded_in) == (None, None)
    assert again.recorded.previous is not None

    def no_journal() -> Any:
        raise AssertionError("the journal was opened for a round that saw the same")

    watching = replace(ctx, journal=no_journal)
    same = run_detect(watching, DetectRequest(unchanged_from=again.summary))
    assert same.recorded is None
    assert [e.kind for e in ctx.journal().timeline(incident.id)] == ["declared", DETECTED]
