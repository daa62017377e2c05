"""The ``postmortem`` phase: the post-mortem document drafted from the journal (:mod:`.draft`), the runbook's
review stages and the meeting (:mod:`.review`), and action items (:mod:`.actions`).

Each module's ``run_*`` takes the :class:`~incidentctl.phases.context.PhaseContext` and a request and returns a
result with an ``exit_code``, as every phase does; none needs the cluster.
"""
