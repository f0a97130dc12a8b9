"""Public reference data in the warehouse (`reference.*`)."""
