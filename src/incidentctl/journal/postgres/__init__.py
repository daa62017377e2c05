"""The team journal on PostgreSQL: the same contract as the folder journal, shared by every responder.

``connect`` opens connections and turns the driver's errors into ours (never showing the DSN's password);
``schema`` creates and upgrades the tables (``incidentctl journal migrate``); ``store`` is the journal itself;
``listen`` waits for other writers' events (LISTEN/NOTIFY).
"""
