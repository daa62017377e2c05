"""What ``investigate errors`` prints with ``-o json|yaml``: the templates, and how many lines they came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from incidentctl.core.logmine_wire import TemplateOutput
from incidentctl.render.output_model import OutputModel, UtcTime

if TYPE_CHECKING:
    from incidentctl.phases.investigate.errors import ErrorsResult


class ErrorTemplatesOutput(OutputModel):
    """``investigate errors``: error templates of every pod's logs (or a saved log) against a baseline window."""

    source: str = Field(description="cluster, or the file mined (- for stdin).")
    baseline_source: str | None = Field(description="cluster, the baseline file, or null when none was read.")
    window_start: UtcTime | None
    window_end: UtcTime | None
    baseline_start: UtcTime | None
    lines: int = Field(description="Lines read in the window.")
    error_lines: int = Field(description="Of those, the error lines the templates hold.")
    templates: list[TemplateOutput] = Field(description="NEW first, then grew, then steady; by count within each.")
    problems: list[str] = Field(description="Logs that could not be read, one line each: the answer is incomplete.")


def errors_output(result: ErrorsResult) -> ErrorTemplatesOutput:
    return ErrorTemplatesOutput(
        source=result.source,
        baseline_source=result.baseline_source,
        window_start=result.window_start,
        window_end=result.window_end,
        baseline_start=result.baseline_start,
        lines=result.lines,
        error_lines=result.error_lines,
        templates=[TemplateOutput.model_validate(t) for t in result.templates],
        problems=result.problems(),
    )
