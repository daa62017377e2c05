"""Two terminals: ``incident timeline ID --follow`` in one process, notes added from others, on both backends.

Everything runs as real processes (``python -m incidentctl``) with a runbook in a temporary folder, as two
responders on two laptops would: the folder journal shared through the file system, the team journal through a
real PostgreSQL server. The waits are generous (a loaded CI machine); the latency seen is printed, and measured
properly by the benchmark.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.phases.test_closed_pipe import _assert_quiet_141, _into_finished_head

from incidentctl.core.times import parse_rfc3339

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"

#: How long a test waits for a line before it fails: far beyond what following takes, short of a hung test.
PATIENCE = 15.0

POSTGRES_JOURNAL = (
    "journal:\n  backend: postgres\n  dsn: {env: INCIDENTCTL_JOURNAL_DSN}\n  spool: spool\n  connect_timeout: 2s\n"
)


@dataclass
class Site:
    """A runbook folder and the environment every process of one test shares."""

    folder: Path
    env: dict[str, str]
    backend: str

    def run(self, *args: str, actor: str = "bob") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "incidentctl", *args],
            cwd=self.folder,
            env={**self.env, "INCIDENTCTL_ACTOR": actor},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def start(self, *args: str, actor: str = "alice") -> Process:
        proc = subprocess.Popen(
            [sys.executable, "-m", "incidentctl", *args],
            cwd=self.folder,
            env={**self.env, "INCIDENTCTL_ACTOR": actor},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Process(proc)


@dataclass
class Process:
    """A running follower whose output is collected line by line, each with the moment it arrived."""

    proc: subprocess.Popen[str]
    out: list[tuple[float, str]] = field(default_factory=list)
    err: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _collect(stream: object, lines: list[tuple[float, str]]) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            lines.append((time.monotonic(), raw.rstrip("\n")))

    def wait_for(self, predicate: Callable[[str], bool], *, stream: str = "out", after: int = 0) -> tuple[float, str]:
        lines = self.out if stream == "out" else self.err
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            for arrived, line in list(lines)[after:]:
                if predicate(line):
                    return arrived, line
            if self.proc.poll() is not None and not any(predicate(line) for _, line in list(lines)[after:]):
                time.sleep(0.2)  # the readers may still be draining the pipes
                if not any(predicate(line) for _, line in list(lines)[after:]):
                    break
            time.sleep(0.02)
        raise AssertionError(
            f"no such line on std{stream} within {PATIENCE}s (exit {self.proc.poll()}); "
            f"stdout: {self.lines()[-10:]}, stderr: {self.lines('err')[-10:]}"
        )

    def lines(self, stream: str = "out") -> list[str]:
        return [line for _, line in (self.out if stream == "out" else self.err)]

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(params=["folder", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Site:
    runbook = (REPO / "runbook.yaml").read_text(encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    env.pop("INCIDENTCTL_JOURNAL", None)
    env.pop("INCIDENTCTL_RUNBOOK", None)
    if request.param == "postgres":
        assert "journal:\n  dir: incidents\n" in runbook
        runbook = runbook.replace("journal:\n  dir: incidents\n", POSTGRES_JOURNAL)
        env["INCIDENTCTL_JOURNAL_DSN"] = request.getfixturevalue("journal_dsn")
    (tmp_path / "runbook.yaml").write_text(runbook, encoding="utf-8")
    return Site(tmp_path, env, request.param)


@pytest.fixture
def follow(site: Site) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = site.start(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def _ending(text: str) -> Callable[[str], bool]:
    return lambda line: line.endswith(text)


def _declare(site: Site) -> str:
    return site.run("incident", "declare", "--title", "Database connection failure", "--severity", "P1").stdout.strip()


def test_a_note_from_another_terminal_appears_in_the_follower(
    site: Site, follow: Callable[..., Process], capsys: pytest.CaptureFixture[str]
) -> None:
    incident_id = _declare(site)
    follower = follow("incident", "timeline", incident_id, "--follow")
    follower.wait_for(lambda line: "declared P1 Critical: Database connection failure" in line)
    header = follower.lines()[0].split()
    assert header == ["TIME", "ACTOR", "KIND", "WHAT"]
    arrivals = []
    for n in range(3):
        text = f"checked the pool, round {n}"
        site.run("incident", "note", incident_id, text, actor="bob")
        arrived, line = follower.wait_for(_ending(text))
        arrivals.append(time.time() - (time.monotonic() - arrived))  # when it arrived, on the wall clock
        assert line.split()[3:5] == ["bob", "note"]
    events = json.loads(site.run("incident", "timeline", incident_id, "-o", "json").stdout)["data"]["events"]
    recorded = [parse_rfc3339(e["time"]).timestamp() for e in events if e["kind"] == "note"]
    latencies = [arrival - at for arrival, at in zip(arrivals, recorded, strict=True)]
    table = site.run("incident", "timeline", incident_id).stdout.splitlines()
    # the same rows as the table (the follower pads its columns as one table; the words are the same)
    assert [row.split() for row in follower.lines()] == [row.split() for row in table]
    assert follower.interrupt() == 130
    with capsys.disabled():
        print(
            f"\n[{site.backend}] from the append to the follower's line: "
            + ", ".join(f"{s * 1000:.0f} ms" for s in latencies)
        )


def test_json_lines_each_event_once_when_many_arrive_at_once(site: Site, follow: Callable[..., Process]) -> None:
    incident_id = _declare(site)
    follower = follow("incident", "timeline", incident_id, "--follow", "-o", "json")
    follower.wait_for(lambda line: '"kind": "declared"' in line)
    burst = 30
    writer = [
        sys.executable,
        "-c",
        "import sys\n"
        "from incidentctl.cli import run\n"
        "incident, count = sys.argv[1], int(sys.argv[2])\n"
        "for n in range(count):\n"
        "    sys.argv = ['incidentctl', 'incident', 'note', incident, f'burst {n}']\n"
        "    assert run() == 0\n",
        incident_id,
        str(burst),
    ]
    # one process appending as fast as it can (a script, a CI job), and a second note from elsewhere meanwhile
    bulk = subprocess.Popen(
        writer,
        cwd=site.folder,
        env={**site.env, "INCIDENTCTL_ACTOR": "ci"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    site.run("incident", "ack", incident_id, actor="bob")
    _, errors = bulk.communicate(timeout=120)
    assert bulk.returncode == 0, errors
    follower.wait_for(lambda line: f'"burst {burst - 1}"' in line)
    follower.wait_for(lambda line: '"kind": "acknowledged"' in line)
    timeline = json.loads(site.run("incident", "timeline", incident_id, "-o", "json").stdout)["data"]["events"]
    assert len(timeline) == burst + 2
    time.sleep(0.5)  # room for a duplicate to show, if the follower were to print one
    documents = [json.loads(line) for line in follower.lines()]
    assert {(d["apiVersion"], d["kind"], d["data"]["incident"]) for d in documents} == {
        ("incidentctl/v1", "TimelineEvent", incident_id)
    }
    # exactly the timeline's events, each once, in its order, in the same shape as timeline -o json
    assert [d["data"]["event"] for d in documents] == timeline
    assert follower.interrupt() == 130
    assert "Traceback" not in "\n".join(follower.lines("err"))


def test_user_text_is_sanitised_in_the_follow(site: Site, follow: Callable[..., Process]) -> None:
    incident_id = _declare(site)
    follower = follow("incident", "timeline", incident_id, "-f")
    follower.wait_for(lambda line: "declared P1" in line)
    hostile = "pool\x1b]0;pwned\x07 \x1b[2J\x1b[31mcleared\rFORGED 2026-01-01\nnext\u202eline"
    site.run("incident", "note", incident_id, hostile)
    _, line = follower.wait_for(lambda line: "cleared" in line)
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in line
    assert "FORGED" in line  # kept, on the note's own row: a newline cannot start a forged row
    assert not any(row.startswith("FORGED") or row.startswith("next") for row in follower.lines())
    assert follower.interrupt() == 130


def test_ctrl_c_ends_the_follow_quietly_with_130(site: Site, follow: Callable[..., Process]) -> None:
    incident_id = _declare(site)
    follower = follow("incident", "timeline", incident_id, "--follow")
    follower.wait_for(lambda line: "declared P1" in line)
    time.sleep(0.5)  # well into waiting for the next event
    assert follower.interrupt() == 130
    errors = "\n".join(follower.lines("err"))
    assert "Traceback" not in errors
    assert "Aborted" not in errors
    assert errors == ""


def test_a_follow_into_a_closed_pipe_is_141(site: Site) -> None:
    incident_id = _declare(site)
    for output in ("table", "json"):
        args = ["incident", "timeline", incident_id, "--follow", "-o", output]
        proc = _into_finished_head_with(site, args)
        _assert_quiet_141(proc)


def _into_finished_head_with(site: Site, args: list[str]) -> subprocess.CompletedProcess[str]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(site.env)
    try:
        return _into_finished_head(args, site.folder)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize("site", ["folder"], indirect=True)
def test_follow_errors_are_one_line(site: Site) -> None:
    for args, code, needle in (
        (["incident", "timeline", "INC-2026-999", "--follow"], 2, "error: incident INC-2026-999 not found"),
        (["incident", "timeline", "INC-2026-001", "--follow", "-o", "markdown"], 2, "error: --follow prints"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "incidentctl", *args],
            cwd=site.folder,
            env=site.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == code, done.stderr
        assert done.stderr.splitlines()[0].startswith(needle), done.stderr
        assert "Traceback" not in done.stderr


def test_list_watch_prints_the_list_again_when_it_changes(site: Site, follow: Callable[..., Process]) -> None:
    first_id = _declare(site)
    watcher = follow("incident", "list", "--watch", "-o", "json")
    _, line = watcher.wait_for(lambda line: first_id in line)
    assert [item["id"] for item in json.loads(line)["data"]["items"]] == [first_id]
    second_id = _declare(site)
    _, line = watcher.wait_for(lambda line: second_id in line)
    assert [item["id"] for item in json.loads(line)["data"]["items"]] == [second_id, first_id]
    site.run("incident", "ack", first_id, actor="bob")
    _, line = watcher.wait_for(lambda line: '"acknowledgedBy": "bob"' in line)
    document = json.loads(line)
    assert document["kind"] == "IncidentList"
    assert {i["id"]: i["acknowledgedBy"] for i in document["data"]["items"]} == {first_id: "bob", second_id: None}
    assert all(json.loads(raw)["kind"] == "IncidentList" for raw in watcher.lines())
    assert watcher.interrupt() == 130


@pytest.mark.parametrize("site", ["folder"], indirect=True)
def test_list_watch_as_a_table_reprints_it(site: Site, follow: Callable[..., Process]) -> None:
    watcher = follow("incident", "list", "--watch")
    watcher.wait_for(lambda line: line.startswith("no incidents open or active"))
    incident_id = _declare(site)
    watcher.wait_for(lambda line: line.startswith(incident_id))
    assert watcher.lines()[-2].split()[:3] == ["ID", "SEVERITY", "STATUS"]
    assert watcher.interrupt() == 130


def test_the_team_journal_going_away_is_said_retried_and_its_return_too(
    tmp_path: Path, own_postgres_server: object
) -> None:
    import psycopg
    from tests.pgserver import PostgresServer

    from incidentctl.journal.postgres.schema import migrate

    assert isinstance(own_postgres_server, PostgresServer)
    server = own_postgres_server
    dsn = server.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, applied_by="tests")
    runbook = (REPO / "runbook.yaml").read_text(encoding="utf-8")
    (tmp_path / "runbook.yaml").write_text(runbook.replace("journal:\n  dir: incidents\n", POSTGRES_JOURNAL))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "INCIDENTCTL_JOURNAL_DSN": dsn,
    }
    site = Site(tmp_path, env, "postgres")
    incident_id = _declare(site)
    follower = site.start("incident", "timeline", incident_id, "--follow")
    try:
        follower.wait_for(lambda line: "declared P1" in line)
        time.sleep(1.0)  # listening by now
        server.stop()
        _, lost = follower.wait_for(lambda line: "retrying" in line, stream="err")
        assert lost.startswith("warning: cannot reach the team journal at postgres://127.0.0.1:")
        assert "incidentctl@" not in lost  # the DSN (its user, a password) is never shown
        time.sleep(2.0)
        assert follower.proc.poll() is None  # still following, not ended by the outage
        assert len([line for line in follower.lines("err") if "retrying" in line]) == 1  # said once, not spammed
        assert len(follower.lines()) == 2  # nothing claimed while away
        server.start()
        _, back = follower.wait_for(lambda line: "answers again" in line, stream="err")
        assert back.startswith(f"the journal at postgres://127.0.0.1:{server.port}/")
        site.run("incident", "note", incident_id, "the database is back")
        follower.wait_for(lambda line: line.endswith("the database is back"))
        assert follower.interrupt() == 130
        assert "Traceback" not in "\n".join(follower.lines("err"))
    finally:
        follower.kill()


@pytest.mark.parametrize("site", ["folder"], indirect=True)
def test_a_torn_line_while_following_is_warned_once_and_the_follow_goes_on(
    site: Site, follow: Callable[..., Process]
) -> None:
    incident_id = _declare(site)
    follower = follow("incident", "timeline", incident_id, "--follow", "-o", "json")
    follower.wait_for(lambda line: '"kind": "declared"' in line)
    with (site.folder / "incidents" / incident_id / "timeline.jsonl").open("ab") as handle:
        handle.write(b'{"time": "2026-03-14T14:3')  # a writer that died mid-line
    _, warning = follower.wait_for(lambda line: "torn last line" in line, stream="err")
    assert warning.startswith(f"warning: {incident_id}/timeline.jsonl:2: ignoring a torn last line")
    site.run("incident", "note", incident_id, "after the crash")  # closes the torn line off, records that
    follower.wait_for(lambda line: '"after the crash"' in line)
    kinds = [json.loads(line)["data"]["event"]["kind"] for line in follower.lines()]
    assert kinds == ["declared", "journal_repaired", "note"]
    assert len([line for line in follower.lines("err") if "torn last line" in line]) == 1
    assert follower.interrupt() == 130


@pytest.mark.parametrize("site", ["folder"], indirect=True)
def test_a_reader_that_goes_away_ends_an_idle_follow_with_141(site: Site) -> None:
    """``... --follow | grep -m1 bob``: once grep has its line the follow ends, with nothing new to print."""
    incident_id = _declare(site)
    for args, shows in (
        (["incident", "timeline", incident_id, "--follow"], "Database connection failure"),
        (["incident", "list", "--watch"], incident_id),
    ):
        proc = subprocess.Popen(
            [sys.executable, "-m", "incidentctl", *args],
            cwd=site.folder,
            env=site.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = "-"
            while line and shows not in line:  # "" is the end of the output: the follow ended on its own
                line = proc.stdout.readline()
            assert line, "the follow ended before printing what it follows"
            proc.stdout.close()  # the reader goes away; nobody writes to the journal any more
            assert proc.wait(timeout=PATIENCE) == 141
            assert proc.stderr is not None
            assert proc.stderr.read() == ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
