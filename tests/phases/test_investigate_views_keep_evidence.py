"""Every view of investigate keeps what it looked at in the open incident, as datastores does: its files under
``evidence/<time>-<view>/`` and one ``evidence_collected`` event; nothing with --no-save, a note once when no
incident is open, and nothing from saved logs (``errors --file``). The umbrella still keeps one folder only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Invoke
from tests.phases.conftest import Site, run

VIEWS = ("logs", "errors", "changes", "resources", "events")
#: What each view's folder holds: errors keeps the logs it mined with its templates.
KEPT = {"errors": ["errors", "logs"]}


def _declare(invoke: Invoke, site: Site) -> str:
    result = invoke(site.args("triage", "--declare", "-o", "json"))
    assert result.exit_code in (0, 3), result.output
    incident: str = json.loads(result.stdout)["data"]["incident"]
    assert incident
    return incident


def _collected(invoke: Invoke, site: Site, incident: str) -> list[dict[str, Any]]:
    timeline = json.loads(invoke(site.args("incident", "timeline", incident, "-o", "json")).stdout)
    return [e for e in timeline["data"]["events"] if e["kind"] == "evidence_collected"]


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_keeps_its_files_and_one_event(invoke: Invoke, site_for: Callable[..., Site], view: str) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    result = run(invoke, site, "investigate", view)
    assert result.exit_code in (0, 3), result.output
    (folder,) = (site.journal / incident / "evidence").iterdir()
    assert folder.name.endswith(f"-{view}")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files
    assert {f.split("/")[0] for f in files} == set(KEPT.get(view, [view]))
    assert f"recorded in {incident}" in result.stderr
    (event,) = _collected(invoke, site, incident)
    assert event["data"]["views"] == KEPT.get(view, [view])
    assert event["data"]["files"] == len(files)
    assert event["data"]["folder"] == str(folder.relative_to(site.journal / incident))


@pytest.mark.parametrize("view", VIEWS)
def test_no_save_keeps_nothing(invoke: Invoke, site_for: Callable[..., Site], view: str) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    result = run(invoke, site, "investigate", view, "--no-save")
    assert result.exit_code in (0, 3), result.output
    assert not (site.journal / incident / "evidence").exists()
    assert not _collected(invoke, site, incident)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_with_no_open_incident_nothing_is_kept_and_it_is_said_once(
    invoke: Invoke, site_for: Callable[..., Site], view: str, fmt: str
) -> None:
    site = site_for("db-outage")
    result = run(invoke, site, "investigate", view, "-o", fmt)
    assert result.exit_code in (0, 3), result.output
    assert result.stderr.count("no open incident: evidence not saved") == 1
    assert not site.journal.exists() or not any(site.journal.glob("INC-*"))


def test_errors_of_a_saved_log_keep_nothing(invoke: Invoke, site_for: Callable[..., Site], tmp_path: Path) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    saved = tmp_path / "app.log"
    saved.write_text("ERROR connection refused to db-1\nERROR connection refused to db-2\n")
    result = run(invoke, site, "investigate", "errors", "--file", str(saved))
    assert result.exit_code in (0, 3), result.output
    assert not (site.journal / incident / "evidence").exists()
    assert "evidence" not in result.stderr
    assert not _collected(invoke, site, incident)


def test_the_umbrella_still_keeps_one_folder_and_one_event(invoke: Invoke, site_for: Callable[..., Site]) -> None:
    site = site_for("db-outage")
    incident = _declare(invoke, site)
    result = run(invoke, site, "investigate")
    assert result.exit_code == 3, result.output
    (folder,) = (site.journal / incident / "evidence").iterdir()
    assert folder.name.endswith("-all")
    assert len(_collected(invoke, site, incident)) == 1
