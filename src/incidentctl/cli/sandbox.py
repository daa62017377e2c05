"""``incidentctl sandbox``: a local simulated SarvanOM cluster for drills and demos (no real cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from incidentctl.cli.state import AppState
from incidentctl.core.times import format_elapsed, format_percent, format_rfc3339
from incidentctl.errors import ConfigError, UnreachableError, UsageError

if TYPE_CHECKING:
    from incidentctl.sandbox.folder_claim import FolderClaim

app = typer.Typer(
    help="Run a local, kubectl-compatible SarvanOM cluster with scripted incidents (drills, demos).",
    no_args_is_help=True,
)

DirOption = Annotated[Path, typer.Option("--dir", help="Folder for the sandbox's kubeconfig and runbook.yaml.")]


def _scenario_names() -> list[str]:
    from incidentctl.sandbox.scenarios import SCENARIOS

    return list(SCENARIOS)


@app.command()
def scenarios(
    ctx: typer.Context,
    mitigations: Annotated[
        bool, typer.Option("--mitigations", help="Also show what fixes each (the answers: keep them from responders).")
    ] = False,
) -> None:
    """List the scripted incidents and what a responder sees; --mitigations adds what fixes each."""
    from incidentctl.sandbox.scenarios import SCENARIOS

    state: AppState = ctx.obj
    state.output_format()
    data: list[dict[str, Any]] = [
        {"name": s.name, "summary": s.summary, "symptoms": s.symptoms, "mitigation": s.mitigation, "fix": list(s.fix)}
        for s in SCENARIOS.values()
    ]

    def table(console: Any) -> None:
        from rich.table import Table

        grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        grid.add_column("SCENARIO", no_wrap=True)
        grid.add_column("WHAT HAPPENS")
        if mitigations:
            grid.add_column("MITIGATION")
        for item in data:
            grid.add_row(item["name"], item["summary"], *([_fixes(item)] if mitigations else []))
        console.print(grid)

    state.printer.result("SandboxScenarioList", data, table=table)


def _fixes(item: dict[str, Any]) -> str:
    """The incidentctl command first (quoted as a shell takes it), the kubectl line it replaces beneath it."""
    import shlex

    from rich.markup import escape

    if item["name"] == "healthy":
        return escape(item["mitigation"])
    fix = item["fix"]
    first = f"incidentctl {shlex.join(fix)}" if fix else "no incidentctl command"
    return escape(f"{first}\nby hand: {item['mitigation']}")


@app.command()
def up(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Option("--scenario", help="The incident to start with (see `sandbox scenarios`).")
    ] = "healthy",
    directory: DirOption = Path(".sandbox"),
    port: Annotated[int, typer.Option("--port", help="Loopback port to serve on (0: any free port).")] = 0,
    tls: Annotated[
        bool,
        typer.Option(
            "--tls",
            help="Serve HTTPS with a self-signed certificate (DIR/tls/) and "
            "require the kubeconfig's token, as a real API server does.",
        ),
    ] = False,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            metavar="N",
            min=1.0,
            max=1000.0,
            help="Run the cluster's clock N times as fast as yours: a rollout of a minute takes 60/N seconds. "
            "Ages kubectl works out itself (describe) use your clock: what is newer than it shows as invalid.",
        ),
    ] = 1.0,
) -> None:
    """Start the sandbox: write DIR/kubeconfig and DIR/runbook.yaml, then serve until Ctrl-C or SIGTERM."""
    import gc

    from incidentctl.sandbox import scenarios as catalogue
    from incidentctl.sandbox.folder_claim import FolderClaim, FolderInUse

    gc.enable()  # a server that runs for hours collects its garbage as usual (the entry point starts with it off)

    state: AppState = ctx.obj
    if scenario not in catalogue.SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(catalogue.SCENARIOS)}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (0-65535)")

    directory = directory if directory.is_absolute() else state.working_dir / directory
    claim = FolderClaim(directory)
    try:
        claim.acquire()
    except FolderInUse as e:
        raise UsageError(
            f"--dir {directory} is in use by {e.holder}",
            hint="stop that sandbox first (Ctrl-C where it runs), or pick another --dir",
        ) from e
    except OSError as e:
        raise ConfigError(f"cannot claim the sandbox folder {directory}: {e.strerror or e}") from e
    try:
        _serve(claim, scenario, port, tls, speed)
    finally:
        claim.release()
    state.printer.note("sandbox stopped")


def _serve(claim: FolderClaim, scenario: str, port: int, tls: bool, speed: float) -> None:
    """Build, start and serve the sandbox from the claimed folder until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from incidentctl.sandbox.sandbox import Sandbox
    from incidentctl.sandbox.sandbox_runbook import write_runbook
    from incidentctl.sandbox.tls import TlsUnavailable

    directory = claim.directory
    sandbox = Sandbox(scenario, port=port, realtime=True, speed=speed, tls_dir=directory / "tls" if tls else None)
    try:
        sandbox.start()
    except TlsUnavailable as e:
        raise UsageError(str(e), hint="install openssl, or run without --tls") from e
    except OSError as e:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}",
            hint="pick another --port, or --port 0 for any free one",
        ) from e
    try:
        kubeconfig = sandbox.write_kubeconfig(directory / "kubeconfig")
        # relative to the runbook's folder, as the runbook resolves it: the folder can move as a whole
        ca_file = sandbox.ca_file.relative_to(directory).as_posix() if sandbox.ca_file else None
        runbook = write_runbook(
            directory / "runbook.yaml",
            sandbox.url,
            "incidents",
            ca_file=ca_file,
            credentials=sandbox.notify.credentials,
        )
        claim.announce(sandbox.url)
    except OSError as e:
        sandbox.stop()
        raise ConfigError(f"cannot write the sandbox files into {directory}: {e.strerror or e}") from e
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    pace = f", clock at {speed:g}x" if speed != 1 else ""
    typer.echo(
        f"SarvanOM sandbox serving on {sandbox.url} (scenario: {scenario}{pace})\n"
        f"  kubectl --kubeconfig {kubeconfig} get pods\n"
        f"  export KUBECONFIG={kubeconfig} INCIDENTCTL_RUNBOOK={runbook}\n"
        f"  incidentctl sandbox inject bad-deploy --dir {directory}   # start an incident mid-drill\n"
        + (
            f"  HTTPS with a self-signed certificate, {sandbox.ca_file}: runbook.yaml trusts it "
            f"(tls: {{ca_file: {ca_file}}}); curl needs --cacert {sandbox.ca_file}\n"
            if sandbox.ca_file
            else ""
        )
        + "Press Ctrl-C to stop."
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()


@app.command()
def inject(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="The scenario that replaces the one playing.")],
    directory: DirOption = Path(".sandbox"),
) -> None:
    """Replace the scenario a running sandbox plays (a drill leader starting the incident while responders work).

    It replaces, never stacks: the previous scenario's faults are cleared first (a broken revision is rolled back
    as `kubectl rollout undo` would), then the new one starts. What responders changed stays (replica counts,
    restarts, ConfigMap edits such as an open circuit breaker), and so do restart counts, events, logs and the
    last five minutes of metrics. `inject healthy` ends the incident.
    """
    state: AppState = ctx.obj
    state.output_format()
    if scenario not in _scenario_names():
        raise UsageError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(_scenario_names())}")
    url, described = _admin(state, directory, {"scenario": scenario})
    replaced = described.get("replaced")
    data = {
        "scenario": described["scenario"],
        "replaced": replaced,
        "url": url,
        "time": described["time"],
        "signals": described["signals"],
    }

    def table(console: Any) -> None:
        console.print(f"sandbox at {url} now plays [bold]{described['scenario']}[/]", highlight=False)
        if replaced and replaced != "healthy":
            again = " (from the start)" if replaced == described["scenario"] else ""
            console.print(
                f"{replaced}'s faults are cleared{again}, a broken revision rolled back; what responders changed stays",
                highlight=False,
            )

    state.printer.result("SandboxScenario", data, table=table)


