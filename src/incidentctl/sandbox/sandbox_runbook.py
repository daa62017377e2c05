"""The SarvanOM runbook pointed at a sandbox: the bundled runbook with every URL the checks reach replaced by
the sandbox's loopback stand-ins, and the journal kept beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incidentctl.sandbox import world
from incidentctl.sandbox.hotfix import HOTFIX_DIR, write_hotfixes


def bundled_runbook_path() -> Path:
    try:
        from incidentctl.bundled import bundled_runbook_path as bundled

        return bundled()
    except (ImportError, FileNotFoundError):
        return Path(__file__).resolve().parents[3] / "runbook.yaml"


def bundled_runbook_data() -> dict[str, Any]:
    data = yaml.safe_load(bundled_runbook_path().read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("the bundled runbook is not a mapping")
    return data


def runbook_for(
    base_url: str,
    journal_dir: str = "incidents",
    data: dict[str, Any] | None = None,
    *,
    check_timeout: str | None = None,
    ca_file: str | None = None,
) -> dict[str, Any]:
    """A copy of the runbook whose namespace, health checks, dependencies, Prometheus, Alertmanager and journal
    all point at the sandbox serving on ``base_url``; ``check_timeout`` replaces every health and dependency
    check's timeout (the demo's, so a hung stand-in costs seconds, not the production runbook's budget);
    ``ca_file`` is the certificate of a TLS sandbox, which every HTTP check must trust."""
    runbook = dict(data if data is not None else bundled_runbook_data())
    base = base_url.rstrip("/")
    runbook["cluster"] = dict(runbook.get("cluster") or {}) | {"namespace": world.NAMESPACE}
    runbook["cluster"].pop("context", None)
    components = []
    for original in runbook.get("components") or []:
        component = dict(original)
        health = dict(component.get("health") or {"timeout": "5s"})
        health["url"] = f"{base}/components/{component['name']}/health"
        if check_timeout is not None:
            health["timeout"] = check_timeout
        component["health"] = health
        components.append(component)
    runbook["components"] = components
    dependencies = []
    for original in runbook.get("dependencies") or []:
        dependency = dict(original)
        check = dict(dependency.get("check") or {})
        check["url"] = f"{base}/deps/{dependency['name']}/v1/models"
        if check_timeout is not None:
            check["timeout"] = check_timeout
        dependency["check"] = check
        dependencies.append(dependency)
    runbook["dependencies"] = dependencies
    observability = dict(runbook.get("observability") or {})
    observability["prometheus"] = dict(observability.get("prometheus") or {}) | {"url": f"{base}/prometheus"}
    observability["alertmanager"] = dict(observability.get("alertmanager") or {}) | {"url": f"{base}/alertmanager"}
    runbook["observability"] = observability
    runbook["journal"] = dict(runbook.get("journal") or {}) | {"dir": journal_dir}
    if isinstance(runbook.get("mitigation"), dict):
        # mitigations may write to the sandbox's namespace, under whatever context its kubeconfig names
        mitigation = dict(runbook["mitigation"])
        guardrails = dict(mitigation.get("guardrails") or {})
        guardrails["contexts"] = []
        guardrails["namespaces"] = [world.NAMESPACE]
        mitigation["guardrails"] = guardrails
        mitigation["hotfix_dir"] = HOTFIX_DIR  # written beside the runbook by write_runbook
        runbook["mitigation"] = mitigation
    if ca_file is not None:
        runbook["tls"] = {"ca_file": ca_file}
    return runbook


def write_runbook(
    path: Path,
    base_url: str,
    journal_dir: str = "incidents",
    *,
    check_timeout: str | None = None,
    ca_file: str | None = None,
) -> Path:
    header = (
        "# The SarvanOM runbook pointed at a local sandbox (written by `incidentctl sandbox up`).\n"
        "# Health checks, dependencies, Prometheus and Alertmanager are the sandbox's stand-ins.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_hotfixes(path.parent)
    path.write_text(
        header
        + yaml.safe_dump(
            runbook_for(base_url, journal_dir, check_timeout=check_timeout, ca_file=ca_file),
            sort_keys=False,
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path
