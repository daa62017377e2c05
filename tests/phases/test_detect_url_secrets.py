"""`detect` against the sandbox with tokens in the runbook's URLs: the checks still send them, and neither the JSON
report (``target``, ``observed.url``), the table nor the ``--debug`` log ever shows them."""

from __future__ import annotations

import json
from collections.abc import Callable

import yaml
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

SECRETS = ("hq-5ecret-1", "dq-5ecret-2", "rq-5ecret-3")


def _tokens_in_urls(site: Site) -> None:
    rb = yaml.safe_load(site.runbook.read_text())
    rb["components"][0]["health"]["url"] += f"?token={SECRETS[0]}"
    rb["dependencies"][0]["check"]["url"] += f"?api_key={SECRETS[1]}"
    # a dependency nobody listens for: the error message quotes a URL with a token too
    rb["dependencies"][1]["check"]["url"] = f"http://127.0.0.1:9/v1/models?sig={SECRETS[2]}"
    site.runbook.write_text(yaml.safe_dump(rb, sort_keys=False))


def test_detect_never_prints_a_token_from_a_url(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("healthy")
    _tokens_in_urls(site)

    as_json = run(invoke, site, "--debug", "detect", "-o", "json")
    as_table = run(invoke, site, "--debug", "detect")

    for result in (as_json, as_table):
        assert result.exit_code in (0, 3), result.output
        for secret in SECRETS:
            assert secret not in result.stdout
            assert secret not in result.stderr
    checks = {c["check"]: c for c in json.loads(as_json.stdout)["data"]["checks"]}
    http = next(c for c in checks.values() if c["kind"] == "http" and "token=" in c["target"])
    assert http["health"] == "ok"  # the token was sent and the sandbox answered
    assert http["target"].endswith("/health?token=***")
    assert http["observed"]["url"] == http["target"]
    deps = [c for c in checks.values() if c["kind"] == "dependency"]
    assert {c["target"].rsplit("?", 1)[1] for c in deps} == {"api_key=***", "sig=***"}
    assert "token=***" in as_json.stderr  # the debug log names the URL, masked