@app.command()
def status(ctx: typer.Context, directory: DirOption = Path(".sandbox")) -> None:
    """Show what a running sandbox plays and what its services suffer (for the drill leader)."""
    state: AppState = ctx.obj
    state.output_format()
    url, described = _admin(state, directory, None)
    _, channels = _admin(state, directory, None, "channels")
    channels["files"] = _channel_files(state, directory)
    data = {
        "scenario": described["scenario"],
        "url": url,
        "time": described["time"],
        "signals": described["signals"],
        "switched": described.get("switched", []),
        "channels": channels,
    }

    def table(console: Any) -> None:
        from rich.table import Table

        console.print(f"sandbox at {url} plays [bold]{described['scenario']}[/] ({described['time']})")
        grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("SERVICE", "READY", "ERRORS", "P95", "CAUSE"):
            grid.add_column(column)
        for name, sig in described["signals"].items():
            grid.add_row(
                name,
                f"{sig['ready']}/{sig['desired']}",
                format_percent(sig["error_rate"]),
                format_elapsed(sig["p95_seconds"]),
                sig["cause"] or "-",
            )
        console.print(grid)
        for line in data["switched"]:
            console.print(f"switched: {line}", highlight=False, markup=False)
        _channels_table(console, channels)

    state.printer.result("SandboxStatus", data, table=table)


