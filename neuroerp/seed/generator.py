"""Assemble the demo ERP: clean trade per tenant, planted rule breaks, then the event trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from neuroerp.contract import TABLES
from neuroerp.seed import events, finance, master, records, trade
from neuroerp.seed.context import SCALE_1, TENANTS, Context, TenantProfile
from neuroerp.seed.edges import EdgePlanter, audit_grace
from neuroerp.seed.violations import DESCRIPTIONS, FOUND_WITH, Planted, Planter, audit_gaps

Frames = dict[str, pl.DataFrame]
Progress = Callable[[str], None]


@dataclass
class Dataset:
    """The generated source tables (contract columns plus `_helper` columns) and the manifest."""

    ctx: Context
    frames: Frames
    planted: list[Planted]
    sagas: dict[str, list[str]] = field(default_factory=dict)
    near_misses: list[Planted] = field(default_factory=list)  # entities at a rule's edge that must stay clean

    def table(self, name: str) -> pl.DataFrame:
        """A contract table with exactly the contract's columns, in order."""
        spec = next(t for t in TABLES if t.name == name)
        return self.frames[name].select(spec.column_names)

    def manifest(self) -> dict[str, Any]:
        return {
            "generator": "neuroerp.seed",
            "seed": self.ctx.seed,
            "scale": self.ctx.scale,
            "as_of": self.ctx.as_of.isoformat(),
            "now": self.ctx.now.isoformat(),
            "tenants": [t.tenant_id for t in TENANTS],
            "row_counts": {t.name: self.frames[t.name].height for t in TABLES},
            "rules": DESCRIPTIONS,
            "planted": [p.to_json() for p in self.planted],
            "found_with": FOUND_WITH,
            "near_misses": [p.to_json() for p in self.near_misses],
            "sagas": self.sagas,
        }


def _tenant(ctx: Context, t: TenantProfile, say: Progress) -> tuple[Frames, Planter, pl.DataFrame]:
    f: Frames = {}
    say(f"{t.tenant_id}: master data")
    f["warehouses"] = master.warehouses(ctx, t)
    f["staff"] = master.staff(ctx, t)
    f["suppliers"] = master.suppliers(ctx, t)
    f["articles"] = master.articles(ctx, t, f["suppliers"])
    customers = master.customers(ctx, t).with_columns(deleted_at=pl.lit(None, master.UTC_US))
    pairs = trade.stock_pairs(ctx, t, f["articles"], f["warehouses"])

    say(f"{t.tenant_id}: sales")
    f["sales_orders"], f["sales_order_lines"] = trade.sales(ctx, t, customers, f["articles"], f["staff"], pairs)
    first_orders = (
        f["sales_orders"].group_by("customer_id", maintain_order=True).agg(_first_order_at=pl.col("ordered_at").min())
    )
    f["customers"] = master.finish_customers(ctx, customers.drop("deleted_at"), first_orders)
    f["customer_certificates"] = pl.concat(
        [
            master.sachkunde_certificates(ctx, f["customers"], f["staff"]),
            master.other_certificates(ctx, f["customers"], f["staff"]),
        ]
    )

    planter = Planter(ctx, t, f)
    planter.psm_without_sachkunde()
    planter.unverified_sachkunde()
    planter.psm_after_authorisation()
    planter.psm_erp_register_mismatch()
    planter.psm_stock_after_sellout()
    planter.psm_staff_without_sachkunde()
    planter.psm_webshop_private()
    planter.psm_training_overdue()
    planter.precursor_to_private()
    no_statement = planter.precursor_without_statement()
    planter.precursor_unusual_quantity(no_statement)
    edges = EdgePlanter(planter)  # breaks at each rule's edge and near misses one unit inside (edges.py)
    edges.sell_out()
    edges.sachkunde()
    edges.training()
    edges.unusual_quantity(no_statement)
    statements = trade.precursor_statements(
        ctx,
        f["customers"].filter(~pl.col("customer_id").is_in(list(no_statement))),
        f["sales_order_lines"],
        f["articles"],
        f["staff"],
    )
    f["customer_certificates"] = pl.concat(
        [f["customer_certificates"], statements.select(f["customer_certificates"].columns)]
    )
    planter.bvl_number_broken()
    planter.detonation_test_missing()
    planter.precursor_classification_wrong()
    edges.customer_statements()
    planter.suppliers_lksg()
    edges.risk_assessments()

    say(f"{t.tenant_id}: purchasing and stock")
    f["purchase_orders"], f["purchase_order_lines"] = trade.purchasing(
        ctx, t, f["suppliers"], f["articles"], pairs, f["sales_order_lines"]
    )
    planter.psm_received_after_end()
    edges.receipts_after_end()
    f["sales_order_lines"] = trade.assign_lots(f["sales_order_lines"], f["purchase_order_lines"])
    f["import_documents"] = trade.import_documents(
        ctx, t, f["purchase_orders"], f["purchase_order_lines"], f["articles"]
    )
    planter.eudr_without_dds()
    planter.imports()
    edges.ched()
    f["suspicious_transactions"], losses = records.precursor_cases(
        ctx, t, f["sales_orders"], f["sales_order_lines"], f["articles"], pairs
    )
    f["stock_movements"], f["stock_levels"] = trade.stock(
        ctx, t, pairs, f["sales_order_lines"], f["purchase_order_lines"], f["articles"], losses
    )

    say(f"{t.tenant_id}: invoices and payments")
    ar = finance.ar_invoices(ctx, t, f["sales_orders"], f["sales_order_lines"], f["customers"], f["articles"])
    ap = finance.ap_invoices(ctx, t, f["purchase_orders"], f["purchase_order_lines"], f["suppliers"], f["articles"])
    ar_pay, ar = finance.payments(ctx, t, ar)
    ap_pay, ap = finance.payments(ctx, t, ap)
    keep = ["invoice_id", "tenant_id", "invoice_no", "kind", "partner_id", "invoice_date", "net_amount", "tax_amount",
            "gross_amount", "currency", "skonto_pct", "skonto_days", "net_days", "status", "posted_at", "updated_at"]  # fmt: skip
    f["invoices"] = pl.concat([ar.select(keep), ap.select(keep)], how="vertical_relaxed").with_columns(
        _audited_at=pl.col("updated_at"),
        # what the invoice said when it was posted: the audit trail's image (a planted silent change
        # alters the invoice, not its image)
        _posted_net_amount=pl.col("net_amount"),
        _posted_tax_amount=pl.col("tax_amount"),
        _posted_gross_amount=pl.col("gross_amount"),
    )
    f["payments"] = pl.concat([ar_pay, ap_pay], how="vertical_relaxed")
    f["cash_positions"], f["cash_forecast"] = finance.cash(ctx, t, ar.filter(pl.col("status") == "open"))

    say(f"{t.tenant_id}: records")
    f["consents"] = master.consents(ctx, f["customers"])
    f["gdpr_requests"] = master.gdpr_requests(ctx, t, f["customers"])
    f["manure_deliveries"] = records.manure_deliveries(ctx, t, f["customers"], f["suppliers"])
    planter.manure()
    edges.manure()
    planter.precursor_cases_late()
    edges.precursor_reports()
    marketing_extra = planter.gdpr()
    edges.gdpr()
    planter.expiring_stock()
    edges.sell_out_stock()
    planter.precursor_losses()
    edges.precursor_losses()
    planter.unjustified_skonto()
    edges.skonto()
    planter.grain_terms()
    edges.payment_terms()
    planter.silent_invoice_changes()
    return f, planter, marketing_extra


