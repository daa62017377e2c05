"""The sandbox's hotfix folder: the manifests a team keeps ready for ``kubectl apply -f k8s/hotfix/`` (runbook
3.1), here the ones that fix the bad-config drill (synthesis' provider timeout back) and the credential-stuffing
drill (the gateway's login throttle on).

The runbook the sandbox writes names this folder as its ``mitigation.hotfix_dir`` and the folder is written beside
it, so ``incidentctl mitigate apply`` (no DIR) works in a drill and in the demo as it would with a team's own
folder. Each manifest sets one key: server-side apply leaves the ConfigMaps' other keys (an open circuit breaker,
maintenance mode) as they are, and applying one where its key is already right changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from incidentctl.sandbox import world

#: The folder's name, relative to the sandbox's runbook.yaml.
HOTFIX_DIR = "hotfix"


def write_hotfixes(runbook_dir: Path) -> Path:
    """Write the hotfix folder beside a sandbox runbook; returns the folder."""
    folder = runbook_dir / HOTFIX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "synthesis-config", "namespace": world.NAMESPACE},
        "data": {world.TIMEOUT_KEY: world.GOOD_TIMEOUT},
    }
    header = (
        f"# The provider timeout back at {world.GOOD_TIMEOUT} s (the bad-config drill's fix), as "
        "`incidentctl mitigate apply` sends it.\n"
    )
    (folder / "synthesis-config.yaml").write_text(header + yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    throttle = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": world.GATEWAY_CONFIG, "namespace": world.NAMESPACE},
        "data": {world.LOGIN_THROTTLE_KEY: "5"},
    }
    header = (
        "# The gateway's login throttle on: an address with more than 5 failed logins a minute is answered 429 before\n"
        "# any password check (the credential-stuffing drill's fix).\n"
    )
    (folder / "gateway-config.yaml").write_text(header + yaml.safe_dump(throttle, sort_keys=False), encoding="utf-8")
    return folder
