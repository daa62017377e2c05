"""Messages through the journal's outbox, shared by every phase that tells people (communicate, escalate, and
later report): composing from the templates, queueing, claiming, delivering with retries, recording."""
