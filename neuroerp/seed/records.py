"""Records the ERP keeps for the authorities: manure deliveries and precursor cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from neuroerp import reference
from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.master import UTC_US
from neuroerp.seed.randomness import business_instants, durations, pick, uuids
from neuroerp.seed.trade import seasonal_days

MANURE_SEASON = {"fertilizer": 0.7, "seed": 0.3}  # spreading before sowing


def manure_deliveries(
    ctx: Context, t: TenantProfile, customer_df: pl.DataFrame, supplier_df: pl.DataFrame
) -> pl.DataFrame:
    """Manure and digestate brokered between livestock and arable farms and biogas plants.

    Each delivery is reported to the Land's reporting programme within days; the last weeks'
    deliveries may still be open, as the law allows a month.
    """
    schema = {"delivered_on": pl.Date, "reported_on": pl.Date, "updated_at": UTC_US}
    if not t.trades_manure:
        return pl.DataFrame(schema=schema)
    rng = ctx.rng(t.tenant_id, "manure")
    n = ctx.count("manure_deliveries", t)
    farms = customer_df.filter(pl.col("customer_type").is_in(["farm", "industry"]) & pl.col("deleted_at").is_null())
    grain_suppliers = supplier_df.filter(pl.col("_trade") == "grain")
    direction = pick(rng, ["out", "in"], n, weights=[0.6, 0.4])
    from_supplier = (direction == "in") & (rng.random(n) < 0.3)
    partner = np.where(
        from_supplier,
        pick(rng, grain_suppliers["supplier_id"].to_list(), n),
        pick(rng, farms["customer_id"].to_list(), n, weights=np.ones(farms.height)),
    )
    manures = reference.manures()
    kind = rng.integers(0, manures.height, size=n)
    n_kg = manures["n_kg_per_t"].to_numpy()[kind] * rng.uniform(0.9, 1.1, size=n)
    # nitrogen of animal origin: all of it in slurry, manure and droppings, part of it in digestate
    animal_share = np.where(manures["name"].str.starts_with("Gärrest").to_numpy()[kind], 0.4, 1.0)
    p_kg = manures["p2o5_kg_per_t"].to_numpy()[kind] * rng.uniform(0.9, 1.1, size=n)
    days = seasonal_days(ctx, rng, n, MANURE_SEASON)
    delivered = pl.Series(days).cast(pl.Date)
    age = (np.datetime64(ctx.as_of) - days).astype(int)
    report_after = rng.integers(1, 26, size=n)
    reported = (report_after <= age) & ((age > 30) | (rng.random(n) < 0.5))
    reported_on = [
        (d + np.timedelta64(int(r), "D")).astype(dt.date) if ok else None
        for d, r, ok in zip(days, report_after, reported, strict=False)
    ]
    land = next(iter(t.lands))
    return pl.DataFrame(
        {
            "delivery_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "direction": direction.astype(str),
            "partner_id": partner.astype(str),
            "delivered_on": delivered,
            "tonnes": np.round(rng.uniform(8, 28, size=n), 3),
            "n_kg_per_t": np.round(n_kg, 3),
            "p2o5_kg_per_t": np.round(p_kg, 3),
            "n_animal_kg_per_t": np.round(n_kg * animal_share, 3),
            "state_code": land,
            "report_ref": [
                f"WD-{land}-{d.year}-{int(rng.integers(100000, 999999))}" if d else None for d in reported_on
            ],
            "reported_on": pl.Series(reported_on, dtype=pl.Date),
        }
    ).with_columns(
        updated_at=pl.coalesce("reported_on", "delivered_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        + pl.duration(hours=14)
    )


def precursor_cases(
    ctx: Context,
    t: TenantProfile,
    orders: pl.DataFrame,
    lines: pl.DataFrame,
    article_df: pl.DataFrame,
    pairs: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Suspicious, refused, lost and stolen precursor cases, each reported to the LKA within hours.

    Returns the cases and the loss movements they explain (plus ordinary breakage of other goods).
    """
    rng = ctx.rng(t.tenant_id, "precursor_cases")
    n = ctx.count("suspicious_transactions", t)
    # by substance, not by the (possibly wrong) annex column
    precursor_articles = article_df.filter(pl.col("precursor_substance").is_not_null())["article_id"]
    # cases are flagged within 90 minutes of their order and reported within a day, at least two
    # days before the clock: only orders older than that (clamping a later case instead would flag
    # it before its own order)
    precursor_orders = (
        lines.filter(
            pl.col("article_id").is_in(precursor_articles.implode())
            & (pl.col("ordered_at") < ctx.now_expr - pl.duration(days=2, minutes=90))
        )
        .select("order_id", "customer_id", "ordered_at")
        .unique("order_id")
        .sort("order_id")
    )
    kinds = pick(rng, ["suspicious", "refused", "loss", "theft"], n, weights=[0.4, 0.25, 0.2, 0.15])
    kinds[:2] = ["suspicious", "loss"]
    order_idx = rng.integers(0, max(1, precursor_orders.height), size=n)
    on_order = np.isin(kinds, ["suspicious", "refused"]) & (precursor_orders.height > 0)
    flagged_order = precursor_orders["ordered_at"].to_list()
    loose_days = seasonal_days(ctx, rng, n, {"fertilizer": 1.0})
    loose_time = business_instants(rng, loose_days).to_list()
    flagged = [
        flagged_order[int(order_idx[i])] + dt.timedelta(minutes=int(rng.integers(5, 90))) if on_order[i]
        else loose_time[i]
        for i in range(n)
    ]  # fmt: skip
    flagged = [min(f, ctx.now - dt.timedelta(days=2)) for f in flagged]
    reported = [f + dt.timedelta(hours=float(rng.uniform(1, 20))) for f in flagged]
    land = next(iter(t.lands))
    cases = pl.DataFrame(
        {
            "case_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "order_id": [precursor_orders["order_id"][int(order_idx[i])] if on_order[i] else None for i in range(n)],
            "customer_id": [
                precursor_orders["customer_id"][int(order_idx[i])] if on_order[i] else None for i in range(n)
            ],
            "kind": kinds.astype(str),
            "flagged_at": pl.Series(flagged, dtype=UTC_US),
            "reported_at": pl.Series(reported, dtype=UTC_US),
            "authority_ref": [f"LKA-{land}-{f.year}-{int(rng.integers(1000, 9999))}" for f in flagged],
        },
        schema_overrides={"order_id": pl.String, "customer_id": pl.String},
    ).with_columns(updated_at=pl.col("reported_at"))

    # every loss or theft shows in the stock of a precursor article
    lost = cases.filter(pl.col("kind").is_in(["loss", "theft"]))
    precursor_pairs = pairs.filter(pl.col("article_id").is_in(precursor_articles.implode()))
    site = precursor_pairs.sample(lost.height, with_replacement=True, seed=int(rng.integers(1 << 31)))
    case_losses = pl.DataFrame(
        {
            "article_id": site["article_id"],
            "warehouse_id": site["warehouse_id"],
            "quantity": -np.round(rng.uniform(0.5, 3, size=lost.height), 1),
            "kind": "loss",
            "occurred_at": lost["flagged_at"] - durations(rng.integers(1, 12, size=lost.height)),
            "reference_id": lost["case_id"],
        }
    )
    other_pairs = pairs.filter(~pl.col("article_id").is_in(precursor_articles.implode()))
    n_break = max(2, round(lines.height * 0.003))
    broken = other_pairs.sample(n_break, with_replacement=True, seed=int(rng.integers(1 << 31)))
    breakage = pl.DataFrame(
        {
            "article_id": broken["article_id"],
            "warehouse_id": broken["warehouse_id"],
            "quantity": -np.round(rng.integers(1, 4, size=n_break).astype(float), 1),
            "kind": "loss",
            "occurred_at": business_instants(rng, seasonal_days(ctx, rng, n_break, {"other": 1.0})),
            "reference_id": pl.Series([None] * n_break, dtype=pl.String),
        }
    )
    return cases, pl.concat([case_losses, breakage])
