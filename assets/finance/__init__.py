"""Finance: the Skonto schedule (MIP with HiGHS) with its baselines, the Skonto marts
(`dbt_like_sql/finance/`), and the SEPA payment-run job that the payments sensor starts."""
