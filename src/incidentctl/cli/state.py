"""The application state the root callback builds and every command reads.

Tests inject their own (``CliRunner().invoke(app, args, obj=AppState(...))``) to swap the clock, the environment
or the working directory without patching: the kopf ``CLIControls`` / httpie ``Environment`` idea.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.render.formats import STANDARD_FORMATS, OutputFormat, parse_output
from incidentctl.render.printer import Printer

if TYPE_CHECKING:
    from incidentctl.journal.base import JournalStore
    from incidentctl.phases.context import PhaseContext, Settings
    from incidentctl.runbook.locate import RunbookSource
    from incidentctl.runbook.model import Runbook


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class AppState:
    runbook_path: Path | None = None
    context: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    output: str = "table"
    yes: bool = False
    debug: bool = False
    clock: Callable[[], datetime] = utc_now
    #: How long-running commands (``detect --watch``) wait between rounds; tests end the wait early.
    sleep: Callable[[float], None] = time.sleep
    #: Asks the responder a yes/no question (mitigate's confirmation); None: a terminal's prompt when there is
    #: one, else nobody can be asked. Tests answer here.
    confirm: Callable[[str], bool] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    cwd: Path | None = None
    printer: Printer = field(default_factory=Printer)
    _source: RunbookSource | None = field(default=None, repr=False)
    _runbook: Runbook | None = field(default=None, repr=False)
    _journal: JournalStore | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    _context: PhaseContext | None = field(default=None, repr=False)

    def output_format(self, allowed: Iterable[OutputFormat] = STANDARD_FORMATS) -> OutputFormat:
        """Validate ``-o`` for this command and point the printer at it."""
        fmt = parse_output(self.output, allowed)
        self.printer.format = fmt
        return fmt

    @property
    def working_dir(self) -> Path:
        return self.cwd if self.cwd is not None else Path.cwd()

    def runbook_source(self) -> RunbookSource:
        if self._source is None:
            from incidentctl.runbook.locate import locate_runbook

            self._source = locate_runbook(self.runbook_path, self.env, self.working_dir)
        return self._source

    def runbook(self) -> Runbook:
        """The runbook, loaded and validated once per invocation."""
        if self._runbook is None:
            from incidentctl.runbook.loader import load_runbook

            self._runbook = load_runbook(self.runbook_source().path)
        return self._runbook

    def settings(self) -> Settings:
        """Every setting the phases read, resolved once (flag > env > runbook > default)."""
        if self._settings is None:
            from incidentctl.phases.context import Flags, resolve_settings

            flags = Flags(namespace=self.namespace, context=self.context, kubeconfig=self.kubeconfig)
            self._settings = resolve_settings(flags, self.env, self.runbook(), self.runbook_source().path)
        return self._settings

    def journal(self) -> JournalStore:
        """The journal the runbook names (a folder, or the team journal), opened once per invocation."""
        if self._journal is None:
            from incidentctl.adapters.secrets import Secrets
            from incidentctl.journal.actor import resolve_actor
            from incidentctl.journal.open import open_journal

            runbook_dir = self.runbook_source().path.parent
            self._journal = open_journal(
                self.runbook().journal,
                self.settings().journal_dir.value,
                env=self.env,
                secrets=Secrets(self.env, base_dir=runbook_dir),
                clock=self.clock,
                actor=resolve_actor(self.env),
                runbook_dir=runbook_dir,
            )
        return self._journal

    def close_journal(self) -> None:
        """Release the journal's connections (the team journal's); called once the command is done, also when it
        failed.

        What the journal noticed and no command printed (an event recorded in the offline spool, a spool uploaded,
        a torn line) goes to stderr here, once: every command that writes to the journal (communicate, mitigate,
        postmortem, ...) then says so without each having to remember to."""
        if self._journal is not None:
            journal, self._journal = self._journal, None
            try:
                for warning in journal.drain_warnings():
                    self.printer.warn(warning)
            finally:
                journal.close()

    def phase_context(self, *, cluster: bool = True) -> PhaseContext:
        """The context the cluster-facing phases run in, built once per invocation (``detect --watch`` runs detect
        many times in it); building it checks the kubeconfig unless ``cluster`` is False (communicate)."""
        if self._context is None:
            from incidentctl.phases.wiring import build_context

            self._context = build_context(
                self.runbook(),
                self.settings(),
                env=self.env,
                clock=self.clock,
                journal=self.journal,
                runbook_dir=self.runbook_source().path.parent,
                sleep=self.sleep,
                cluster=cluster,
            )
        return self._context
