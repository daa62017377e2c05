"""``mitigate apply DIR`` on the sandbox: hotfix manifests, each planned as a server-side dry-run diffed against the
live object, applied with server-side apply carrying the live resourceVersion (a create for a new object); a 409
in the middle is shown with what was and was not applied; every manifest error is one line with its file:line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import REPO
from tests.mitigate.conftest import Drill, advancing, resource_versions

from incidentctl.sandbox import resources, world

GOOD_IMAGE = world.SYNTHESIS.image_at(world.SYNTHESIS.current.version)
BAD_IMAGE = world.SYNTHESIS.image_at(world.BAD_SYNTHESIS.version)

HOTFIX = f"""\
# synthesis back on the last good release
apiVersion: apps/v1
kind: Deployment
metadata:
  name: synthesis
  namespace: {world.NAMESPACE}
  annotations:
    kubernetes.io/change-cause: hotfix synthesis back to {world.SYNTHESIS.current.version}
spec:
  template:
    spec:
      containers:
        - name: synthesis
          image: {GOOD_IMAGE}
"""

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: synthesis-config
data:
  LLM_TIMEOUT_SECONDS: "45"
"""

SECRET_VALUE = "hunter2-very-secret"

SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: synthesis-keys
type: Opaque
stringData:
  OPENAI_API_KEY: {SECRET_VALUE}
"""


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "hotfix"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _image(d: Drill) -> str:
    with d.sandbox.store.lock:
        deploy = d.sandbox.store.must_get(resources.DEPLOYMENTS, world.NAMESPACE, "synthesis")
    return str(deploy["spec"]["template"]["spec"]["containers"][0]["image"])


def _set_hotfix_dir(d: Drill, folder: str) -> None:
    data = yaml.safe_load(d.site.runbook.read_text())
    data.setdefault("mitigation", {})["hotfix_dir"] = folder
    d.site.runbook.write_text(yaml.safe_dump(data, sort_keys=False))


def test_bad_deploy_is_fixed_by_applying_the_hotfix(drill: Callable[..., Drill]) -> None:
    """The repository's own example, k8s/hotfix/synthesis.yaml."""
    d = drill("bad-deploy")
    incident = d.declare()
    folder = REPO / "k8s" / "hotfix"
    assert _image(d) == BAD_IMAGE
    code, doc = d.json("mitigate", "apply", str(folder), "--yes")
    data = doc["data"]
    assert code == 0, doc
    assert data["outcome"] == "applied"
    plan = data["plan"]
    [write] = plan["writes"]
    assert write["describe"] == "patch deployment/synthesis"
    assert write["patchType"] == "apply"
    assert write["resourceVersion"]
    diff = "\n".join(plan["changes"][0]["diff"])
    assert f"-        image: {BAD_IMAGE}" in diff
    assert f"+        image: {GOOD_IMAGE}" in diff
    assert "managedFields" not in diff
    assert "status" not in diff
    assert [r["label"] for r in plan["rollouts"]] == ["deployment/synthesis"]
    assert "synthesis" in plan["components"]
    assert data["verification"]["healthy"] is True, data["verification"]
    assert _image(d) == GOOD_IMAGE
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"]
    planned = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_planned")
    assert planned["data"]["before"]["deployment/synthesis"]["images"] == {"synthesis": BAD_IMAGE}
    assert planned["data"]["after"]["deployment/synthesis"]["images"] == {"synthesis": GOOD_IMAGE}


def test_the_runbooks_hotfix_dir_is_the_default(drill: Callable[..., Drill]) -> None:
    d = drill("bad-deploy")
    d.declare()
    _folder(d.site.runbook.parent / "k8s", {"synthesis.yml": HOTFIX})
    _set_hotfix_dir(d, "k8s/hotfix")
    code, doc = d.json("mitigate", "apply", "--yes", "--no-verify")
    assert code == 0, doc
    assert _image(d) == GOOD_IMAGE


