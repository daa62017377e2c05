"""investigate: what the responder looks at once the incident is declared (the runbook's investigation steps).

One module per view, each a phase of its own shape (``run_<view>(ctx, request) -> <View>Result``): the logs of
every pod, error templates against a baseline, the suspect change, resources, events, datastores and
dependencies. ``run_investigate`` runs them all at once and ranks what they found on one screen. Every view's
result is a :class:`~incidentctl.phases.investigate.base.Section`: the lines it adds to that screen and the
evidence it leaves in an open incident's ``evidence/`` folder.
"""
