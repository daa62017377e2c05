"""The one table `nox -s bench` ends with: every bench script's rows, side by side, as markdown.

Each script measures its own rows and hands them to :func:`record`, which appends one JSON line a row to the file
named by ``$BENCH_ROWS`` (nothing when it is unset, so a script run alone just prints its own detail). The
session then runs this module on that file, and what it prints is what the README's "Performance" section quotes
verbatim: a line on the machine, the table, and the load average while the rows were measured.

    python benchmarks/table.py ROWS.jsonl

A row is what incidentctl did, how long it took (the median of its runs), what it is compared with and how long
that took, measured in the same run on the same input; the ratio is incidentctl's time over the comparison's
(under 1x: incidentctl is faster).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

#: the environment variable naming the file the rows are appended to
ROWS_ENV = "BENCH_ROWS"

COLUMNS = ("what", "incidentctl", "comparison", "ratio", "runs")


def record(what: str, command: str, seconds: float, compared_with: str, comparison_seconds: float, runs: int) -> None:
    """Append one row to ``$BENCH_ROWS`` (if set), with the 1-minute load average at the time it was measured."""
    path = os.environ.get(ROWS_ENV)
    if not path:
        return
    row = {
        "what": what,
        "command": command,
        "seconds": seconds,
        "comparedWith": compared_with,
        "comparisonSeconds": comparison_seconds,
        "runs": runs,
        "load": os.getloadavg()[0],
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def duration(seconds: float) -> str:
    """Milliseconds under a second (start-up is measured in them), seconds above."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def cell(text: str) -> str:
    """A markdown table cell: a pipe in a command would end the cell."""
    return text.replace("|", "\\|")


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        ours = f"{row['command']}: {duration(row['seconds'])}"
        theirs = f"{row['comparedWith']}: {duration(row['comparisonSeconds'])}"
        ratio = f"{row['seconds'] / row['comparisonSeconds']:.2f}x" if row["comparisonSeconds"] > 0 else "-"
        cells = (row["what"], ours, theirs, ratio, str(row["runs"]))
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    """The machine in one line: cores, CPU model, Python and kubectl, which is what the numbers depend on."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {kubectl_version()}"


def kubectl_version() -> str:
    from incidentctl.sandbox.testing import kubectl_binary

    kubectl = kubectl_binary()
    if kubectl is None:
        return "no kubectl"
    done = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, check=False)
    try:
        return f"kubectl {json.loads(done.stdout)['clientVersion']['gitVersion']}"
    except (ValueError, KeyError):
        return "kubectl (version unknown)"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python benchmarks/table.py ROWS.jsonl", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not rows:
        print("(the scripts run gave no rows for the table)")
        return 0
    print(machine())
    print()
    print(markdown(rows))
    print()
    loads = [row["load"] for row in rows]
    print(
        f"Medians of the runs shown; ratio = incidentctl / comparison. Load average (1 min) while measuring: "
        f"{min(loads):.1f}-{max(loads):.1f}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
