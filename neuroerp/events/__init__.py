"""The ERP's event bus seen from the analytics side: the outbox read by cursor (exactly once), what
each event type affects, alerts published to NATS, and a live ERP simulator for demos."""
