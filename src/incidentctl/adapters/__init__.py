"""The outside world behind small interfaces: Kubernetes, HTTP probes, Prometheus, Alertmanager, notifications."""
