"""The ``report`` phase: the runbook's incident metrics (MTTD, MTTA, MTTR, ...) over every incident of a period,
computed from the journal by :mod:`incidentctl.core.metrics`. It needs no cluster."""
