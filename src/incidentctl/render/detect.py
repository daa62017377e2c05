"""How a detect report and a triage look: a row per component, then the findings; JUnit XML for CI.

Names, reasons and summaries carry cluster text (pod names, event messages, log lines, HTTP bodies): they are shown
through ``core.text``, one line each, as literal text (never rich markup).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.core.checks import CheckResult, Health
from incidentctl.core.rules import format_value
from incidentctl.core.text import for_terminal, one_line
from incidentctl.core.times import format_percent
from incidentctl.errors import IncidentctlError, UsageError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from incidentctl.phases.detect import DetectReport
    from incidentctl.phases.triage import TriageOutcome
    from incidentctl.render.detect_output import DetectReportOutput, TriageOutput
    from incidentctl.render.printer import Printer

STYLE = {Health.OK: "green", Health.DEGRADED: "yellow", Health.DOWN: "bold red", Health.UNKNOWN: "magenta"}
WORD = {Health.OK: "OK", Health.DEGRADED: "DEGRADED", Health.DOWN: "DOWN", Health.UNKNOWN: "UNKNOWN"}


def report_data(report: DetectReport) -> DetectReportOutput:
    """The report as ``-o json|yaml`` (and each line of ``--watch -o json``) prints it."""
    from incidentctl.render.detect_output import report_output

    return report_output(report)


def _text(value: str, style: str = "") -> Text:
    """Cluster or user text as one literal line."""
    from rich.text import Text

    return Text(one_line(value), style=style)


def _markup(value: str) -> str:
    """Cluster or user text inside a markup string: one line, its brackets escaped."""
    from rich.markup import escape

    return escape(one_line(value))


def report_renderable(
    report: DetectReport, *, findings: int | None = None, headline_first: bool = False
) -> RenderableType:
    """The table of subjects, the findings and the verdict line. ``findings`` caps the finding lines shown (the
    rest are counted in one "… N more" line) and ``headline_first`` puts the verdict on top: what a live view on a
    small terminal needs (see :func:`fit_height`)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for col in ("NAME", "KIND", "STATUS", "DETAILS"):
        table.add_column(col, overflow="fold", no_wrap=col == "STATUS")
    for s in report.subjects:
        details = "; ".join(s.reasons) if s.reasons else ""
        table.add_row(_text(s.name), _text(s.kind), Text(WORD[s.health], style=STYLE[s.health]), _text(details))
    parts: list[RenderableType] = [table]
    problems = sorted(report.problems, key=lambda r: (-r.health.rank, r.check))
    if problems:
        parts.append(Text(""))
        parts.append(Text("Findings", style="bold"))
        parts += _capped(_finding_lines(problems), findings)
    where = one_line(f"namespace {report.namespace}" + (f" on {report.server}" if report.server else ""))
    verdict = "healthy" if not problems else f"{len(problems)} problem(s) found"
    at = report.started_at.strftime("%H:%M:%S %Z").strip()
    headline = Text(f"{verdict} at {at} in {report.duration_s:.2f}s ({len(report.results)} checks, {where})")
    if headline_first:
        headline.stylize("bold red" if problems else "green")
        return Group(headline, Text(""), *parts)
    headline.stylize("dim")
    return Group(*parts, Text(""), headline)


def finding_lines(report: DetectReport) -> int:
    """How many lines the findings take in full (what ``findings=`` of :func:`report_renderable` counts)."""
    return len(_finding_lines(report.problems))


def _finding_lines(problems: list[CheckResult]) -> list[tuple[Text, bool]]:
    """Each finding's line (True) and its reasons (False), in order."""
    from rich.text import Text

    lines: list[tuple[Text, bool]] = []
    for r in problems:
        line = Text("  ")
        line.append(f"{WORD[r.health]:<8} ", style=STYLE[r.health])
        line.append(f"{one_line(r.check)}  ", style="bold")
        line.append(one_line(r.summary))
        lines.append((line, True))
        for reason in r.reasons[:8]:
            lines.append((_text(f"             {reason}", style="dim"), False))
        if len(r.reasons) > 8:
            lines.append((Text(f"             ... and {len(r.reasons) - 8} more", style="dim"), False))
    return lines


def _capped(lines: list[tuple[Text, bool]], limit: int | None) -> list[Text]:
    from rich.text import Text

    if limit is None or limit >= len(lines):
        return [line for line, _ in lines]
    hidden = sum(first for _, first in lines[limit:])
    what = f"{hidden} more finding(s)" if hidden else "more details"
    note = Text(f"  … {what} (too many for this terminal; incidentctl detect shows all)", style="yellow")
    return [*(line for line, _ in lines[:limit]), note]


def fit_height(console: Console, build: Callable[[int | None], RenderableType], lines: int) -> RenderableType:
    """The fullest ``build(findings)`` that fits the console's height: a live view taller than the terminal is
    cut at the bottom by rich, which would hide findings without saying so. ``lines`` is the findings in full."""
    height = console.size.height

    def fits(renderable: RenderableType) -> bool:
        return len(console.render_lines(renderable, console.options, pad=False)) <= height

    full = build(None)
    if fits(full):
        return full
    low, high = 0, lines - 1  # the most finding lines that fit: binary search, heights grow with the lines
    while low < high:
        middle = (low + high + 1) // 2
        if fits(build(middle)):
            low = middle
        else:
            high = middle - 1
    return build(low)


