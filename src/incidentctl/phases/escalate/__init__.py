"""``escalate``: the escalation matrix as code: who each level is, which rules are due, and escalations that are
journalled once per level and told through the shared outbox."""
