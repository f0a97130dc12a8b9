"""Purchasing: seasonal demand forecasts, reorder proposals (Bestellvorschlag) that never buy what
may not be sold, and their Excel export."""
