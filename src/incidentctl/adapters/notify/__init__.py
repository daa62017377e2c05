"""The channels messages are delivered through: one module per kind, one retry policy for all of them."""
