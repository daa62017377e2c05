"""The incident's evidence folder: files written whole (temp file + rename), never through a symbolic link, with
names from the cluster made safe, secrets redacted on the way to disk and a size cap that says when it cut."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import pytest

from incidentctl.adapters.secrets import Secrets
from incidentctl.errors import JournalError
from incidentctl.journal.evidence import EvidenceStore, safe_path
from incidentctl.phases.investigate.base import Evidence

NOW = datetime(2026, 3, 14, 14, 30, 5, tzinfo=timezone.utc)
INCIDENT = "INC-2026-004"
SECRET = "xoxb-5ecret-token-value"


def text(content: str | bytes, *, pieces: int = 1) -> Callable[[IO[bytes]], None]:
    """A writer that hands its content over in ``pieces`` writes (a secret may be cut between two)."""
    data = content.encode() if isinstance(content, str) else content

    def write(out: IO[bytes]) -> None:
        step = max(1, len(data) // pieces)
        for i in range(0, len(data), step):
            out.write(data[i : i + step])

    return write


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    (tmp_path / "incidents" / INCIDENT).mkdir(parents=True)
    return tmp_path / "incidents"


def secrets() -> Secrets:
    s = Secrets({"TOKEN": SECRET})
    s.resolve(type("Ref", (), {"env": "TOKEN", "file": None})())
    return s


def save(journal: Path, *items: Evidence, max_bytes: int = 1 << 20, label: str = "all") -> tuple[Path, list[str]]:
    store = EvidenceStore(journal, max_bytes=max_bytes)
    saved = store.save(INCIDENT, label, items, now=NOW, redact=secrets().redact)
    assert saved.location == journal / INCIDENT / saved.folder
    return saved.location, [f.path for f in saved.files]


def every_file(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_files_land_whole_in_a_run_folder_named_by_time_and_view(journal: Path) -> None:
    run, written = save(journal, Evidence("logs/gateway-7d9f-abcde.log", text("one\ntwo\n")), label="logs")
    assert run.name == "20260314T143005Z-logs"
    assert run.parent == journal / INCIDENT / "evidence"
    assert (run / "logs" / "gateway-7d9f-abcde.log").read_text() == "one\ntwo\n"
    assert every_file(run) == ["logs/gateway-7d9f-abcde.log"] == written  # no temporary file left behind


def test_two_runs_in_one_second_keep_both(journal: Path) -> None:
    first, _ = save(journal, Evidence("a.txt", text("1")))
    second, _ = save(journal, Evidence("a.txt", text("2")))
    assert first != second
    assert (first / "a.txt").read_text() == "1"
    assert (second / "a.txt").read_text() == "2"


@pytest.mark.parametrize(
    "name",
    [
        "../../../outside.log",
        "logs/../../../../outside.log",
        "..",
        "/etc/outside.log",
        "logs\\..\\..\\outside.log",
        ".hidden",
        "",
        "pod\x1b[31mred\x00nul\n.log",
        "a" * 400 + ".log",
        "a/b/c/d/e/f/g/h.log",
        "-rf",
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "only-dots",
        "absolute",
        "backslashes",
        "hidden",
        "empty",
        "control",
        "long",
        "deep",
        "dash",
    ],
)
def test_a_damaged_name_stays_inside_the_run_folder_as_one_safe_file(journal: Path, name: str) -> None:
    run, written = save(journal, Evidence(name, text("content\n")))
    assert not (journal.parent / "outside.log").exists()
    assert not (journal / "outside.log").exists()
    (only,) = every_file(run)
    assert only == written[0]
    parts = Path(only).parts
    assert len(parts) <= 5
    for part in parts:
        assert part not in ("", ".", "..")
        assert ".." not in part
        assert not part.startswith((".", "-"))
        assert all(c.isalnum() or c in "._-" for c in part)
        assert len(part) <= 120
    assert (run / only).read_text() == "content\n"


def test_names_that_sanitise_alike_keep_both_files(journal: Path) -> None:
    run, written = save(journal, Evidence("logs/a b.log", text("1")), Evidence("logs/a:b.log", text("2")))
    assert len(set(written)) == 2
    assert sorted((run / w).read_text() for w in written) == ["1", "2"]


def test_safe_path_of_cluster_text() -> None:
    assert safe_path("logs/gateway-7d9f.log") == ("logs", "gateway-7d9f.log")
    assert ".." not in "".join(safe_path("../..//x"))


@pytest.mark.parametrize("pieces", [1, 3, 17])
def test_a_secret_in_a_log_line_or_url_never_reaches_the_disk(journal: Path, pieces: int) -> None:
    log = (
        f"2026-03-14T14:29:01Z ERROR posting to https://hooks.slack.com/services/{SECRET}/x failed\n"
        f'{{"level":"error","auth":"Bearer {SECRET}","msg":"denied"}}\n'
        f"no newline at the end {SECRET}"
    )
    run, _ = save(journal, Evidence("logs/synthesis.log", text(log, pieces=pieces)))
    kept = (run / "logs" / "synthesis.log").read_text()
    assert SECRET not in kept
    assert kept.count("***") == 3
    assert kept.startswith("2026-03-14T14:29:01Z ERROR posting to https://hooks.slack.com/services/***/x failed\n")


def test_a_secret_in_a_line_longer_than_the_buffer_is_still_found(journal: Path) -> None:
    line = "x" * (1024 * 1024 - 5) + SECRET + "y" * 5000  # the secret straddles the first cut
    run, _ = save(journal, Evidence("big.log", text(line, pieces=64)), max_bytes=4 << 20)
    kept = (run / "big.log").read_text()
    assert SECRET not in kept
    assert "***" in kept


def test_bytes_that_are_not_utf8_are_kept_as_they_are(journal: Path) -> None:
    raw = b"\xff\xfe binary \x80 line\n"
    run, _ = save(journal, Evidence("raw.log", text(raw)))
    assert (run / "raw.log").read_bytes() == raw


def test_a_file_over_the_cap_is_cut_at_a_line_with_a_note(journal: Path) -> None:
    lines = "".join(f"line {i:04d}\n" for i in range(1000))  # 10 bytes a line
    store = EvidenceStore(journal, max_bytes=95)
    saved = store.save(INCIDENT, "logs", [Evidence("big.log", text(lines, pieces=50))], now=NOW, redact=str)
    (f,) = saved.files
    assert f.cut
    assert f.bytes == 90
    kept = (saved.location / "big.log").read_text()
    assert kept.startswith("line 0000\n")
    assert "line 0008\n" in kept
    assert "line 0009" not in kept
    assert kept.endswith("[incidentctl: cut at 95 bytes; the rest was not kept]\n")


def test_a_writer_that_fails_costs_its_own_file_only(journal: Path) -> None:
    def broken(out: IO[bytes]) -> None:
        out.write(b"partial")
        raise RuntimeError(f"cannot read the pod's log with {SECRET}")

    store = EvidenceStore(journal)
    saved = store.save(
        INCIDENT,
        "all",
        [Evidence("bad.log", broken), Evidence("good.log", text("ok\n"))],
        now=NOW,
        redact=secrets().redact,
    )
    assert [f.path for f in saved.files] == ["good.log"]
    assert len(saved.problems) == 1
    assert "bad.log" in saved.problems[0]
    assert SECRET not in saved.problems[0]
    assert every_file(saved.location) == ["good.log"]  # the partial one was removed, no temp file left


def test_an_evidence_folder_that_is_a_link_is_refused_and_nothing_is_written_through_it(
    journal: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (journal / INCIDENT / "evidence").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(JournalError, match="symbolic link"):
        save(journal, Evidence("a.log", text("x")))
    assert list(elsewhere.iterdir()) == []


def test_an_incident_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "incidents"
    journal.mkdir()
    real = tmp_path / "real"
    real.mkdir()
    (journal / INCIDENT).symlink_to(real, target_is_directory=True)
    with pytest.raises(JournalError, match="symbolic link"):
        save(journal, Evidence("a.log", text("x")))
    assert list(real.iterdir()) == []


def test_a_link_planted_where_a_subfolder_goes_is_refused(journal: Path, tmp_path: Path) -> None:
    """A run folder is new, so a link can only appear in it by a race; the writer still opens each level
    without following one."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def plant_then_write(out: IO[bytes]) -> None:
        out.write(b"first\n")
        run = next((journal / INCIDENT / "evidence").iterdir())
        os.symlink(elsewhere, run / "logs")

    store = EvidenceStore(journal)
    with pytest.raises(JournalError, match="symbolic link"):
        store.save(
            INCIDENT,
            "all",
            [Evidence("first.log", plant_then_write), Evidence("logs/x.log", text("x"))],
            now=NOW,
            redact=str,
        )
    assert list(elsewhere.iterdir()) == []
