"""The compliance engine: rules (SQL models in `dbt_like_sql/compliance/`), the stateful steps
around them (audit fingerprints, violation history, cases with the officers' decisions, score
history), the hourly job."""
