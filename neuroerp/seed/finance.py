"""Invoices, payments and cash of one tenant, following the trade."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.master import UTC_US
from neuroerp.seed.randomness import business_instants, money, uuids

AP_TERMS = [((2.0, 10, 30), 0.45), ((3.0, 14, 45), 0.10), ((None, None, 30), 0.30), ((1.0, 8, 21), 0.15)]
GRAIN_NET_DAYS = (7, 30)  # AgrarOLkG caps grain at 60 days
IMPORT_TERMS = (None, None, 45)
SERVICE_TERMS = (None, None, 14)


def _local_date(col: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone("Europe/Berlin").dt.date()


def _amounts(lines: pl.DataFrame, article_df: pl.DataFrame, key: str, **extra: pl.Expr) -> pl.DataFrame:
    """Net and tax per invoice from its lines, tax at each article's VAT rate."""
    return (
        lines.join(article_df.select("article_id", "_vat_pct"), on="article_id", maintain_order="left")
        .with_columns(_net=(pl.col("quantity") * pl.col("unit_price")).round(2))
        .with_columns(_tax=(pl.col("_net") * pl.col("_vat_pct") / 100).round(2))
        .group_by(key, maintain_order=True)
        .agg(net_amount=pl.col("_net").sum().round(2), tax_amount=pl.col("_tax").sum().round(2), **extra)
    )


def _invoice_days(
    ctx: Context, rng: np.random.Generator, df: pl.DataFrame, after: str, max_delay_days: int
) -> np.ndarray:
    """Invoice dates: the local day of `after`, up to max_delay_days later, never after as-of."""
    days = df.select(_local_date(after)).to_series().to_numpy().astype("datetime64[D]")
    days = days + rng.integers(0, max_delay_days + 1, size=df.height).astype("timedelta64[D]")
    return np.minimum(days, np.datetime64(ctx.as_of))


def _headers(
    ctx: Context, t: TenantProfile, rng: np.random.Generator, df: pl.DataFrame, kind: str, partner: str,
    days: np.ndarray, posted: pl.Series, terms: pl.DataFrame, prefix: str,
) -> pl.DataFrame:  # fmt: skip
    invoice_dates = pl.Series(days).cast(pl.Date)
    return pl.concat([df, terms], how="horizontal").with_columns(
        invoice_id=pl.Series(uuids(rng, df.height)),
        tenant_id=pl.lit(t.tenant_id),
        kind=pl.lit(kind),
        partner_id=partner,
        invoice_date=invoice_dates,
        gross_amount=(pl.col("net_amount") + pl.col("tax_amount")).round(2),
        currency=pl.lit("EUR"),
        posted_at=pl.select(pl.min_horizontal(posted, ctx.now_expr)).to_series(),
        invoice_no=pl.Series([f"{prefix}{d.year}-{i + 1:07d}" for i, d in enumerate(invoice_dates.to_list())]),
    )


