"""The ERP's event bus: the outbox-driven refresh job, saga and event-bus health marts
(`dbt_like_sql/events/`) with their checks."""
