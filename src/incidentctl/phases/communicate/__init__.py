"""``communicate``: the runbook's messages rendered from the journal, queued in it, delivered on every channel."""
