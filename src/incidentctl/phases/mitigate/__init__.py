"""mitigate: the runbook's resolution steps (3.1-3.3), each previewed, guarded, confirmed, journaled and verified.

Every action (one module each: restart, scale, rollback, flush-cache, the runbook's switches for maintenance mode,
circuit breakers and redirects, apply) only plans; :func:`~incidentctl.phases.mitigate.contract.run_mitigate` is
the one safety contract that sends anything. :mod:`.verify` is ``mitigate verify`` and the check after every
action; :mod:`.undo` reverts a recorded mitigation through the same contract.
"""
