"""What ``investigate logs -o json`` prints: one document a line (NDJSON), so ``jq`` and line-oriented readers can
start on the first line of a long or followed log.

Each line is a whole envelope (``apiVersion``, ``kind``, ``data``), as each round of ``detect --watch -o json`` is:
``LogLine`` for a line of a container's log, ``LogProblem`` for a log that is not there (could not be read, no
previous container, a component without pods), so a script sees a partial answer as such.
"""

from __future__ import annotations

from pydantic import Field

from incidentctl.render.output_model import OutputModel, UtcTime


class LogLineOutput(OutputModel):
    """``investigate logs -o json``: one line of one container's log (one document a line)."""

    time: UtcTime | None = Field(description="The kubelet's time stamp of the line (null when the line had none).")
    component: str
    pod: str
    container: str
    previous: bool = Field(description="From the container's previous instance (--previous).")
    text: str = Field(description="The line exactly as the container wrote it.")


class LogProblemOutput(OutputModel):
    """``investigate logs -o json``: a log that is not in the output, and why (one document a line)."""

    component: str
    pod: str | None = Field(description="null when the component matched no pod at all.")
    container: str | None
    previous: bool
    problem: str = Field(description="failed, no-previous, not-started or no-pods.")
    message: str
