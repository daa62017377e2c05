"""Incident records and their append-only timelines: the embedded store (a folder per incident) and the small
interface (:class:`~incidentctl.journal.base.JournalStore`) a shared backend would implement instead."""
