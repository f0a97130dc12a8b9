"""What the ERP writes about its own changes: the audit trail, the outbox, sagas, locks."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl

from neuroerp.seed.context import OUTBOX_DAYS, TENANTS, Context
from neuroerp.seed.master import UTC_US
from neuroerp.seed.randomness import business_instants, pick, uuids

Frames = dict[str, pl.DataFrame]

DESKTOP = "NeuroERP-Desktop/3.4.2 (Windows 11)"
CORE = "neuroerp-core/2.8.1"
WEB = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"


def _json(*cols: str, **literals: str) -> pl.Expr:
    """A JSON object of the given columns (values as strings), for before/after images."""
    fields = [pl.col(c).cast(pl.String).alias(c) for c in cols] + [pl.lit(v).alias(k) for k, v in literals.items()]
    return pl.struct(fields).struct.json_encode()


def _posted_image() -> pl.Expr:
    """The invoice as posted, the fields GoBD protects among them, as the ERP logs its creation."""
    fields = [
        pl.col("invoice_no"), pl.col("kind"), pl.col("invoice_date").cast(pl.String), pl.col("partner_id"),
        *(pl.col(f"_posted_{c}").round(2).cast(pl.String).alias(c) for c in ("net_amount", "tax_amount", "gross_amount")),
        pl.col("posted_at").cast(pl.String), pl.lit("open").alias("status"),
    ]  # fmt: skip
    return pl.struct(fields).struct.json_encode()


def _audit_part(df: pl.DataFrame, **exprs) -> pl.DataFrame:
    base = {
        "tenant_id": pl.col("tenant_id"),
        "correlation_id": pl.lit(None, pl.String),
        "ip": pl.lit("10.20.4.17"),
        "user_agent": pl.lit(DESKTOP),
        "before": pl.lit(None, pl.String),
        "after": pl.lit(None, pl.String),
    }
    base.update(exprs)
    cols = ["tenant_id", "occurred_at", "actor", "action", "entity_type", "entity_id", "correlation_id", "ip",
            "user_agent", "before", "after"]  # fmt: skip
    return df.select(**{c: base[c] for c in cols}).with_columns(pl.col("occurred_at").cast(UTC_US))


def audit_log(ctx: Context, f: Frames, marketing_extra: pl.DataFrame) -> pl.DataFrame:
    """The ERP's audit trail, ordered by time and numbered without gaps.

    Every change of a posted invoice (its payment status) is logged at the moment it happens,
    so `invoices.updated_at` always meets its audit row: GoBD's "no change without a trace".
    """
    rng = ctx.rng("audit")
    staff_logins = np.array([n.lower().replace(" ", ".") for n in f["staff"]["name"].to_list()])
    actor = lambda n: pl.Series(pick(rng, staff_logins, n))  # noqa: E731
    inv = f["invoices"]
    parts = [
        _audit_part(
            f["customers"], occurred_at=pl.col("created_at"), actor=actor(f["customers"].height),
            action=pl.lit("create"), entity_type=pl.lit("customer"), entity_id=pl.col("customer_id"),
            after=_json("customer_no", "name", "customer_type"),
        ),
        _audit_part(
            f["customers"].filter(pl.col("updated_at") > pl.col("created_at")), occurred_at=pl.col("updated_at"),
            actor=pl.lit("stammdaten"), action=pl.lit("update"), entity_type=pl.lit("customer"),
            entity_id=pl.col("customer_id"), after=_json("street", "postal_code", "city", "email", "phone"),
        ),
        _audit_part(
            f["customers"].filter(pl.col("deleted_at").is_not_null()), occurred_at=pl.col("deleted_at"),
            actor=pl.lit("stammdaten"), action=pl.lit("delete"), entity_type=pl.lit("customer"),
            entity_id=pl.col("customer_id"), before=_json("customer_no", "name"),
        ),
        _audit_part(
            f["customer_certificates"], occurred_at=pl.col("updated_at"), actor=pl.lit("stammdaten"),
            action=pl.lit("create"), entity_type=pl.lit("customer_certificate"), entity_id=pl.col("certificate_id"),
            after=_json("customer_id", "kind", "reference_no", "verified_at"),
        ),
        _audit_part(
            f["articles"], occurred_at=pl.col("updated_at"), actor=pl.lit("einkauf"), action=pl.lit("update"),
            entity_type=pl.lit("article"), entity_id=pl.col("article_id"),
            after=_json("article_no", "list_price", "is_active"),
        ),
        _audit_part(
            f["suppliers"], occurred_at=pl.col("updated_at"), actor=pl.lit("einkauf"), action=pl.lit("update"),
            entity_type=pl.lit("supplier"), entity_id=pl.col("supplier_id"),
            after=_json("supplier_no", "iban", "lksg_risk_level"),
        ),
        _audit_part(
            inv, occurred_at=pl.col("posted_at"), actor=pl.lit("fibu"), action=pl.lit("create"),
            entity_type=pl.lit("invoice"), entity_id=pl.col("invoice_id"), ip=pl.lit(None, pl.String),
            user_agent=pl.lit(CORE), after=_posted_image(),
        ),
        _audit_part(
            inv.filter(pl.col("_audited_at") > pl.col("posted_at")), occurred_at=pl.col("_audited_at"),
            actor=pl.lit("fibu"), action=pl.lit("update"), entity_type=pl.lit("invoice"),
            entity_id=pl.col("invoice_id"), ip=pl.lit(None, pl.String), user_agent=pl.lit(CORE),
            before=_json(status="open"), after=_json("status"),
        ),
        _audit_part(
            f["gdpr_requests"], occurred_at=pl.col("received_at"), actor=pl.lit("datenschutz"),
            action=pl.lit("create"), entity_type=pl.lit("gdpr_request"), entity_id=pl.col("request_id"),
            after=_json("customer_id", "kind"),
        ),
        _audit_part(
            f["gdpr_requests"].filter(pl.col("completed_at").is_not_null()), occurred_at=pl.col("completed_at"),
            actor=pl.lit("datenschutz"), action=pl.lit("update"), entity_type=pl.lit("gdpr_request"),
            entity_id=pl.col("request_id"), before=_json(status="open"), after=_json("status"),
        ),
        _logins(ctx, rng, f, staff_logins),
        _marketing_exports(ctx, f, marketing_extra),
    ]  # fmt: skip
    log = pl.concat(parts).sort("occurred_at", "tenant_id", "entity_type", "entity_id", "action")
    corr = rng.random(log.height) < 0.3
    return log.with_columns(
        seq=pl.int_range(1, log.height + 1, dtype=pl.Int64),
        correlation_id=pl.when(pl.Series(corr)).then(pl.Series(uuids(rng, log.height))).otherwise("correlation_id"),
    )


def _logins(ctx: Context, rng: np.random.Generator, f: Frames, staff_logins: np.ndarray) -> pl.DataFrame:
    staff = f["staff"]
    n = max(50, round(15_000 * ctx.scale))
    who = rng.integers(0, staff.height, size=n)
    days = ctx.history_days()
    weekdays = days[((days.astype(int) + 3) % 7) < 5]
    when = business_instants(rng, np.sort(weekdays[rng.integers(0, len(weekdays), size=n)]), 6.5, 9.0)
    df = pl.DataFrame(
        {"tenant_id": staff["tenant_id"].to_numpy()[who], "occurred_at": when, "login": staff_logins[who],
         "staff_id": staff["staff_id"].to_numpy()[who]}
    )  # fmt: skip
    return _audit_part(
        df, occurred_at=pl.col("occurred_at"), actor=pl.col("login"), action=pl.lit("login"),
        entity_type=pl.lit("staff"), entity_id=pl.col("staff_id"),
        ip=pl.format("10.20.{}.{}", pl.lit(4), pl.Series(rng.integers(2, 250, size=n))),
    )  # fmt: skip


CAMPAIGNS = [(2, 3, "Frühjahrsaktion Dünger"), (8, 20, "Herbstaussaat Saatgut")]


def campaign_dates(ctx: Context) -> list[tuple[dt.datetime, str]]:
    out = []
    for year in range(ctx.history_start.year, ctx.as_of.year + 1):
        for month, day, title in CAMPAIGNS:
            when = dt.datetime(year, month, day, 8, 0, tzinfo=dt.UTC)
            if ctx.history_start <= when.date() <= ctx.as_of:
                out.append((when, f"{title} {year}"))
    return out


def _marketing_exports(ctx: Context, f: Frames, extra: pl.DataFrame) -> pl.DataFrame:
    """E-mail campaigns go to customers whose marketing consent is active at send time."""
    consent = f["consents"].filter(pl.col("purpose") == "marketing_email")
    frames = []
    for when, title in campaign_dates(ctx):
        w = pl.lit(when).dt.cast_time_unit("us")
        active = consent.filter(
            (pl.col("granted_at") <= w) & (pl.col("revoked_at").is_null() | (pl.col("revoked_at") > w))
        )
        planted = extra.filter(pl.col("campaign") == title).select("tenant_id", "customer_id", "purpose")
        recipients = (
            pl.concat([active.select("tenant_id", "customer_id", purpose=pl.lit("marketing_email")), planted])
            .unique()
            .sort("customer_id", "purpose")
        )
        frames.append(recipients.with_columns(occurred_at=w, campaign=pl.lit(title)))
    df = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(
            schema={"tenant_id": pl.String, "customer_id": pl.String, "purpose": pl.String, "occurred_at": UTC_US,
                    "campaign": pl.String}
        )
    )  # fmt: skip
    return _audit_part(
        df, occurred_at=pl.col("occurred_at"), actor=pl.lit("marketing"), action=pl.lit("export"),
        entity_type=pl.lit("customer"), entity_id=pl.col("customer_id"), ip=pl.lit(None, pl.String),
        user_agent=pl.lit(CORE), after=_json("campaign", "purpose"),
    )  # fmt: skip


# ------------------------------------------------------------------------------------ outbox


def outbox(ctx: Context, f: Frames) -> pl.DataFrame:
    """Events of the last months' changes, as the ERP's transactional outbox holds them.

    `created_at` is set at insert, before commit, so it lags the change slightly and commit order
    differs from `created_at` order; ids are random UUIDs.
    """
    rng = ctx.rng("outbox")
    since = pl.lit(ctx.now - dt.timedelta(days=OUTBOX_DAYS)).dt.cast_time_unit("us")
    moves = f["stock_movements"].filter(pl.col("occurred_at") >= since)
    stock_changes = moves.group_by(
        "tenant_id",
        "article_id",
        "warehouse_id",
        pl.col("occurred_at").dt.truncate("1d").alias("_day"),
        maintain_order=True,
    ).agg(delta=pl.col("quantity").sum().round(3), at=pl.col("occurred_at").max(), movements=pl.len())
    specs = [
        (f["sales_orders"].filter(pl.col("ordered_at") >= since), "sales_order.created", "sales_order", "order_id",
         "ordered_at", ["order_id", "order_no", "customer_id", "channel"]),
        (f["invoices"].filter(pl.col("posted_at") >= since), "invoice.created", "invoice", "invoice_id",
         "posted_at", ["invoice_id", "invoice_no", "kind", "partner_id", "gross_amount"]),
        (f["payments"].filter(pl.col("updated_at") >= since), "payment.received", "invoice", "invoice_id",
         "updated_at", ["payment_id", "invoice_id", "amount", "skonto_amount"]),
        (stock_changes, "stock.changed", "stock_level", "article_id", "at",
         ["article_id", "warehouse_id", "delta", "movements"]),
        (f["customers"].filter(pl.col("created_at") >= since), "customer.created", "customer", "customer_id",
         "created_at", ["customer_id", "customer_no", "name"]),
        (f["customers"].filter((pl.col("updated_at") >= since) & (pl.col("updated_at") > pl.col("created_at"))),
         "customer.updated", "customer", "customer_id", "updated_at", ["customer_id", "customer_no"]),
        (f["customer_certificates"].filter(pl.col("updated_at") >= since), "certificate.updated", "customer",
         "customer_id", "updated_at", ["certificate_id", "customer_id", "kind"]),
        (f["articles"].filter(pl.col("updated_at") >= since), "article.updated", "article", "article_id",
         "updated_at", ["article_id", "article_no", "list_price"]),
        (f["gdpr_requests"].filter((pl.col("received_at") >= since) & (pl.col("kind") == "erasure")),
         "gdpr.erasure_requested", "customer", "customer_id", "received_at", ["request_id", "customer_id"]),
    ]  # fmt: skip
    parts = []
    for df, event_type, aggregate_type, aggregate_col, time_col, payload_cols in specs:
        parts.append(
            df.select(
                event_type=pl.lit(event_type),
                aggregate_type=pl.lit(aggregate_type),
                aggregate_id=pl.col(aggregate_col),
                payload=pl.struct([pl.col(c).cast(pl.String) for c in payload_cols]).struct.json_encode(),
                tenant_id=pl.col("tenant_id"),
                _at=pl.col(time_col).cast(UTC_US),
            )
        )
    ev = pl.concat(parts).sort("_at", "event_type", "aggregate_id")
    n = ev.height
    ids = uuids(rng, n)
    keyed = rng.random(n) < 0.9
    correlation = uuids(rng, n)
    metadata = [
        json.dumps({"idempotency_key": f"{et}:{agg}:{i[:8]}", "correlation_id": c, "source": "neuroerp-core"})
        if k else None
        for et, agg, i, c, k in zip(ev["event_type"], ev["aggregate_id"], ids, correlation, keyed, strict=False)
    ]  # fmt: skip
    insert_lag = pl.Series(rng.integers(0, 2_000_000, size=n)).cast(pl.Duration("us"))
    publish_lag = pl.Series(rng.integers(50_000, 5_000_000, size=n)).cast(pl.Duration("us"))
    failing = rng.random(n) < 0.005
    retries = np.where(failing, rng.integers(1, 6, size=n), 0)
    ev = ev.with_columns(
        id=pl.Series(ids),
        metadata=pl.Series(metadata, dtype=pl.String),
        created_at=(pl.col("_at") - insert_lag).dt.replace_time_zone(None),
        retry_count=pl.Series(retries, dtype=pl.Int32),
        last_error=pl.Series(
            [
                e if bad else None
                for e, bad in zip(
                    pick(rng, ["nats: timeout", "nats: no responders available for request"], n), failing, strict=False
                )
            ],
            dtype=pl.String,
        ),  # fmt: skip
        published_at=pl.col("_at") + publish_lag + pl.duration(seconds=pl.Series(retries * 30)),
    )
    # the newest events are not yet published; dead-lettered ones never will be
    fresh = pl.col("_at") > ctx.now_expr - pl.duration(minutes=5)
    return ev.with_columns(
        published_at=pl.when(fresh | (pl.col("retry_count") >= 5)).then(None).otherwise("published_at")
    ).drop("_at")


def idempotency_keys(ctx: Context, events: pl.DataFrame) -> pl.DataFrame:
    rng = ctx.rng("idempotency")
    consumed = events.filter(pl.col("metadata").is_not_null() & pl.col("published_at").is_not_null())
    consumed = consumed.filter(pl.Series(rng.random(consumed.height) < 0.4))
    return consumed.select(
        key=pl.col("metadata").str.json_path_match("$.idempotency_key"),
        event_id=pl.col("id"),
        processed_at=pl.col("published_at")
        + pl.duration(milliseconds=pl.Series(rng.integers(20, 500, consumed.height))),
        result=pl.lit('{"status": "processed"}'),
    ).unique("key", keep="first", maintain_order=True)


# ------------------------------------------------------------------------------------- sagas

SAGA_STEPS = {
    "order_fulfilment": ["reserve_stock", "create_delivery_note", "create_invoice", "notify_customer"],
    "supplier_payment_run": ["select_invoices", "build_sepa_file", "submit_to_bank", "book_payments"],
    "gdpr_erasure": ["restrict_processing", "anonymise_customer", "confirm_to_subject"],
}
SAGA_ERRORS = {
    "reserve_stock": "insufficient stock at warehouse",
    "create_delivery_note": "delivery note service unavailable",
    "create_invoice": "tax code missing for article",
    "notify_customer": "smtp: mailbox unavailable",
    "submit_to_bank": "EBICS: HAC rejected (signature)",
    "build_sepa_file": "IBAN check failed",
    "book_payments": "period closed",
    "select_invoices": "lock timeout",
    "restrict_processing": "legal hold lookup failed",
    "anonymise_customer": "open invoices reference customer",
    "confirm_to_subject": "smtp: mailbox unavailable",
}


def sagas(ctx: Context, f: Frames) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, list[str]]]:
    """Saga instances and steps: most complete, some fail and compensate, a few get stuck.

    Returns state, steps and the ids of stuck and compensated sagas for the manifest.
    """
    rng = ctx.rng("sagas")
    since = pl.lit(ctx.now - dt.timedelta(days=OUTBOX_DAYS)).dt.cast_time_unit("us")
    n_orders = sum(ctx.count("sagas", t) for t in TENANTS)
    recent_orders = f["sales_orders"].filter(pl.col("ordered_at") >= since).sort("ordered_at")
    picked = recent_orders.sample(min(n_orders, recent_orders.height), seed=int(rng.integers(1 << 31))).sort(
        "ordered_at"
    )
    starts = [("order_fulfilment", r["tenant_id"], {"order_id": r["order_id"]}, r["ordered_at"])
              for r in picked.iter_rows(named=True)]  # fmt: skip
    days = np.arange(np.datetime64(ctx.as_of) - OUTBOX_DAYS, np.datetime64(ctx.as_of) + 1)
    fridays = days[((days.astype(int) + 3) % 7) == 4]
    for t in TENANTS:
        for when in business_instants(rng, fridays, 7.0, 8.0).to_list():
            if when < ctx.now:
                starts.append(("supplier_payment_run", t.tenant_id, {"run": f"{when:%Y-%m-%d}"}, when))
    erasures = f["gdpr_requests"].filter((pl.col("kind") == "erasure") & (pl.col("received_at") >= since))
    for r in erasures.iter_rows(named=True):
        starts.append(("gdpr_erasure", r["tenant_id"], {"request_id": r["request_id"]}, r["received_at"]))

    states, steps = [], []
    stuck, compensated = [], []
    saga_ids = uuids(rng, len(starts))
    for saga_id, (saga_type, tenant, payload, started) in zip(saga_ids, starts, strict=False):
        names = SAGA_STEPS[saga_type]
        age = ctx.now - started
        u = rng.random()
        if age < dt.timedelta(minutes=10):
            outcome = "running"
        elif u < 0.015:
            outcome = "failed"
        elif u < 0.025:
            outcome = "compensating"
        elif u < 0.035:
            outcome = "stuck"
        else:
            outcome = "completed"
        # a failing saga fails after at least one step succeeded, so there is something to compensate
        first = 2 if outcome in ("failed", "compensating") else 1
        fail_at = int(rng.integers(first, len(names) + 1)) if outcome != "completed" else len(names)
        t = started
        step_rows = []
        for order, name in enumerate(names, start=1):
            row = {"saga_id": saga_id, "step_name": name, "execution_order": order, "input_data": json.dumps(payload),
                   "output_data": None, "error": None, "started_at": None, "completed_at": None,
                   "compensated_at": None}  # fmt: skip
            if order < fail_at or outcome == "completed":
                t = t + dt.timedelta(seconds=float(rng.uniform(0.2, 30)))
                row.update(status="SUCCESS", started_at=t, completed_at=t + dt.timedelta(milliseconds=300),
                           output_data=json.dumps({"ok": True}))  # fmt: skip
            elif order == fail_at and outcome in ("failed", "compensating"):
                t = t + dt.timedelta(seconds=float(rng.uniform(0.2, 30)))
                row.update(status="FAILED", started_at=t, error=SAGA_ERRORS[name])
            elif order == fail_at:  # stuck or running: the step was started and never finished
                t = t + dt.timedelta(seconds=float(rng.uniform(0.2, 30)))
                row.update(status="PENDING", started_at=t)
            else:
                row.update(status="PENDING")
            step_rows.append(row)
        if outcome in ("failed", "compensating"):
            done = [r for r in step_rows if r["status"] == "SUCCESS"]
            for k, r in enumerate(reversed(done)):
                if outcome == "compensating" and k == len(done) - 1:
                    break  # the last compensation never ran
                t = t + dt.timedelta(seconds=float(rng.uniform(0.2, 5)))
                r.update(status="COMPENSATED", compensated_at=t)
        steps += step_rows
        status = {"completed": "COMPLETED", "failed": "FAILED", "compensating": "COMPENSATING"}.get(outcome, "STARTED")
        current = next((r["step_name"] for r in step_rows if r["status"] in ("FAILED", "PENDING")), names[-1])
        failed_step = step_rows[fail_at - 1] if outcome != "completed" else None
        states.append(
            {
                "saga_id": saga_id,
                "saga_type": saga_type,
                "current_step": current,
                "status": status,
                "payload": json.dumps({"tenant_id": tenant, **payload}),
                "compensation_data": json.dumps({"reason": SAGA_ERRORS[failed_step["step_name"]]})
                if outcome in ("failed", "compensating") else None,
                "started_at": started,
                "updated_at": t,
                "completed_at": t if outcome in ("completed", "failed") else None,
                "error": SAGA_ERRORS[failed_step["step_name"]] if outcome in ("failed", "compensating") else None,
            }
        )  # fmt: skip
        if outcome in ("stuck", "compensating"):
            stuck.append(saga_id)
        if outcome == "failed":
            compensated.append(saga_id)
    state = pl.DataFrame(states, schema_overrides={"started_at": UTC_US, "updated_at": UTC_US, "completed_at": UTC_US,
                                                   "compensation_data": pl.String, "error": pl.String})  # fmt: skip
    step_df = pl.DataFrame(steps, schema_overrides={c: UTC_US for c in ("started_at", "completed_at", "compensated_at")}
                           | {"output_data": pl.String, "error": pl.String}, infer_schema_length=None)  # fmt: skip
    step_df = step_df.with_columns(id=pl.Series(uuids(rng, step_df.height)))
    return state, step_df, {"stuck": stuck, "compensated": compensated}


def event_locks(ctx: Context) -> pl.DataFrame:
    """Consumer leases: current ones expire in seconds; two are stale leftovers of crashed pods."""
    rng = ctx.rng("locks")
    consumers = ["analytics-sync", "billing-projection", "stock-projection", "notification-service",
                 "search-indexer", "payment-run"]  # fmt: skip
    rows = []
    for i, c in enumerate(consumers):
        stale = i >= len(consumers) - 2
        locked = ctx.now - (
            dt.timedelta(days=int(rng.integers(1, 9))) if stale else dt.timedelta(seconds=int(rng.integers(1, 20)))
        )
        rows.append({"lock_id": f"consumer:{c}", "locked_by": f"{c}-{uuids(rng, 1)[0][:8]}", "locked_at": locked,
                     "expires_at": locked + dt.timedelta(seconds=30)})  # fmt: skip
    return pl.DataFrame(rows, schema_overrides={"locked_at": UTC_US, "expires_at": UTC_US})
