"""Stateful parts of the compliance engine: reference data, audit fingerprints, violation history,
cases with the officers' decision ledger.

The rules themselves are SQL models in `dbt_like_sql/compliance/`.
"""