def unreachable_renderable(
    err: IncidentctlError,
    now: datetime,
    interval: float,
    last: DetectReport | None,
    *,
    findings: int | None = None,
) -> RenderableType:
    """``detect --watch`` while the cluster cannot be reached: the error, when it will try again, and the last
    picture it had (marked as such), so the watcher keeps their bearings."""
    from rich.console import Group
    from rich.text import Text

    at = now.strftime("%H:%M:%S %Z").strip()
    parts: list[RenderableType] = [
        _text(f"error at {at}: {err}", style="bold red"),
        Text(f"trying again every {interval:g}s", style="dim"),
    ]
    if last is not None:
        seen = last.started_at.strftime("%H:%M:%S %Z").strip()
        parts += [Text(""), Text(f"last seen at {seen}:", style="bold"), report_renderable(last, findings=findings)]
    return Group(*parts)


def still_unreachable(err: IncidentctlError, now: datetime, previous: IncidentctlError) -> Text:
    """One line for another round of the same outage off a terminal: the picture was printed when it began. The
    error is repeated only when it changes in kind (refused, then unauthorized), not with each call that failed."""
    at = now.strftime("%H:%M:%S %Z").strip()
    same = (err.reason, err.exit_code) == (previous.reason, previous.exit_code)
    return _text(f"still unreachable at {at}" + ("" if same else f": {err}"), style="bold red")


def show_incomplete(printer: Printer, report: DetectReport, err: IncidentctlError) -> None:
    """A report the Kubernetes side is missing from: everything else that was seen, and the error once.

    On a terminal the table, then the error as every error is shown (one line on stderr). With ``-o json|yaml``
    the error envelope a script already expects for this failure, with the partial report added as its ``data``
    (the envelope only ever gains fields), so nothing that was seen is lost."""
    import sys

    from incidentctl.render.envelope import dumps, error_envelope
    from incidentctl.render.formats import OutputFormat
    from incidentctl.render.printer import Printer

    if printer.format.is_machine:
        doc = error_envelope(err, report_data(report))
        sys.stdout.write(dumps(doc, printer.format.value))
        sys.stdout.flush()
    else:
        report_table(printer.out, report)
    Printer(OutputFormat.TABLE).error(err)  # the stderr line alone: the envelope, if any, is written above


def report_table(console: Console, report: DetectReport) -> None:
    console.print(report_renderable(report))


def triage_data(outcome: TriageOutcome, report: DetectReport) -> TriageOutput:
    """The triage as ``-o json|yaml`` prints it, with the detect report it judged."""
    from incidentctl.render.detect_output import triage_output

    return triage_output(outcome, report)


def triage_table(console: Console, outcome: TriageOutcome, report: DetectReport) -> None:
    from rich.text import Text

    t = outcome.triage
    if t.healthy:
        console.print(Text("healthy: every check passed; no incident", style="green"))
        return
    head = Text()
    head.append(f"{t.severity} {t.severity_name}", style="bold red" if t.severity == "P1" else "bold yellow")
    head.append(f"  {one_line(t.reason.split(': ', 1)[-1])}")
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
        if outcome.severity is not None and outcome.severity.action != "unchanged":
            rows.insert(1, ("severity", outcome.severity.explanation))
        if outcome.impact is not None:
            began = outcome.impact.at.strftime("%H:%M:%S %Z").strip()
            rows.insert(1, ("impact began", f"{began} ({outcome.impact.basis})"))
    for key, value in rows:
        console.print(f"  [dim]{key:<15}[/]{_markup(value)}", highlight=False)
    pending = [m for m in t.rules if m.pending]
    for m in pending:
        console.print(f"  [dim]pending        rule {_markup(m.rule)}: {_markup(m.because)}[/]", highlight=False)
    if outcome.next_steps:
        console.print("\n[bold]Next steps[/]")
        for step in outcome.next_steps:
            console.print(f"  • {_markup(step)}", highlight=False)
    affected = [s for s in report.subjects if s.health is not Health.OK]
    if affected:
        from rich.table import Table
        from rich.text import Text as RichText

        console.print("\n[bold]What detect saw[/] [dim](incidentctl detect for every finding)[/]")
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for col in ("NAME", "KIND", "STATUS", "DETAILS"):
            table.add_column(col, overflow="fold")
        for s in affected:
            table.add_row(
                _text(s.name),
                _text(s.kind),
                RichText(WORD[s.health], style=STYLE[s.health]),
                _text("; ".join(s.reasons)),
            )
        console.print(table)


def _sla_text(sla: dict[str, object]) -> str:
    if not sla.get("slo"):
        return "no SLO in the runbook"
    burn = sla.get("burn_rate")
    used_raw = sla.get("budget_used")
    used = float(used_raw) if isinstance(used_raw, (int, float)) else 0.0
    burn_text = f"burning the error budget {float(burn):.0f}x" if isinstance(burn, float) else "burn unknown"
    return f"SLO {sla['slo']}: {burn_text}; {format_percent(used)} of the window's budget used so far"


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
            classname=one_line(f"{report.namespace}.{r.subject or r.kind}"),
            name=one_line(r.check),
            time=f"{r.latency_s or 0:.3f}",
        )
        # XML 1.0 cannot hold most control characters: cluster text goes through core.text here too
        body = for_terminal("\n".join([r.target, *r.reasons]))
        if r.health in (Health.DOWN, Health.DEGRADED):
            el = ET.SubElement(case, "failure", message=one_line(r.summary), type=r.health.value)
            el.text = body
        elif r.health is Health.UNKNOWN:
            el = ET.SubElement(case, "error", message=one_line(r.summary), type="unknown")
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
