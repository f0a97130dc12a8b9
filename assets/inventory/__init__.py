"""Purchasing: the demand forecast with its backtest, the reorder plan and proposals
(Bestellvorschlag), the Excel export for the buyers, and the daily job."""
