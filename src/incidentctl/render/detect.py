"""How a detect report and a triage look: a row per component, then the findings; JUnit XML for CI."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentctl.core.checks import CheckResult, Health
from incidentctl.core.rules import format_value
from incidentctl.errors import IncidentctlError, UsageError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from incidentctl.phases.detect import DetectReport
    from incidentctl.phases.triage import TriageOutcome
    from incidentctl.render.printer import Printer

STYLE = {Health.OK: "green", Health.DEGRADED: "yellow", Health.DOWN: "bold red", Health.UNKNOWN: "magenta"}
WORD = {Health.OK: "OK", Health.DEGRADED: "DEGRADED", Health.DOWN: "DOWN", Health.UNKNOWN: "UNKNOWN"}


def report_data(report: DetectReport) -> dict[str, Any]:
    return {
        "namespace": report.namespace,
        "server": report.server,
        "startedAt": report.started_at,
        "durationSeconds": round(report.duration_s, 3),
        "health": report.health,
        "subjects": [
            {"name": s.name, "kind": s.kind, "health": s.health, "reasons": list(s.reasons)} for s in report.subjects
        ],
        "checks": [_check(r) for r in report.results],
        "signals": {
            name: [{"subject": sv.subject, "value": sv.value, "unit": sv.unit, "detail": sv.detail} for sv in values]
            for name, values in report.signals.items()
        },
    }


def _check(r: CheckResult) -> dict[str, Any]:
    return {
        "check": r.check,
        "kind": r.kind,
        "subject": r.subject,
        "target": r.target,
        "health": r.health,
        "summary": r.summary,
        "reasons": list(r.reasons),
        "latencySeconds": round(r.latency_s, 4) if r.latency_s is not None else None,
        "observed": r.observed,
    }


def report_renderable(report: DetectReport) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in ("NAME", "KIND", "STATUS", "DETAILS"):
        table.add_column(col, overflow="fold")
    for s in report.subjects:
        details = "; ".join(s.reasons) if s.reasons else ""
        table.add_row(s.name, s.kind, Text(WORD[s.health], style=STYLE[s.health]), details)
    parts: list[RenderableType] = [table]
    problems = sorted(report.problems, key=lambda r: (-r.health.rank, r.check))
    if problems:
        parts.append(Text(""))
        parts.append(Text("Findings", style="bold"))
        for r in problems:
            line = Text("  ")
            line.append(f"{WORD[r.health]:<8} ", style=STYLE[r.health])
            line.append(f"{r.check}  ", style="bold")
            line.append(r.summary)
            parts.append(line)
            for reason in r.reasons[:8]:
                parts.append(Text(f"             {reason}", style="dim"))
            if len(r.reasons) > 8:
                parts.append(Text(f"             ... and {len(r.reasons) - 8} more", style="dim"))
    where = f"namespace {report.namespace}" + (f" on {report.server}" if report.server else "")
    verdict = "healthy" if not problems else f"{len(problems)} problem(s) found"
    parts.append(Text(""))
    at = report.started_at.strftime("%H:%M:%S %Z").strip()
    parts.append(
        Text(f"{verdict} at {at} in {report.duration_s:.2f}s ({len(report.results)} checks, {where})", style="dim")
    )
    return Group(*parts)


def unreachable_renderable(
    err: IncidentctlError, now: datetime, interval: float, last: DetectReport | None
) -> RenderableType:
    """``detect --watch`` while the cluster cannot be reached: the error, when it will try again, and the last
    picture it had (marked as such), so the watcher keeps their bearings."""
    from rich.console import Group
    from rich.text import Text

    at = now.strftime("%H:%M:%S %Z").strip()
    parts: list[RenderableType] = [
        Text(f"error at {at}: {err}", style="bold red"),
        Text(f"trying again every {interval:g}s", style="dim"),
    ]
    if last is not None:
        seen = last.started_at.strftime("%H:%M:%S %Z").strip()
        parts += [Text(""), Text(f"last seen at {seen}:", style="bold"), report_renderable(last)]
    return Group(*parts)


def show_incomplete(printer: Printer, report: DetectReport, err: IncidentctlError) -> None:
    """A report the Kubernetes side is missing from: everything else that was seen, and the error once.

    On a terminal the table, then the error as every error is shown (one line on stderr). With ``-o json|yaml``
    the error envelope a script already expects for this failure, with the partial report added as its ``data``
    (the envelope only ever gains fields), so nothing that was seen is lost."""
    import sys

    from incidentctl.render.envelope import dumps, error_envelope, to_plain
    from incidentctl.render.formats import OutputFormat
    from incidentctl.render.printer import Printer

    if printer.format.is_machine:
        doc = {**error_envelope(err), "data": to_plain(report_data(report))}
        sys.stdout.write(dumps(doc, printer.format.value))
        sys.stdout.flush()
    else:
        report_table(printer.out, report)
    Printer(OutputFormat.TABLE).error(err)  # the stderr line alone: the envelope, if any, is written above


def report_table(console: Console, report: DetectReport) -> None:
    console.print(report_renderable(report))


def triage_data(outcome: TriageOutcome, report: DetectReport) -> dict[str, Any]:
    t = outcome.triage
    return {
        "healthy": t.healthy,
        "severity": t.severity,
        "severityName": t.severity_name,
        "reason": t.reason,
        "decidedBy": t.decided_by,
        "category": t.category,
        "components": list(t.components),
        "usersAffected": t.users_affected,
        "usersAffectedBasis": t.users_affected_basis,
        "sla": t.sla,
        "responseTimeSeconds": t.response_time.total_seconds() if t.response_time else None,
        "deadlines": [{"what": d.what, "who": d.who, "by": d.by} for d in t.deadlines],
        "notify": list(t.notify),
        "rules": [
            {"rule": m.rule, "severity": m.severity, "matched": m.matched, "pending": m.pending, "because": m.because}
            for m in t.rules
        ],
        "evidence": list(t.evidence),
        "incident": outcome.incident.id if outcome.incident else None,
        "action": outcome.action,
        "nextSteps": list(outcome.next_steps),
        "detect": report_data(report),
    }


def triage_table(console: Console, outcome: TriageOutcome, report: DetectReport) -> None:
    from rich.text import Text

    t = outcome.triage
    if t.healthy:
        console.print(Text("healthy: every check passed; no incident", style="green"))
        return
    head = Text()
    head.append(f"{t.severity} {t.severity_name}", style="bold red" if t.severity == "P1" else "bold yellow")
    head.append(f"  {t.reason.split(': ', 1)[-1]}")
    console.print(head)
    rows = [
        ("decided by", f"rule {t.decided_by}" if t.decided_by != "default" else "runbook default"),
        ("category", t.category or "-"),
        ("components", ", ".join(t.components) or "-"),
        (
            "users affected",
            (f"~{format_value(t.users_affected, 'ratio')} " if t.users_affected is not None else "")
            + f"({t.users_affected_basis})",
        ),
        ("SLA", _sla_text(t.sla)),
        ("notify", ", ".join(t.notify) or "-"),
    ]
    if outcome.incident is not None:
        rows.insert(0, ("incident", f"{outcome.incident.id} ({outcome.action or 'open'})"))
    for key, value in rows:
        console.print(f"  [dim]{key:<15}[/]{value}", highlight=False)
    pending = [m for m in t.rules if m.pending]
    for m in pending:
        console.print(f"  [dim]pending        rule {m.rule}: {m.because}[/]", highlight=False)
    if outcome.next_steps:
        console.print("\n[bold]Next steps[/]")
        for step in outcome.next_steps:
            console.print(f"  • {step}", highlight=False)
    affected = [s for s in report.subjects if s.health is not Health.OK]
    if affected:
        from rich.table import Table
        from rich.text import Text as RichText

        console.print("\n[bold]What detect saw[/] [dim](incidentctl detect for every finding)[/]")
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for col in ("NAME", "KIND", "STATUS", "DETAILS"):
            table.add_column(col, overflow="fold")
        for s in affected:
            table.add_row(s.name, s.kind, RichText(WORD[s.health], style=STYLE[s.health]), "; ".join(s.reasons))
        console.print(table)


def _sla_text(sla: dict[str, object]) -> str:
    if not sla.get("slo"):
        return "no SLO in the runbook"
    burn = sla.get("burn_rate")
    used_raw = sla.get("budget_used")
    used = float(used_raw) if isinstance(used_raw, (int, float)) else 0.0
    burn_text = f"burning the error budget {float(burn):.0f}x" if isinstance(burn, float) else "burn unknown"
    return f"SLO {sla['slo']}: {burn_text}; {used * 100:.2f}% of the window's budget used so far"


def check_output_path(option: str, path: Path) -> None:
    """Fail at once, before any check runs, when a file the command will write cannot be written: its folder is
    missing, is not a folder, or refuses new files. Tried for real (a temporary file is created and removed) rather
    than judged from permission bits, which say nothing for root or a read-only file system."""
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; name a file in it")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise UsageError(f"{option} {path}: directory {directory} does not exist")
    if not directory.is_dir():
        raise UsageError(f"{option} {path}: {directory} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot write in {directory}: {e.strerror or e}") from e


def write_junit(path: Path, report: DetectReport) -> None:
    """JUnit XML, the format CI systems show natively: a test case per check; DOWN and DEGRADED fail, UNKNOWN
    is an error (the check could not run). Written atomically, so a CI step never reads half a file."""
    import xml.etree.ElementTree as ET

    failures = sum(r.health in (Health.DOWN, Health.DEGRADED) for r in report.results)
    errors = sum(r.health is Health.UNKNOWN for r in report.results)
    suites = ET.Element(
        "testsuites",
        name="incidentctl detect",
        tests=str(len(report.results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{report.duration_s:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"detect.{report.namespace}",
        tests=str(len(report.results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{report.duration_s:.3f}",
        timestamp=report.started_at.isoformat(),
    )
    for r in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{report.namespace}.{r.subject or r.kind}",
            name=r.check,
            time=f"{r.latency_s or 0:.3f}",
        )
        body = "\n".join([r.target, *r.reasons])
        if r.health in (Health.DOWN, Health.DEGRADED):
            el = ET.SubElement(case, "failure", message=r.summary, type=r.health.value)
            el.text = body
        elif r.health is Health.UNKNOWN:
            el = ET.SubElement(case, "error", message=r.summary, type="unknown")
            el.text = body
    ET.indent(suites)
    data = ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(f"cannot write the JUnit report to {path}: {e.strerror or e}") from e
