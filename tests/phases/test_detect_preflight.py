"""What can be known before anything is contacted is said at once: a kubeconfig that cannot work and an output
file that cannot be written end detect (and triage) with one line, before a single check runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tests.conftest import Invoke
from tests.phases.conftest import Site

from incidentctl.sandbox.faults import Fault

#: A count no run can use up: every request the sandbox serves (API, health, dependencies, monitoring) takes one.
UNTOUCHED = 10**9


def _counter(site: Site) -> Fault:
    """Counts every request the sandbox serves, whatever its target, without changing the answers."""
    return site.sandbox.faults.latency(0.0, target="any", count=UNTOUCHED)


def _kubeconfig(site: Site) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(site.kubeconfig.read_text())
    return loaded


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / f"kubeconfig-{len(list(tmp_path.glob('kubeconfig-*')))}"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def _bad_kubeconfigs(site: Site, tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """Each kind of unusable kubeconfig: the global options that give it, and the line detect must print."""
    good = _kubeconfig(site)
    no_current = {**good, "current-context": ""}
    no_cluster = {**good, "clusters": []}
    no_server = {**good, "clusters": [{"name": c["name"], "cluster": {}} for c in good["clusters"]]}  # type: ignore[attr-defined]
    missing_ca = {
        **good,
        "clusters": [
            {"name": c["name"], "cluster": {**c["cluster"], "certificate-authority": "no-such-ca.crt"}}
            for c in good["clusters"]  # type: ignore[attr-defined]
        ],
    }
    return {
        "missing file": (["--kubeconfig", str(tmp_path / "nope")], f"kubeconfig not found: {tmp_path / 'nope'}"),
        "a directory": (["--kubeconfig", str(tmp_path)], f"kubeconfig {tmp_path} is a directory, not a file"),
        "garbage yaml": (
            ["--kubeconfig", str(_write(tmp_path, "apiVersion: v1\nclusters: [unclosed\n"))],
            "is not valid YAML",
        ),
        "not a mapping": (["--kubeconfig", str(_write(tmp_path, "- just\n- a list\n"))], "is not a kubeconfig"),
        "unknown context": (
            ["--kubeconfig", str(site.kubeconfig), "--context", "nosuch"],
            f"context 'nosuch' not found in {site.kubeconfig}",
        ),
        "no current context": (
            ["--kubeconfig", str(_write(tmp_path, no_current))],
            "has no current context",
        ),
        "context without its cluster": (
            ["--kubeconfig", str(_write(tmp_path, no_cluster))],
            "names cluster 'sarvanom-sandbox', which is not in",
        ),
        "cluster without a server": (["--kubeconfig", str(_write(tmp_path, no_server))], "has no server"),
        "missing certificate file": (
            ["--kubeconfig", str(_write(tmp_path, missing_ca))],
            f"certificate-authority {tmp_path / 'no-such-ca.crt'} (cluster 'sarvanom-sandbox') not found",
        ),
    }


CASES = [
    "missing file",
    "a directory",
    "garbage yaml",
    "not a mapping",
    "unknown context",
    "no current context",
    "context without its cluster",
    "cluster without a server",
    "missing certificate file",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["detect", "triage"])
def test_an_unusable_kubeconfig_fails_before_any_check(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path, case: str, command: str
) -> None:
    site = site_for("healthy")
    counter = _counter(site)
    options, line = _bad_kubeconfigs(site, tmp_path)[case]
    result = invoke(["--runbook", str(site.runbook), *options, command])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: "), first
    assert line in first
    assert "Traceback" not in result.output
    assert counter.remaining == UNTOUCHED  # nothing was asked of the cluster, the health endpoints or monitoring


def test_a_kubeconfig_error_in_json_says_it_is_the_kubeconfig(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("healthy")
    result = invoke(["--runbook", str(site.runbook), "--kubeconfig", str(tmp_path / "nope"), "detect", "-o", "json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["reason"] == "InvalidKubeconfig"
    assert error["exitCode"] == 2


def test_a_kubeconfig_from_the_environment_is_checked_too(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path
) -> None:
    site = site_for("healthy")
    garbage = _write(tmp_path, "{{{{")
    result = invoke(["--runbook", str(site.runbook), "detect"], env={"KUBECONFIG": str(garbage)})
    assert result.exit_code == 2, result.output
    assert f"kubeconfig {garbage} is not valid YAML" in result.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("missing/dir/j.xml", "directory {base}/missing/dir does not exist"),
        ("file/j.xml", "{base}/file is not a directory"),
        (".", "is a directory"),
    ],
)
@pytest.mark.parametrize("watch", [[], ["--watch"]])
def test_an_unwritable_junit_path_fails_before_any_check(
    invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path, where: str, why: str, watch: list[str]
) -> None:
    site = site_for("db-outage")
    (tmp_path / "file").write_text("not a directory")
    counter = _counter(site)
    target = tmp_path / where
    result = invoke(site.args("detect", *watch, "--junit", str(target)))
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: --junit {target}: "), first
    assert why.format(base=tmp_path) in first
    assert counter.remaining == UNTOUCHED


def test_a_context_from_the_runbook_that_does_not_exist_says_it_came_from_the_runbook(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    site = site_for("healthy")
    rb = yaml.safe_load(site.runbook.read_text())
    rb["cluster"]["context"] = "prod-eu"
    site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))
    result = invoke(site.args("detect"))
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert f"context 'prod-eu' (the runbook's cluster.context) not found in {site.kubeconfig}" in first
