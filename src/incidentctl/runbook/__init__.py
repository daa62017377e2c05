"""runbook.yaml: its schema (pydantic models), loader with file:line:column errors, and where it is found."""
