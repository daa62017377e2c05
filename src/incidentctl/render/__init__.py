"""Output: human tables on a terminal, stable machine envelopes (json/yaml) for scripts, diagnostics on stderr."""