def generate(
    seed: int = 42, scale: float = 0.01, as_of: dt.date | None = None, progress: Progress | None = None
) -> Dataset:
    """Generate the demo ERP in memory: deterministic for (seed, scale, as_of)."""
    say = progress or (lambda _msg: None)
    ctx = Context(seed=seed, scale=scale, as_of=as_of or dt.datetime.now(dt.UTC).date())
    per_tenant = [_tenant(ctx, t, say) for t in TENANTS]
    names = {k for f, _, _ in per_tenant for k in f}
    frames: Frames = {
        name: pl.concat([f[name] for f, _, _ in per_tenant if name in f], how="diagonal_relaxed") for name in names
    }
    planted = [p for _, planter, _ in per_tenant for p in planter.planted]
    near_misses = [p for _, planter, _ in per_tenant for p in planter.near_misses]
    marketing_extra = pl.concat([m for _, _, m in per_tenant])

    say("audit trail and event bus")
    audit, grace_break, grace_near = audit_grace(ctx, events.audit_log(ctx, frames, marketing_extra), frames["staff"])
    frames["audit_log"], gaps, rolled_back = audit_gaps(ctx, audit)
    planted += gaps + grace_break
    near_misses += rolled_back + grace_near
    frames["outbox_events"] = events.outbox(ctx, frames)
    frames["idempotency_keys"] = events.idempotency_keys(ctx, frames["outbox_events"])
    frames["saga_state"], frames["saga_steps"], saga_ids = events.sagas(ctx, frames)
    frames["event_locks"] = events.event_locks(ctx)
    missing = [t.name for t in TABLES if t.name not in frames]
    if missing:
        raise RuntimeError(f"generator produced no frame for {missing}")
    return Dataset(ctx=ctx, frames=frames, planted=planted, sagas=saga_ids, near_misses=near_misses)


__all__ = ["Dataset", "generate", "SCALE_1"]