def test_a_dry_run_changes_nothing(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    folder = _folder(tmp_path, {"a.yaml": HOTFIX + "---\n" + CONFIG, "new.json": json.dumps(_new_service())})
    before = resource_versions(d.sandbox)
    code, doc = d.json("mitigate", "apply", str(folder), "--dry-run")
    assert code == 0, doc
    data = doc["data"]
    assert data["outcome"] == "dry-run"
    assert [w["describe"] for w in data["plan"]["writes"]] == [
        "patch deployment/synthesis",
        "patch configmap/synthesis-config",
        "create service/synthesis-canary",
    ]
    assert set(data["dryRunObjects"]) == {
        "deployment/synthesis",
        "configmap/synthesis-config",
        "service/synthesis-canary",
    }
    assert resource_versions(d.sandbox) == before
    assert "service/synthesis-canary" not in before
    assert _image(d) == BAD_IMAGE
    assert d.kinds(incident) == []


def _new_service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "synthesis-canary", "namespace": world.NAMESPACE},
        "spec": {"selector": {"app.kubernetes.io/name": "synthesis"}, "ports": [{"port": 8080}]},
    }


def test_a_new_object_is_created_and_an_unchanged_one_left_alone(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("healthy")
    d.declare()
    folder = _folder(tmp_path, {"svc.yaml": yaml.safe_dump(_new_service())})
    code, doc = d.json("mitigate", "apply", str(folder), "--yes")
    assert code == 0, doc
    assert [w["describe"] for w in doc["data"]["plan"]["writes"]] == ["create service/synthesis-canary"]
    assert doc["data"]["plan"]["changes"][0]["summary"].startswith("create")
    code, again = d.json("mitigate", "apply", str(folder), "--yes")
    assert code == 0, again
    assert again["data"]["outcome"] == "unchanged"


def test_a_conflict_in_the_middle_is_shown_with_what_was_applied(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("bad-deploy")
    incident = d.declare()
    sb = d.sandbox
    folder = _folder(tmp_path, {"1-synthesis.yaml": HOTFIX, "2-config.yaml": CONFIG})

    def someone_edits_the_config_first(_question: str) -> bool:
        with sb.store.lock:
            cm = sb.store.must_get(resources.CONFIGMAPS, world.NAMESPACE, "synthesis-config")
            edited = json.loads(json.dumps(cm))
            edited["data"]["CIRCUIT_BREAKER"] = "open"
            sb.store.replace(resources.CONFIGMAPS, edited)
        return True

    state = advancing(sb, confirm=someone_edits_the_config_first)
    result = d.run("mitigate", "apply", str(folder), state=state)
    assert result.exit_code == 5, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert "already applied: patch deployment/synthesis" in errors[0]
    assert "not applied: patch configmap/synthesis-config" in errors[0]
    assert "Traceback" not in result.output
    assert _image(d) == GOOD_IMAGE  # the first went through: that is what the responder must not miss
    with sb.store.lock:
        cm = sb.store.must_get(resources.CONFIGMAPS, world.NAMESPACE, "synthesis-config")
    assert cm["data"]["LLM_TIMEOUT_SECONDS"] != "45"
    assert cm["data"]["CIRCUIT_BREAKER"] == "open"
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_failed"]
    failed = next(e for e in d.timeline(incident) if e["kind"] == "mitigation_failed")
    assert failed["data"]["applied"] == ["patch deployment/synthesis"]
    assert failed["data"]["notApplied"] == ["patch configmap/synthesis-config"]
    assert failed["data"]["reason"] == "Conflict"


def test_a_secrets_data_is_never_shown_or_recorded(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("healthy")
    incident = d.declare()
    folder = _folder(tmp_path, {"secret.yaml": SECRET})
    dry = d.run("mitigate", "apply", str(folder), "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.output
    applied = d.run("mitigate", "apply", str(folder), "--yes", "-o", "json")
    assert applied.exit_code == 0, applied.output
    changed = _folder(tmp_path, {"secret.yaml": SECRET.replace(SECRET_VALUE, SECRET_VALUE + "-rotated")})
    rotated = d.run("mitigate", "apply", str(changed), "--yes", "--debug")
    assert rotated.exit_code == 0, rotated.output
    with d.sandbox.store.lock:
        secret = d.sandbox.store.must_get(resources.SECRETS, world.NAMESPACE, "synthesis-keys")
    assert secret["metadata"]["name"] == "synthesis-keys"
    recorded = "".join(p.read_text() for p in d.site.journal.rglob("*") if p.is_file())
    for text in (dry.output, applied.output, rotated.output, recorded):
        assert SECRET_VALUE not in text
    plan = json.loads(applied.stdout)["data"]["plan"]
    assert any("OPENAI_API_KEY" in line for line in plan["changes"][0]["diff"])
    assert d.kinds(incident) == ["mitigation_planned", "mitigation_applied", "mitigation_verified"] * 2


@pytest.mark.parametrize(
    ("files", "code", "words"),
    [
        ({"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"}, 2, "bad.yaml:4"),
        ({"bad.json": '{"apiVersion": "v1",\n "kind": }'}, 2, "bad.json:2"),
        (
            {"cron.yaml": CONFIG + "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n"},
            2,
            "cron.yaml:9: mitigate apply cannot apply batch/v1 CronJob",
        ),
        ({"notes.yaml": "- just\n- a list\n"}, 2, "notes.yaml:1: not a Kubernetes manifest"),
        ({"values.yaml": "replicas: 3\nimage: x\n"}, 2, "values.yaml:1: not a Kubernetes manifest"),
        ({"noname.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"}, 2, "noname.yaml:1: not a Kubernetes"),
        ({"README.md": "# nothing to apply\n"}, 2, "has no manifests"),
        ({}, 2, "has no manifests"),
        (
            {"other.yaml": CONFIG.replace("metadata:\n", "metadata:\n  namespace: kube-system\n")},
            5,
            "namespaces",
        ),
        ({"neg.yaml": HOTFIX.replace("spec:\n", "spec:\n  replicas: -1\n", 1)}, 5, "spec.replicas: Invalid value"),
    ],
    ids=[
        "bad-yaml",
        "bad-json",
        "unknown-kind",
        "a-list",
        "not-a-manifest",
        "no-name",
        "no-yaml",
        "empty",
        "ns",
        "server-422",
    ],
)
def test_manifest_errors_are_one_line(
    drill: Callable[..., Drill], tmp_path: Path, files: dict[str, str], code: int, words: str
) -> None:
    d = drill("healthy")
    incident = d.declare()
    folder = _folder(tmp_path, files)
    before = resource_versions(d.sandbox)
    result = d.run("mitigate", "apply", str(folder), "--yes")
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert words in errors[0]
    assert "Traceback" not in result.output
    assert resource_versions(d.sandbox) == before
    assert d.kinds(incident) == (["mitigation_refused"] if "namespaces" in words else [])


def test_a_folder_that_is_not_there_and_no_hotfix_dir(drill: Callable[..., Drill], tmp_path: Path) -> None:
    d = drill("healthy")
    d.declare()
    missing = d.run("mitigate", "apply", str(tmp_path / "nowhere"), "--yes")
    assert missing.exit_code == 2, missing.output
    assert "nowhere" in missing.stderr
    data = yaml.safe_load(d.site.runbook.read_text())
    data["mitigation"].pop("hotfix_dir", None)  # the shipped runbook names k8s/hotfix
    d.site.runbook.write_text(yaml.safe_dump(data, sort_keys=False))
    unset = d.run("mitigate", "apply", "--yes")
    assert unset.exit_code == 2, unset.output
    assert "hotfix_dir" in unset.stderr