@app.command()
def fault(
    ctx: typer.Context,
    target: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at run time on Python 3.10
        typer.Argument(
            metavar="TARGET",
            help="What fails: slack, statuspage, pagerduty, kube, health, deps, prometheus, alertmanager or any.",
            show_default=False,
        ),
    ] = None,
    status_code: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--status", metavar="CODE", help="Answer with this HTTP status (429, 500, 503...).", min=400, max=599
        ),
    ] = None,
    retry_after: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--retry-after", metavar="SECONDS", help="With --status: the Retry-After header.", min=0),
    ] = None,
    hang: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--hang", metavar="SECONDS", help="Answer this many seconds late instead.", min=0.0, max=600.0),
    ] = None,
    count: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--count", metavar="N", help="For the next N requests only (default: until --clear).", min=1),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every fault first (alone: just that).")] = False,
    directory: DirOption = Path(".sandbox"),
) -> None:
    """Make a running sandbox's stand-ins fail for a while (a drill leader testing the team's retries): a 429 with
    Retry-After, a 5xx, or a hang. Without TARGET, lists the faults in force."""
    from incidentctl.sandbox.faults import TARGETS

    state: AppState = ctx.obj
    state.output_format()
    if target is not None and target not in TARGETS:
        raise UsageError(f"unknown fault target {target!r}", hint=f"choose one of: {', '.join(TARGETS)}")
    if target is not None and (status_code is None) == (hang is None):
        raise UsageError("give exactly one of --status CODE or --hang SECONDS")
    if target is None and (status_code is not None or hang is not None or count is not None):
        raise UsageError("name the TARGET the fault applies to (e.g. slack)")
    if retry_after is not None and status_code is None:
        raise UsageError("--retry-after goes with --status (429, 503)")
    url, faults = _admin(state, directory, None, "faults", method="DELETE" if clear else None)
    if target is not None:
        body: dict[str, Any] = {"target": target, "count": count}
        body |= {"hang": hang} if hang is not None else {"status": status_code, "retryAfter": retry_after}
        url, faults = _admin(state, directory, body, "faults")
    data = {"url": url, "faults": faults}

    def table(console: Any) -> None:
        if not faults:
            console.print(f"sandbox at {url}: no faults", highlight=False)
        for item in faults:
            what = f"{item['seconds']:g}s late" if item["kind"] == "latency" else f"HTTP {item['status']}"
            if item.get("retry_after") is not None:
                what += f" (Retry-After: {item['retry_after']})"
            left = "until cleared" if item.get("remaining") is None else f"{item['remaining']} more request(s)"
            console.print(f"{item['target']}: {what}, {left}", highlight=False, markup=False)

    state.printer.result("SandboxFaults", data, table=table)


@app.command()
def history(
    ctx: typer.Context,
    incidents: Annotated[
        int, typer.Option("--incidents", metavar="N", help="How many past incidents to write.", min=1, max=10_000)
    ] = 200,
    days: Annotated[
        int, typer.Option("--days", metavar="N", help="Spread them over the N days before now.", min=1, max=3650)
    ] = 90,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Another seed, another history; the same seed, the same files.")
    ] = 1,
    now: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--now",
            metavar="TIME",
            help="Where the history ends (RFC 3339 or a date; default: now). Nothing after it is written.",
            show_default=False,
        ),
    ] = None,
    journal: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--journal",
            metavar="DIR",
            help="The journal folder to write (default: $INCIDENTCTL_JOURNAL, else the runbook's). Must hold no "
            "incident yet.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a journal of realistic past incidents (for trying `report` and `postmortem` without living through
    them): severities, categories and components from the runbook, written as real runs write them."""
    from incidentctl.journal.query import parse_point_in_time
    from incidentctl.render.output_kinds import SandboxHistoryOutput
    from incidentctl.sandbox.past_incidents import write_history

    state: AppState = ctx.obj
    state.output_format()
    clock_now = state.clock()
    end = parse_point_in_time(now, clock_now, option="--now") if now else clock_now
    if journal is not None:
        directory = journal.expanduser()
        directory = directory if directory.is_absolute() else state.working_dir / directory
    else:
        directory = state.settings().journal_dir.value
    written = write_history(state.runbook(), directory, incidents=incidents, days=days, seed=seed, now=end)
    data = SandboxHistoryOutput(
        journal=str(directory),
        incidents=written.incidents,
        events=written.events,
        open=written.open,
        reopened=written.reopened,
        corrected=written.corrected,
        escalated=written.escalated,
        by_severity=written.by_severity,
        first_start=format_rfc3339(written.first),
        last_start=format_rfc3339(written.last),
        now=format_rfc3339(written.now),
        seed=seed,
    )

    def table(console: Any) -> None:
        shares = ", ".join(f"{severity} {count}" for severity, count in written.by_severity.items())
        console.print(
            f"wrote {written.incidents} past incidents ({written.events} events) into {directory}\n"
            f"  {shares}; {written.open} still open, {written.reopened} reopening(s), "
            f"{written.corrected} impact start(s) corrected, {written.escalated} escalated\n"
            f"  from {format_rfc3339(written.first)} to {format_rfc3339(written.now)}\n"
            f"  try: INCIDENTCTL_JOURNAL={directory} incidentctl report monthly",
            highlight=False,
            markup=False,
        )

    state.printer.result("SandboxHistory", data, table=table)


def _channel_files(state: AppState, directory: Path) -> list[dict[str, Any]]:
    """The messages the sandbox runbook's file channels (its email) wrote, from the runbook in ``directory``."""
    import yaml

    directory = directory if directory.is_absolute() else state.working_dir / directory
    try:
        runbook = yaml.safe_load((directory / "runbook.yaml").read_text(encoding="utf-8")) or {}
        channels = dict((runbook.get("communication") or {}).get("channels") or {})
    except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError):
        return []  # no sandbox runbook there (a kubeconfig alone): no file channels to look at
    found = []
    for name, channel in channels.items():
        if not isinstance(channel, dict) or channel.get("kind") != "file" or not channel.get("dir"):
            continue
        folder = directory / str(channel["dir"])
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        found += [
            {"channel": name, "path": p.relative_to(directory).as_posix(), "bytes": p.stat().st_size} for p in files
        ]
    return found


