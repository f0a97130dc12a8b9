"""Every sensor of the code location, one module per concern (outbox events, alerts, ...)."""
