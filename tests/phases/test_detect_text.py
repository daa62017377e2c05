"""Pod events, log lines and messages from the cluster reach the terminal neutralised, through detect and triage."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.test_user_text_output import assert_clean
from tests.conftest import Invoke
from tests.phases.conftest import Site


def test_detect_and_triage_on_a_sandbox_with_a_hostile_eviction_message(
    invoke: Invoke, site_for: Callable[..., Site]
) -> None:
    from incidentctl.sandbox import resources

    site = site_for("healthy")
    sb = site.sandbox
    pod = next(
        p["metadata"]["name"]
        for p in sb.store.list(resources.PODS, "sarvanom-production")
        if p["metadata"]["name"].startswith("gateway")
    )
    sb.evict(pod, message="\x1b]0;pwned\x07\x1b[2JThe node was low\non memory \u202e[bold]x")
    for command in ("detect", "triage"):
        result = invoke(site.args(command))
        assert result.exit_code == 3, result.output
        assert_clean(result.stdout + result.stderr)
        if command == "detect":
            assert "The node was low ⏎ on memory" in result.stdout
            assert "[bold]x" in result.stdout
