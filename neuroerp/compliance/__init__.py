"""Stateful parts of the compliance engine: reference data, audit fingerprints, violation history.

The rules themselves are SQL models in `dbt_like_sql/compliance/`.
"""
