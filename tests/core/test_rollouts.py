"""The rules of ``investigate changes``: kubectl's rollout history, what two pod templates differ in, when a
ConfigMap changed, the onset of errors and the suspect, on the API's own object shapes."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from incidentctl.core.rollouts import (
    ConfigChange,
    History,
    Onset,
    config_change,
    configmaps_of,
    deployment_history,
    describe,
    first_crash,
    first_rise,
    name_suspect,
    template_diff,
)

T0 = datetime(2026, 3, 14, 14, 0, tzinfo=timezone.utc)
UID = "5d1c0a6e-0000-4000-8000-000000000001"


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def template(image: str = "reg/synthesis:2.4.3", **container: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "synthesis"}},
        "spec": {"containers": [{"name": "synthesis", "image": image, **container}]},
    }


def deployment(tmpl: dict[str, Any] | None = None, managed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "synthesis", "uid": UID}
    if managed is not None:
        meta["managedFields"] = managed
    return {
        "metadata": meta,
        "spec": {"selector": {"matchLabels": {"app": "synthesis"}}, "template": tmpl or template()},
    }


def replicaset(
    name: str,
    revision: str | None,
    image: str,
    created: datetime,
    *,
    cause: str | None = None,
    owner: str = UID,
    controller: bool = True,
    labels: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    annotations = dict(extra or {})
    if revision is not None:
        annotations["deployment.kubernetes.io/revision"] = revision
    if cause is not None:
        annotations["kubernetes.io/change-cause"] = cause
    tmpl = template(image)
    tmpl["metadata"]["labels"]["pod-template-hash"] = name.rsplit("-", 1)[-1]
    return {
        "metadata": {
            "name": name,
            "labels": labels if labels is not None else {"app": "synthesis", "pod-template-hash": name[-5:]},
            "annotations": annotations,
            "creationTimestamp": stamp(created),
            "ownerReferences": [{"kind": "Deployment", "name": "synthesis", "uid": owner, "controller": controller}],
        },
        "spec": {"template": tmpl},
    }


# --- history: kubectl's rules --------------------------------------------------------------------------------------


def test_history_lists_the_owned_replicasets_by_revision_with_time_images_cause_and_author() -> None:
    rss = [
        replicaset("synthesis-bbbbb", "2", "reg/synthesis:2.4.3", T0 - timedelta(days=6), cause="deploy 2.4.3"),
        replicaset(
            "synthesis-aaaaa",
            "1",
            "reg/synthesis:2.4.0",
            T0 - timedelta(days=27),
            extra={"sarvanom.com/deployed-by": "mei"},
        ),
    ]
    history = deployment_history("synthesis", deployment(), rss)
    assert [r.revision for r in history.revisions] == [1, 2]
    first, second = history.revisions
    assert first.change_cause is None  # kubectl prints <none>
    assert (first.who, first.who_source) == ("mei", "annotation sarvanom.com/deployed-by")
    assert second.change_cause == "deploy 2.4.3"
    assert second.created == T0 - timedelta(days=6)
    assert [(i.container, i.image) for i in second.images] == [("synthesis", "reg/synthesis:2.4.3")]
    assert second.current
    assert not first.current


@pytest.mark.parametrize(
    "stranger",
    [
        {"owner": "another-uid"},  # another Deployment's ReplicaSet with the same labels
        {"controller": False},  # an owner reference that is not the controller
        {"labels": {"app": "gateway"}},  # outside the selector
    ],
    ids=["other-owner", "not-controller", "outside-selector"],
)
def test_history_leaves_out_what_kubectl_leaves_out(stranger: dict[str, Any]) -> None:
    ours = replicaset("synthesis-aaaaa", "1", "reg/synthesis:2.4.3", T0)
    theirs = replicaset("synthesis-zzzzz", "9", "reg/synthesis:9.9.9", T0, **stranger)
    history = deployment_history("synthesis", deployment(), [ours, theirs])
    assert [r.revision for r in history.revisions] == [1]


def test_history_revision_rules_missing_is_zero_unparsable_is_skipped_and_the_new_replicaset_wins_a_tie() -> None:
    rss = [
        replicaset("synthesis-ccccc", "3", "reg/synthesis:2.4.3", T0),  # the Deployment's template: the new RS
        replicaset("synthesis-ddddd", "3", "reg/synthesis:2.4.0", T0 - timedelta(days=1)),
        replicaset("synthesis-eeeee", None, "reg/synthesis:2.3.0", T0 - timedelta(days=2)),
        replicaset("synthesis-fffff", "three", "reg/synthesis:2.2.0", T0 - timedelta(days=3)),
    ]
    history = deployment_history("synthesis", deployment(), rss)
    assert [(r.revision, r.replicaset) for r in history.revisions] == [(0, "synthesis-eeeee"), (3, "synthesis-ccccc")]
    assert history.skipped == ("synthesis-fffff",)


def test_no_replicaset_is_no_history_said_as_kubectl_says_it() -> None:
    history = deployment_history("synthesis", deployment(), [])
    assert history.revisions == ()
    assert history.note == "No rollout history found."


def test_the_current_revisions_author_comes_from_managed_fields_when_no_annotation_records_it() -> None:
    managed: list[dict[str, Any]] = [
        {"manager": "kubectl-client-side-apply", "time": stamp(T0 - timedelta(days=9)), "fieldsV1": {"f:spec": {}}},
        {"manager": "kubectl-set", "time": stamp(T0), "fieldsV1": {"f:spec": {"f:template": {}}}},
        {
            "manager": "kubectl-scale",
            "time": stamp(T0 + timedelta(minutes=5)),
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        },
        {"manager": "kube-controller-manager", "time": stamp(T0 + timedelta(minutes=9)), "subresource": "status"},
    ]
    rss = [
        replicaset("synthesis-aaaaa", "1", "reg/synthesis:2.4.0", T0 - timedelta(days=9)),
        replicaset("synthesis-bbbbb", "2", "reg/synthesis:2.4.3", T0),
    ]
    old, new = deployment_history("synthesis", deployment(managed=managed), rss).revisions
    assert (new.who, new.who_source) == ("kubectl-set", "managedFields")
    assert old.who is None, "managedFields only say who wrote the template the Deployment holds now"


# --- what changed ------------------------------------------------------------------------------------------------


def test_diff_names_image_env_resources_args_command_and_probes() -> None:
    before = template(
        "reg/synthesis:2.4.3",
        env=[{"name": "MODE", "value": "fast"}, {"name": "OLD", "value": "x"}],
        resources={"limits": {"memory": "1Gi"}},
        args=["--workers", "4"],
        readinessProbe={"httpGet": {"path": "/ready", "port": 8080}},
    )
    after = template(
        "reg/synthesis:2.5.0",
        env=[{"name": "MODE", "value": "faster"}, {"name": "NEW", "value": "y"}],
        resources={"limits": {"memory": "2Gi"}, "requests": {"cpu": "500m"}},
        args=["--workers", "8"],
        command=["python", "-m", "synthesis"],
        readinessProbe={"httpGet": {"path": "/health", "port": 8080}},
    )
    found = {(d.field, d.key): (d.before, d.after) for d in template_diff(before, after)}
    assert found == {
        ("image", None): ("reg/synthesis:2.4.3", "reg/synthesis:2.5.0"),
        ("env", "MODE"): ("fast", "faster"),
        ("env", "NEW"): (None, "y"),
        ("env", "OLD"): ("x", None),
        ("resources", "limits.memory"): ("1Gi", "2Gi"),
        ("resources", "requests.cpu"): (None, "500m"),
        ("args", None): ("--workers 4", "--workers 8"),
        ("command", None): (None, "python -m synthesis"),
        ("readinessProbe", None): (
            '{"httpGet":{"path":"/ready","port":8080}}',
            '{"httpGet":{"path":"/health","port":8080}}',
        ),
    }


def test_diff_shows_where_a_secret_comes_from_never_a_value() -> None:
    before = template(env=[{"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "openai", "key": "v1"}}}])
    after = template(
        env=[{"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "openai", "key": "v2"}}}],
        envFrom=[{"secretRef": {"name": "provider-keys"}}, {"configMapRef": {"name": "tuning"}, "prefix": "T_"}],
    )
    found = {(d.field, d.key): (d.before, d.after) for d in template_diff(before, after)}
    assert found == {
        ("env", "API_KEY"): ("secret openai/v1", "secret openai/v2"),
        ("envFrom", None): (None, "configmap tuning (prefix T_), secret provider-keys"),
    }


def test_diff_of_equal_templates_is_empty_and_containers_added_or_removed_are_named() -> None:
    assert template_diff(template(), copy.deepcopy(template())) == ()
    sidecar = template()
    sidecar["spec"]["containers"].append({"name": "proxy", "image": "envoy:1.31"})
    added = template_diff(template(), sidecar)
    assert [(d.container, d.field, d.before, d.after) for d in added] == [("proxy", "container", None, "present")]
    removed = template_diff(sidecar, template())
    assert [(d.container, d.before, d.after) for d in removed] == [("proxy", "present", None)]


# --- ConfigMaps --------------------------------------------------------------------------------------------------


def test_configmaps_a_template_uses_every_way_it_can() -> None:
    tmpl = template(
        envFrom=[{"configMapRef": {"name": "from-envfrom"}}, {"secretRef": {"name": "not-a-configmap"}}],
        env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "from-keyref", "key": "x"}}}],
    )
    tmpl["spec"]["volumes"] = [
        {"name": "a", "configMap": {"name": "from-volume"}},
        {"name": "b", "projected": {"sources": [{"configMap": {"name": "from-projected"}}, {"secret": {"name": "s"}}]}},
    ]
    tmpl["spec"]["initContainers"] = [{"name": "init", "envFrom": [{"configMapRef": {"name": "from-init"}}]}]
    assert configmaps_of(tmpl) == {"from-envfrom", "from-keyref", "from-volume", "from-projected", "from-init"}


def test_a_configmaps_change_time_is_its_latest_managed_fields_write_with_the_keys_written() -> None:
    cm: dict[str, Any] = {
        "metadata": {
            "name": "synthesis-config",
            "creationTimestamp": stamp(T0 - timedelta(days=6)),
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "time": stamp(T0 - timedelta(days=6)), "fieldsV1": {}},
                {"manager": "kubectl-edit", "time": stamp(T0), "fieldsV1": {"f:data": {"f:LLM_TIMEOUT_SECONDS": {}}}},
            ],
        },
        "data": {"LLM_TIMEOUT_SECONDS": "2", "LLM_PROVIDER": "openai"},
    }
    change = config_change(cm, ["synthesis"])
    assert (change.time, change.time_source, change.manager) == (T0, "managedFields", "kubectl-edit")
    assert [(k.key, k.value) for k in change.written] == [("LLM_TIMEOUT_SECONDS", "2")]
    del cm["metadata"]["managedFields"]
    old = config_change(cm, ["synthesis"])
    assert (old.time, old.time_source, old.manager) == (T0 - timedelta(days=6), "metadata.creationTimestamp", None)


# --- onset -------------------------------------------------------------------------------------------------------


def series(*values: float) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=i), v) for i, v in enumerate(values)]


def test_first_rise_is_the_first_point_over_the_threshold_after_one_under_it() -> None:
    assert first_rise(series(0.003, 0.002, 0.3, 0.01, 0.4)) == T0 + timedelta(minutes=2)
    assert first_rise(series(0.3, 0.4)) == T0, "already up at the window's start: the start is the bound"
    assert first_rise(series(0.003, 0.004)) is None
    assert first_rise(series(math.nan, 0.001, math.nan, 0.2)) == T0 + timedelta(minutes=3)
    assert first_rise([]) is None


def pod(name: str, *terminations: tuple[str, str, int, datetime]) -> dict[str, Any]:
    statuses = [
        {"name": "app", where: {"terminated": {"reason": reason, "exitCode": code, "finishedAt": stamp(when)}}}
        for where, reason, code, when in terminations
    ]
    return {"metadata": {"name": name}, "status": {"containerStatuses": statuses}}


def test_first_crash_is_the_earliest_failed_termination_in_the_window() -> None:
    pods = [
        pod("a", ("lastState", "Completed", 0, T0 + timedelta(minutes=1))),  # a clean exit is no crash
        pod("b", ("lastState", "Error", 139, T0 + timedelta(minutes=5))),
        pod("c", ("state", "OOMKilled", 137, T0 + timedelta(minutes=3))),
        pod("d", ("lastState", "Error", 1, T0 - timedelta(hours=2))),  # before the window
    ]
    assert first_crash(pods, T0) == (T0 + timedelta(minutes=3), "c/app OOMKilled (exit 137)")
    assert first_crash(pods[:1], T0) is None


# --- the suspect -------------------------------------------------------------------------------------------------


def history_with(*created: datetime) -> History:
    rss = [
        replicaset(f"synthesis-{i:05d}", str(i + 1), f"reg/synthesis:2.{i}.0", when, cause=f"deploy 2.{i}.0")
        for i, when in enumerate(created)
    ]
    tmpl = template(f"reg/synthesis:2.{len(created) - 1}.0")
    return deployment_history("synthesis", deployment(tmpl), rss)


def onset(at: datetime) -> Onset:
    return Onset("5xx", at, subject="gateway", detail="gateway 5xx ratio rose")


def test_the_suspect_is_the_latest_change_before_the_onset_with_its_diff() -> None:
    history = history_with(T0 - timedelta(days=6), T0 - timedelta(minutes=30), T0 - timedelta(minutes=2))
    verdict = name_suspect([history], [], onset(T0), timedelta(hours=1))
    suspect = verdict.suspect
    assert suspect is not None
    assert (suspect.kind, suspect.component, suspect.revision, suspect.previous_revision) == (
        "rollout",
        "synthesis",
        3,
        2,
    )
    assert suspect.change_cause == "deploy 2.2.0"
    assert [(d.field, d.before, d.after) for d in suspect.differences] == [
        ("image", "reg/synthesis:2.1.0", "reg/synthesis:2.2.0")
    ]
    assert describe(suspect, onset(T0), verdict.reason) == (
        "synthesis revision 3, image synthesis:2.2.0, rolled out 13:58; errors began 14:00"
    )


def test_a_change_after_the_onset_or_before_the_window_is_not_named() -> None:
    late = ConfigChange("synthesis-config", T0 + timedelta(minutes=5), "managedFields", "kubectl-patch", ("synthesis",))
    history = history_with(T0 - timedelta(days=6))
    verdict = name_suspect([history], [late], onset(T0), timedelta(hours=1))
    assert verdict.suspect is None
    assert verdict.reason == "no rollout, scale-down or ConfigMap change in the 1h before the onset"
    assert describe(None, onset(T0), verdict.reason).startswith("no suspect change: ")


def test_a_config_change_later_than_the_last_rollout_is_the_suspect() -> None:
    cm = ConfigChange("synthesis-config", T0 - timedelta(minutes=1), "managedFields", "kubectl-edit", ("synthesis",))
    history = history_with(T0 - timedelta(minutes=40))
    suspect = name_suspect([history], [cm], onset(T0), timedelta(hours=1)).suspect
    assert suspect is not None
    assert (suspect.kind, suspect.configmap, suspect.who) == ("config", "synthesis-config", "kubectl-edit")


def test_no_onset_or_no_history_names_no_suspect_and_says_why() -> None:
    history = history_with(T0 - timedelta(minutes=2))
    assert name_suspect([history], [], None, timedelta(hours=1)).reason == (
        "no onset of errors was seen, so no change is named"
    )
    assert name_suspect([history], [], Onset("5xx", None, note="x"), timedelta(hours=1)).suspect is None
    blind = History("synthesis", "Deployment", "synthesis", available=False, note="could not read: 403")
    verdict = name_suspect([blind], [], onset(T0), timedelta(hours=1))
    assert verdict.suspect is None
    assert verdict.reason == "no rollout history and no ConfigMap could be read, so no change is named"
    old = ConfigChange("c", T0 - timedelta(days=3), "managedFields", None, ("synthesis",))
    partial = name_suspect([blind], [old], onset(T0), timedelta(hours=1))
    assert partial.reason.endswith("the rollout history of synthesis could not be read")
