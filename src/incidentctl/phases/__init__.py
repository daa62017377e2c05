"""One use case per runbook phase (detect, triage, investigate, mitigate, ...): runbook + adapters in, result out."""
