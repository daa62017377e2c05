"""The pure domain: models and rules with no I/O, testable without a disk, a cluster or a clock."""