def _channels_table(console: Any, channels: dict[str, Any]) -> None:
    """What each channel stand-in received: one row per Slack message, Statuspage incident, PagerDuty dedup key and
    email file. Everything here was sent by someone, so it is printed as text, never as markup."""
    from rich.table import Table
    from rich.text import Text

    from incidentctl.core.text import for_terminal, one_line

    grid = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("CHANNEL", "WHERE", "RECEIVED"):
        grid.add_column(column)

    def row(channel: str, where: str, what: str) -> None:
        grid.add_row(channel, Text(for_terminal(one_line(where))), Text(for_terminal(one_line(what))))

    for room in channels["slack"]["channels"]:
        where = f"#{room['name']}" + (f" (topic: {room['topic']})" if room["topic"] else "")
        if len(room["members"]) > 1:
            where += f", members {', '.join(room['members'])}"
        if not room["messages"] and room["name"] != "incidents":
            row("slack", where, "channel created, no messages")
        for message in room["messages"]:
            edits = f" [edited {message['edits']}x]" if message["edits"] else ""
            thread = " [in a thread]" if message["thread_ts"] else ""
            row("slack", where, f"{message['via']}{edits}{thread}: {message['text']}")
    for incident in channels["statuspage"]["incidents"]:
        updates = "; ".join(f"{u['status']}: {u['body']}" for u in incident["updates"])
        row(
            "statuspage",
            f"{incident['id']} {incident['shortlink']}",
            f"{incident['name']} ({incident['status']}, impact {incident['impact']}): {updates}",
        )
    for incident in channels["pagerduty"]["incidents"]:
        events = ", ".join(e["action"] for e in incident["events"])
        row("pagerduty", incident["dedup_key"], f"{incident['status']}: {events}")
    for item in channels["files"]:
        row(item["channel"], item["path"], f"{item['bytes']} bytes")
    if grid.row_count:
        console.print()
        console.print(grid)
    else:
        console.print("no channel stand-in has received anything yet", highlight=False)


def _admin(
    state: AppState,
    directory: Path,
    body: dict[str, Any] | None,
    endpoint: str = "scenario",
    *,
    method: str | None = None,
) -> tuple[str, Any]:
    """Call the admin endpoint of the sandbox whose kubeconfig is in ``directory``."""
    import urllib.error

    import yaml

    from incidentctl.sandbox.sandbox import admin_request

    directory = directory if directory.is_absolute() else state.working_dir / directory
    path = directory / "kubeconfig"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        url = config["clusters"][0]["cluster"]["server"]
        token = config["users"][0]["user"]["token"]
        ca_data = config["clusters"][0]["cluster"].get("certificate-authority-data")
    except FileNotFoundError as e:
        raise ConfigError(f"no sandbox kubeconfig at {path}", hint="start one with `incidentctl sandbox up`") from e
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as e:
        raise ConfigError(f"{path} is not a sandbox kubeconfig: {e}") from e
    try:
        return url, admin_request(url, token, endpoint, body, ca_data=ca_data, method=method)
    except urllib.error.HTTPError as e:
        raise UsageError(f"the sandbox at {url} refused: HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise UnreachableError(
            f"no sandbox answering at {url}: {reason}", hint="is `incidentctl sandbox up` still running?"
        ) from e
