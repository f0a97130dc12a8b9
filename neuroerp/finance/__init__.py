"""Finance: the Skonto payment plan (a MIP solved with HiGHS), its baselines, and the SEPA payment run."""