def ar_invoices(
    ctx: Context, t: TenantProfile, orders: pl.DataFrame, lines: pl.DataFrame, customer_df: pl.DataFrame,
    article_df: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """One invoice per invoiced order, dated on its last delivery, with the customer's terms."""
    rng = ctx.rng(t.tenant_id, "ar_invoices")
    invoiced = orders.filter(pl.col("status") == "invoiced").select("order_id", "customer_id", "_last_delivery")
    amounts = _amounts(
        lines.join(invoiced.select("order_id"), on="order_id", maintain_order="left"), article_df, "order_id"
    )
    df = (
        invoiced.join(amounts, on="order_id", maintain_order="left")
        .join(
            customer_df.select("customer_id", "_skonto_pct", "_skonto_days", "_net_days", "_reliability"),
            on="customer_id",
            maintain_order="left",
        )
        .sort("_last_delivery", "order_id")
    )
    days = _invoice_days(ctx, rng, df, "_last_delivery", max_delay_days=1)
    # AR invoices are posted by the evening billing run
    posted = business_instants(rng, days, 17.0, 19.0)
    terms = df.select(skonto_pct="_skonto_pct", skonto_days="_skonto_days", net_days="_net_days")
    return _headers(ctx, t, rng, df, "AR", "customer_id", days, posted, terms, "RE")


def ap_invoices(
    ctx: Context, t: TenantProfile, pos: pl.DataFrame, po_lines: pl.DataFrame, supplier_df: pl.DataFrame,
    article_df: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """One supplier invoice per received purchase order, plus monthly service invoices."""
    rng = ctx.rng(t.tenant_id, "ap_invoices")
    amounts = _amounts(
        po_lines.filter(pl.col("received_at").is_not_null()), article_df, "po_id", _received=pl.col("received_at").max()
    )
    goods = pos.select("po_id", "supplier_id").join(amounts, on="po_id", maintain_order="left")
    # monthly invoices of freight, energy and workshop suppliers
    services = supplier_df.filter((pl.col("_trade") == "services") & pl.col("deleted_at").is_null())
    months = np.arange(np.datetime64(ctx.history_start, "M"), np.datetime64(ctx.as_of, "M") + 1)
    service_rows = []
    for sid in services["supplier_id"]:
        scale = rng.uniform(800, 25000)
        for m in months:
            day = (m.astype("datetime64[D]") + np.timedelta64(int(rng.integers(0, 27)), "D")).astype(dt.date)
            if day > ctx.as_of:
                continue
            net = float(money(np.array([scale * rng.uniform(0.7, 1.3)]))[0])
            service_rows.append((None, sid, net, float(money(np.array([net * 0.19]))[0]),
                                 dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC)))  # fmt: skip
    service_df = pl.DataFrame(
        service_rows, schema=goods.columns, orient="row",
        schema_overrides={"po_id": pl.String, "_received": UTC_US},
    )  # fmt: skip
    df = pl.concat([goods, service_df.select(goods.columns)]).sort("_received", "supplier_id")
    df = df.join(supplier_df.select("supplier_id", "_trade"), on="supplier_id", maintain_order="left")
    n = df.height
    trades = df["_trade"].to_numpy()
    terms_idx = rng.choice(len(AP_TERMS), size=n, p=[w for _, w in AP_TERMS])
    terms = []
    for trade, k in zip(trades, terms_idx, strict=False):
        if trade == "grain":
            terms.append((None, None, int(rng.integers(*GRAIN_NET_DAYS))))
        elif trade.startswith("import_"):
            terms.append(IMPORT_TERMS)
        elif trade == "services":
            terms.append(SERVICE_TERMS)
        else:
            terms.append(AP_TERMS[k][0])
    days = _invoice_days(ctx, rng, df, "_received", max_delay_days=3)
    # supplier invoices are entered by accounting within days of arrival
    posted = business_instants(rng, days + rng.integers(0, 3, size=n).astype("timedelta64[D]"), 8.0, 16.0)
    terms_df = pl.DataFrame(
        {"skonto_pct": [x[0] for x in terms], "skonto_days": [x[1] for x in terms], "net_days": [x[2] for x in terms]},
        schema={"skonto_pct": pl.Float64, "skonto_days": pl.Int32, "net_days": pl.Int32},
    )
    return _headers(ctx, t, rng, df, "AP", "supplier_id", days, posted, terms_df, "ER").with_columns(
        _reliability=pl.lit(0.97)  # we pay our suppliers reliably
    )


def payments(ctx: Context, t: TenantProfile, invoices: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Payments by each partner's habits: skonto taken in time, paid at due date, or late.

    Returns the payments and the invoices with status and last change set.
    """
    rng = ctx.rng(t.tenant_id, "payments", invoices["kind"][0])
    n = invoices.height
    inv_day = invoices["invoice_date"].to_numpy().astype("datetime64[D]")
    pct = invoices["skonto_pct"].fill_null(0.0).to_numpy()
    s_days = invoices["skonto_days"].fill_null(0).to_numpy()
    net_days = invoices["net_days"].to_numpy()
    reliability = invoices["_reliability"].to_numpy()
    gross = invoices["gross_amount"].to_numpy()
    u = rng.random(n)
    takes_skonto = (pct > 0) & (u < reliability * 0.8)
    late = ~takes_skonto & (rng.random(n) < (1 - reliability) * 0.9)
    offset = np.where(
        takes_skonto,
        rng.integers(0, 10_000, size=n) % np.maximum(s_days, 1) + 1,
        np.where(
            late,
            net_days + rng.integers(1, 60, size=n),
            np.maximum(s_days + 1, net_days - rng.integers(0, 6, size=n)),
        ),
    )
    offset = np.where(net_days == 0, 0, offset)
    paid_on = inv_day + offset.astype("timedelta64[D]")
    cancelled = rng.random(n) < 0.003
    split = ~cancelled & (rng.random(n) < 0.03)
    first_share = np.where(split, rng.uniform(0.4, 0.7, size=n), 1.0)
    skonto = np.where(takes_skonto & ~split, money(gross * pct / 100), 0.0)
    first_amount = np.where(split, money(gross * first_share), money(gross - skonto))
    second_on = paid_on + rng.integers(10, 40, size=n).astype("timedelta64[D]")
    today = np.datetime64(ctx.as_of)

    first_paid = ~cancelled & (paid_on <= today)
    second_paid = split & first_paid & (second_on <= today)
    rows_idx = np.concatenate([np.flatnonzero(first_paid), np.flatnonzero(second_paid)])
    rows_day = np.concatenate([paid_on[first_paid], second_on[second_paid]])
    rows_amount = np.concatenate([first_amount[first_paid], money(gross - first_amount)[second_paid]])
    rows_skonto = np.concatenate([skonto[first_paid], np.zeros(int(second_paid.sum()))])
    when = business_instants(rng, rows_day, 9.0, 12.0)
    when = pl.select(pl.min_horizontal(when, ctx.now_expr - pl.duration(minutes=5))).to_series()
    pay = pl.DataFrame(
        {
            "payment_id": uuids(rng, len(rows_idx)),
            "tenant_id": t.tenant_id,
            "invoice_id": invoices["invoice_id"].to_numpy()[rows_idx],
            "paid_on": pl.Series(rows_day).cast(pl.Date),
            "amount": rows_amount,
            "skonto_amount": rows_skonto,
            "updated_at": when,
        }
    ).sort("updated_at")

    status = np.where(
        cancelled, "cancelled",
        np.where(second_paid | (first_paid & ~split), "paid", np.where(first_paid, "partially_paid", "open")),
    )  # fmt: skip
    last_payment = pay.group_by("invoice_id", maintain_order=True).agg(_paid_at=pl.col("updated_at").max())
    cancel_at = invoices["posted_at"] + pl.duration(days=3)
    out = (
        invoices.with_columns(status=pl.Series(status), _cancel_at=cancel_at)
        .join(last_payment, on="invoice_id", how="left", maintain_order="left")
        .with_columns(
            # the last change: the cancellation or the last payment, never before the posting itself
            # (a cash sale is paid at the counter before the evening billing run posts its invoice)
            updated_at=pl.max_horizontal(
                "posted_at",
                pl.when(pl.col("status") == "cancelled")
                .then(pl.min_horizontal("_cancel_at", ctx.now_expr - pl.duration(minutes=10)))
                .otherwise("_paid_at"),
            )
        )
        .drop("_cancel_at", "_paid_at")
    )
    return pay, out


def cash(ctx: Context, t: TenantProfile, open_ar: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily bank balance over the history, and the next 90 days' expected flows other than AP."""
    rng = ctx.rng(t.tenant_id, "cash")
    days = ctx.history_days()
    weekdays = days[((days.astype(int) + 3) % 7) < 5]
    n = len(weekdays)
    level = 900_000 * t.share / 0.65
    balance = np.empty(n)
    x = level
    for i in range(n):
        x = x + 0.08 * (level - x) + rng.normal(0, level * 0.08)
        balance[i] = x
    rate_change = np.datetime64(ctx.as_of) - np.timedelta64(300, "D")
    positions = pl.DataFrame(
        {
            "tenant_id": t.tenant_id,
            "as_of": pl.Series(weekdays).cast(pl.Date),
            "bank_balance": money(balance),
            "credit_line_limit": t.credit_line,
            "credit_line_rate_pct": np.where(weekdays < rate_change, t.credit_rate_pct + 0.5, t.credit_rate_pct),
            # the bank statement of the day arrives in the evening; today's is provisional
            "updated_at": pl.select(
                pl.min_horizontal(business_instants(rng, weekdays, 18.0, 19.0), ctx.now_expr)
            ).to_series(),
        }
    )
    ahead = np.arange(np.datetime64(ctx.as_of) + 1, np.datetime64(ctx.as_of) + 91)
    day_of_month = (ahead - ahead.astype("datetime64[M]")).astype(int) + 1
    weekday = (ahead.astype(int) + 3) % 7
    ar_due = (
        open_ar.with_columns(_due=pl.col("invoice_date") + pl.duration(days=pl.col("net_days")))
        .group_by("_due", maintain_order=True)
        .agg(_amount=pl.col("gross_amount").sum())
    )
    due = dict(zip(ar_due["_due"].to_list(), ar_due["_amount"].to_list(), strict=False))
    inflow = np.array([due.get(d.astype(dt.date), 0.0) for d in ahead]) * 0.85 + np.where(
        weekday < 5, rng.uniform(5_000, 40_000, size=len(ahead)) * t.share / 0.65, 0.0
    )
    payroll = np.where(day_of_month == 28, 420_000 * t.share / 0.65, 0.0)
    tax = np.where(day_of_month == 10, rng.uniform(60_000, 140_000, size=len(ahead)) * t.share / 0.65, 0.0)
    running = np.where(weekday < 5, rng.uniform(2_000, 12_000, size=len(ahead)), 0.0)
    forecast = pl.DataFrame(
        {
            "tenant_id": t.tenant_id,
            "day": pl.Series(ahead).cast(pl.Date),
            "expected_inflow": money(inflow),
            "expected_outflow": money(payroll + tax + running),
            "updated_at": pl.Series([ctx.now - dt.timedelta(hours=2)] * len(ahead), dtype=UTC_US),
        }
    )
    return positions, forecast
