"""Trade of one tenant: seasonal sales, purchasing with imports, and the stock that follows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.master import NON_EU, UTC_US
from neuroerp.seed.randomness import business_instants, money, pick, uuids, weighted_choice, zipf_weights

# Share of order lines by category and monthly seasonality (Jan..Dec): fertiliser before and during
# spring spreading, PSM in spring and autumn, seed for autumn and spring sowing, grain at harvest.
LINE_SHARES = {
    "pro": {"psm": 0.0, "fertilizer": 0.27, "seed": 0.15, "feed": 0.32, "grain": 0.07, "biostimulant": 0.04,
            "other": 0.15},
    "pro_skn": {"psm": 0.22, "fertilizer": 0.24, "seed": 0.14, "feed": 0.25, "grain": 0.04, "biostimulant": 0.03,
                "other": 0.08},
    "private": {"psm": 0.12, "fertilizer": 0.12, "seed": 0.08, "feed": 0.30, "grain": 0.0, "biostimulant": 0.05,
                "other": 0.33},
}  # fmt: skip
SEASON = {
    "psm": [2, 5, 12, 18, 16, 10, 4, 6, 12, 9, 3, 1],
    "fertilizer": [6, 14, 18, 16, 10, 4, 3, 7, 7, 5, 4, 6],
    "seed": [2, 5, 14, 12, 4, 1, 3, 14, 20, 10, 2, 1],
    "feed": [9, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9],
    "grain": [5, 5, 5, 5, 5, 6, 14, 16, 12, 8, 6, 5],
    "biostimulant": [1, 3, 10, 14, 14, 8, 3, 3, 5, 3, 1, 1],
    "other": [6, 7, 9, 10, 10, 9, 8, 9, 8, 8, 8, 8],
}
CATEGORIES = list(SEASON)
SEASON_NORM = {c: np.array(v, float) / np.mean(v) for c, v in SEASON.items()}
WEEKDAY_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.02])  # Mon..Sun


def _month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(int) % 12


def _weekday_of(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype(int) + 3) % 7  # 1970-01-01 was a Thursday


def seasonal_days(ctx: Context, rng: np.random.Generator, n: int, shares: dict[str, float]) -> np.ndarray:
    days = ctx.history_days()
    months = _month_of(days)
    weights = sum(share * SEASON_NORM[c][months] for c, share in shares.items()) * WEEKDAY_FACTOR[_weekday_of(days)]
    return np.sort(days[weighted_choice(rng, n, weights)])


# -------------------------------------------------------------------------------- stock pairs


def stock_pairs(ctx: Context, t: TenantProfile, article_df: pl.DataFrame, warehouse_df: pl.DataFrame) -> pl.DataFrame:
    """Which warehouses stock which article: one to four sites each."""
    rng = ctx.rng(t.tenant_id, "stock_pairs")
    wh = warehouse_df["warehouse_id"].to_list()
    rows = []
    for aid in article_df["article_id"]:
        k = int(min(len(wh), rng.integers(1, 5)))
        for rank, w in enumerate(rng.choice(len(wh), size=k, replace=False)):
            rows.append((aid, wh[int(w)], rank))
    pairs = pl.DataFrame(rows, schema=["article_id", "warehouse_id", "_rank"], orient="row")
    return pairs.with_columns(_sites=pl.len().over("article_id"))


# ------------------------------------------------------------------------------------ sales


def sales(
    ctx: Context,
    t: TenantProfile,
    customer_df: pl.DataFrame,
    article_df: pl.DataFrame,
    staff_df: pl.DataFrame,
    pairs: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = ctx.rng(t.tenant_id, "sales")
    n_orders = ctx.count("sales_orders", t)
    overall = {c: np.mean([LINE_SHARES[k][c] for k in LINE_SHARES]) for c in CATEGORIES}
    days = seasonal_days(ctx, rng, n_orders, overall)

    cust = customer_df.filter(pl.col("deleted_at").is_null() if "deleted_at" in customer_df.columns else True)
    cust_idx = weighted_choice(rng, n_orders, cust["_weight"].to_numpy())
    klass = cust["_class"].to_numpy()[cust_idx]
    private = klass == "private"
    channel = np.where(
        private,
        pick(rng, ["webshop", "counter"], n_orders),
        pick(rng, ["counter", "field", "phone", "webshop"], n_orders, weights=[0.3, 0.4, 0.2, 0.1]),
    )
    ordered_at = business_instants(rng, days)
    webshop_time = pl.select(pl.min_horizontal(business_instants(rng, days, 0.0, 23.99), ctx.now_expr)).to_series()
    ordered_at = pl.select(
        pl.when(pl.Series(channel == "webshop")).then(webshop_time).otherwise(ordered_at)
    ).to_series()

    orders = pl.DataFrame(
        {
            "order_id": uuids(rng, n_orders),
            "tenant_id": t.tenant_id,
            "order_no": [f"AU{d.astype('datetime64[Y]').astype(int) + 1970}-{i + 1:07d}" for i, d in enumerate(days)],
            "customer_id": cust["customer_id"].to_numpy()[cust_idx],
            "ordered_at": ordered_at,
            "channel": channel.astype(str),
            "_class": klass,
            "_month": _month_of(days),
            "_day": days,
        }
    )
    n_lines = 1 + np.where(private, rng.geometric(0.6, n_orders) - 1, rng.geometric(0.2, n_orders) - 1)
    n_lines = np.minimum(n_lines, 15)
    lines = orders.select("order_id", "customer_id", "_class", "_month", "_day", "ordered_at").select(
        pl.all().repeat_by(pl.Series(n_lines)).explode()
    )
    lines = _choose_articles(ctx, rng, lines, article_df)
    lines = _quantities(rng, lines, article_df, customer_df)
    lines = _assign_warehouse(rng, lines, pairs)

    # fulfilment: delivered within days, invoiced after delivery; the last days are still open
    n = lines.height
    lead = pl.Series(rng.uniform(2, 96, size=n_orders) * 3600 * 1_000_000).cast(pl.Duration("us"))
    orders = orders.with_columns(_delivery_lead=lead, _cancelled=pl.Series(rng.random(n_orders) < 0.015))
    lines = lines.join(
        orders.select("order_id", "_delivery_lead", "_cancelled"), on="order_id", maintain_order="left"
    ).with_columns(
        delivered_at=pl.when(~pl.col("_cancelled") & (pl.col("ordered_at") + pl.col("_delivery_lead") <= ctx.now_expr))
        .then(pl.col("ordered_at") + pl.col("_delivery_lead"))
        .otherwise(None),
        line_id=pl.Series(uuids(rng, n)),
        tenant_id=pl.lit(t.tenant_id),
    )
    lines = lines.join(
        customer_df.select("customer_id", delivery_state_code="state_code"), on="customer_id", maintain_order="left"
    )
    lines = lines.with_columns(
        delivery_state_code=pl.when(pl.col("delivered_at").is_not_null()).then("delivery_state_code"),
        updated_at=pl.coalesce("delivered_at", "ordered_at"),
    )
    status = lines.group_by("order_id", maintain_order=True).agg(
        _delivered=pl.col("delivered_at").is_not_null().all(),
        _last_delivery=pl.col("delivered_at").max(),
        _has_psm=(pl.col("_category") == "psm").any(),
    )
    orders = orders.join(status, on="order_id", maintain_order="left").with_columns(
        status=pl.when(pl.col("_cancelled"))
        .then(pl.lit("cancelled"))
        .when(~pl.col("_delivered"))
        .then(pl.lit("open"))
        .when(pl.col("_last_delivery") < ctx.now_expr - pl.duration(days=2))
        .then(pl.lit("invoiced"))
        .otherwise(pl.lit("delivered"))
    )
    orders = orders.with_columns(
        updated_at=pl.when(pl.col("status") == "cancelled")
        .then(pl.col("ordered_at") + pl.duration(hours=5))
        .otherwise(pl.coalesce("_last_delivery", "ordered_at")),
        sold_by=_sellers(rng, orders, staff_df),
    )
    return orders, lines


def _choose_articles(
    ctx: Context, rng: np.random.Generator, lines: pl.DataFrame, article_df: pl.DataFrame
) -> pl.DataFrame:
    """Category by season and customer class, then an article of that category the customer may buy."""
    n = lines.height
    klass = lines["_class"].to_numpy()
    months = lines["_month"].to_numpy()
    category = np.empty(n, dtype=object)
    for k, shares in LINE_SHARES.items():
        for m in range(12):
            mask = (klass == k) & (months == m)
            if mask.any():
                w = [shares[c] * SEASON_NORM[c][m] for c in CATEGORIES]
                category[mask] = pick(rng, CATEGORIES, int(mask.sum()), weights=w)

    arts = article_df.with_row_index("_idx")
    popularity = np.empty(arts.height)
    popularity[rng.permutation(arts.height)] = zipf_weights(arts.height, 0.8)
    ids = arts["article_id"].to_numpy()
    cat = arts["category"].to_numpy()
    private_ok = arts["_private_ok"].to_numpy()
    pro_only = arts["psm_professional_only"].to_numpy()
    sellable = arts["_sellable_until"].to_numpy()
    # long-lived PSM: authorisation (plus sell-out) beyond the as-of date
    long_lived = np.array([s is None or s >= ctx.as_of for s in arts["_sellable_until"].to_list()])

    def pool(k: str, c: str, only_long_lived: bool = False) -> np.ndarray:
        allowed = cat == c
        if k == "private":
            allowed &= private_ok
        elif k == "pro":
            allowed &= ~pro_only
        if only_long_lived:
            allowed &= long_lived
        return np.flatnonzero(allowed)

    chosen = np.empty(n, dtype=np.int64)

    def draw(mask: np.ndarray, k: str, c: str, only_long_lived: bool = False) -> None:
        candidates = pool(k, c, only_long_lived)
        if candidates.size == 0:  # nothing of that kind for this class: sundries instead
            candidates = pool(k, "other")
        chosen[mask] = candidates[weighted_choice(rng, int(mask.sum()), popularity[candidates])]

    for k in LINE_SHARES:
        for c in CATEGORIES:
            mask = (klass == k) & (category == c)
            if mask.any():
                draw(mask, k, c)

    # PSM is sold only until its authorisation (plus the sell-out period) ends
    days = lines["_day"].to_numpy()
    limit = np.array([np.datetime64(s) if s is not None else np.datetime64("2999-12-31") for s in sellable])
    stale = days > limit[chosen]
    for k in LINE_SHARES:
        mask = stale & (klass == k)
        if mask.any():
            draw(mask, k, "psm", only_long_lived=True)
    return lines.with_columns(article_id=pl.Series(ids[chosen]), _category=pl.Series(cat[chosen]))


def _quantities(
    rng: np.random.Generator, lines: pl.DataFrame, article_df: pl.DataFrame, customer_df: pl.DataFrame
) -> pl.DataFrame:
    """Quantities in the article's unit, whole packs; precursors steady per customer (no false alarms)."""
    df = lines.join(
        article_df.select("article_id", "unit", "pack_size", "list_price", "precursor_annex"),
        on="article_id",
        maintain_order="left",
    ).join(customer_df.select("customer_id", "_precursor_base_t"), on="customer_id", maintain_order="left")
    n = df.height
    private = (df["_class"] == "private").to_numpy()
    pack = df["pack_size"].to_numpy()
    unit = df["unit"].to_numpy()
    bulk_t = rng.lognormal(np.log(6), 0.8, size=n)
    packs_bulk = np.maximum(1, np.round(bulk_t / pack))
    packs_small = np.where(private, rng.geometric(0.7, n), rng.geometric(0.3, n))
    precursor = df["precursor_annex"].is_not_null().to_numpy()
    base = df["_precursor_base_t"].to_numpy() * rng.uniform(0.8, 1.2, size=n)
    packs_precursor = np.maximum(1, np.round(base / pack))
    n_packs = np.where(precursor, packs_precursor, np.where(unit == "t", packs_bulk, packs_small))
    quantity = np.round(n_packs * pack, 3)
    discount = np.where(private, 0.0, rng.uniform(0, 0.08, size=n))
    price = money(df["list_price"].to_numpy() * (1 - discount))
    return df.with_columns(quantity=pl.Series(quantity), unit_price=pl.Series(price)).drop(
        "unit", "pack_size", "list_price", "precursor_annex", "_precursor_base_t"
    )


def _assign_warehouse(rng: np.random.Generator, lines: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """One of the sites that stock the line's article."""
    sites = pairs.group_by("article_id", maintain_order=True).agg(pl.col("_sites").first())
    df = lines.join(sites, on="article_id", maintain_order="left")
    df = df.with_columns(_rank=(pl.Series(rng.random(df.height)) * pl.col("_sites")).floor().cast(pl.Int64))
    return df.join(
        pairs.select("article_id", "warehouse_id", pl.col("_rank").cast(pl.Int64)),
        on=["article_id", "_rank"],
        maintain_order="left",
    ).drop("_sites", "_rank")


def _sellers(rng: np.random.Generator, orders: pl.DataFrame, staff_df: pl.DataFrame) -> pl.Series:
    """Orders with PSM are sold by staff holding a Sachkunde (for a webshop order the Sachkunde
    holder named responsible for it); other webshop orders have no seller."""
    everyone = staff_df["staff_id"].to_numpy()
    qualified = staff_df.filter(pl.col("psm_sachkunde_no").is_not_null())["staff_id"].to_numpy()
    n = orders.height
    any_staff = everyone[rng.integers(0, len(everyone), size=n)]
    skn_staff = qualified[rng.integers(0, len(qualified), size=n)]
    seller = np.where(orders["_has_psm"].to_numpy(), skn_staff, any_staff)
    unnamed = (orders["channel"].to_numpy() == "webshop") & ~orders["_has_psm"].to_numpy()
    return pl.Series("sold_by", [None if w else str(s) for w, s in zip(unnamed, seller, strict=False)], dtype=pl.String)


def precursor_statements(
    ctx: Context, customer_df: pl.DataFrame, lines: pl.DataFrame, article_df: pl.DataFrame, staff_df: pl.DataFrame
) -> pl.DataFrame:
    """Annex IV customer statements, renewed every year, for every professional precursor buyer."""
    rng = ctx.rng(customer_df["tenant_id"][0], "certificates", "precursor")
    buyers = (
        lines.join(article_df.select("article_id", "precursor_annex"), on="article_id", maintain_order="left")
        .filter(pl.col("precursor_annex").is_not_null())
        .group_by("customer_id", maintain_order=True)
        .agg(first=pl.col("ordered_at").min(), last=pl.col("ordered_at").max())
        .join(
            customer_df.select("customer_id", "tenant_id", "is_professional"), on="customer_id", maintain_order="left"
        )
        .filter(pl.col("is_professional"))
        .sort("customer_id")
    )
    rows = []
    names = staff_df["name"].to_list()
    for cid, tenant, first, last in buyers.select("customer_id", "tenant_id", "first", "last").iter_rows():
        issued = first.date() - dt.timedelta(days=int(rng.integers(0, 20)))
        while issued <= last.date():
            verified = dt.datetime.combine(issued, dt.time(9, 30), tzinfo=dt.UTC)
            rows.append(
                {
                    "tenant_id": tenant,
                    "customer_id": cid,
                    "kind": "precursor_customer_statement",
                    "reference_no": f"KE-{issued.year}-{int(rng.integers(10000, 99999))}",
                    "issued_on": issued,
                    "valid_until": issued + dt.timedelta(days=364),
                    "verified_at": verified,
                    "verified_by": names[int(rng.integers(0, len(names)))],
                    "updated_at": verified,
                }
            )
            issued += dt.timedelta(days=int(rng.integers(300, 350)))
    df = pl.DataFrame(rows, schema_overrides={"verified_at": UTC_US, "updated_at": UTC_US})
    return df.with_columns(certificate_id=pl.Series(uuids(rng, df.height)))


# ------------------------------------------------------------------------------- purchasing


def purchasing(
    ctx: Context,
    t: TenantProfile,
    supplier_df: pl.DataFrame,
    article_df: pl.DataFrame,
    pairs: pl.DataFrame,
    lines: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Purchase orders replenish what was sold, a lead time ahead of the season."""
    rng = ctx.rng(t.tenant_id, "purchasing")
    n_po = ctx.count("purchase_orders", t)
    sold = lines.group_by("article_id", maintain_order=True).agg(_sold=pl.col("quantity").sum())
    arts = (
        article_df.filter(pl.col("supplier_id").is_not_null())
        .join(sold, on="article_id", how="left", maintain_order="left")
        .with_columns(pl.col("_sold").fill_null(0.0))
    )
    supplier_of = arts.group_by("supplier_id", maintain_order=True).agg(
        pl.col("article_id"), _volume=pl.col("_sold").sum() + 1.0, _category=pl.col("category").first()
    )
    # every supplier with articles gets orders, the busy ones more
    sup_idx = weighted_choice(rng, n_po, np.sqrt(supplier_of["_volume"].to_numpy()))
    sup_idx[: min(n_po, supplier_of.height)] = np.arange(min(n_po, supplier_of.height))
    categories = supplier_of["_category"].to_numpy()[sup_idx]
    days = np.empty(n_po, dtype="datetime64[D]")
    for c in np.unique(categories):
        mask = categories == c
        d = seasonal_days(ctx, rng, int(mask.sum()), {c: 1.0})
        days[mask] = d - np.timedelta64(21, "D")
    days = np.maximum(days, np.datetime64(ctx.history_start))
    ordered_at = business_instants(rng, days)
    lead = rng.integers(3, 45, size=n_po)
    expected = days + lead.astype("timedelta64[D]")
    pos = pl.DataFrame(
        {
            "po_id": uuids(rng, n_po),
            "tenant_id": t.tenant_id,
            "supplier_id": supplier_of["supplier_id"].to_numpy()[sup_idx],
            "po_no": [f"BE{d.astype('datetime64[Y]').astype(int) + 1970}-{i + 1:06d}" for i, d in enumerate(days)],
            "ordered_at": ordered_at,
            "expected_on": pl.Series(expected).cast(pl.Date),
        }
    ).sort("ordered_at")
    cancelled = rng.random(n_po) < 0.02
    received = ~cancelled & (pos["expected_on"].to_numpy() < np.datetime64(ctx.as_of))
    pos = pos.with_columns(
        status=pl.Series(np.where(cancelled, "cancelled", np.where(received, "received", "open"))),
    )
    # lines: one to eight articles of that supplier
    k = np.minimum(rng.geometric(0.3, n_po), 8)
    supplier_articles = dict(zip(supplier_of["supplier_id"], supplier_of["article_id"], strict=False))
    # PSM is bought only while authorised: goods received after the end could not even be sold out
    until = dict(arts.filter(pl.col("psm_authorized_until").is_not_null()).select("article_id", "psm_authorized_until")
                 .iter_rows())  # fmt: skip
    rows = []
    for po_id, sid, k_i, due in zip(pos["po_id"], pos["supplier_id"], k, pos["expected_on"], strict=False):
        candidates = [a for a in supplier_articles[sid] if a not in until or until[a] >= due + dt.timedelta(days=2)]
        if not candidates:
            continue
        for j in rng.choice(len(candidates), size=min(int(k_i), len(candidates)), replace=False):
            rows.append((po_id, candidates[int(j)]))
    po_lines = pl.DataFrame(rows, schema=["po_id", "article_id"], orient="row")
    po_lines = po_lines.join(
        arts.select("article_id", "pack_size", "unit_cost", "unit", "_trade", "supplier_id", "eudr_commodity",
                    "_sold"),
        on="article_id",maintain_order="left"
    ).join(pos.select("po_id", "ordered_at", "expected_on", "status"), on="po_id", maintain_order="left")  # fmt: skip
    orders_per_article = po_lines.group_by("article_id", maintain_order=True).agg(_n=pl.len())
    po_lines = po_lines.join(orders_per_article, on="article_id", maintain_order="left")
    n = po_lines.height
    # replenish the sold volume over the article's purchase orders, at least a pallet or a truck
    want = po_lines["_sold"].to_numpy() / po_lines["_n"].to_numpy() * rng.uniform(0.8, 1.2, size=n)
    pack = po_lines["pack_size"].to_numpy()
    packs = np.maximum(np.where(po_lines["unit"].to_numpy() == "t", 24 / pack, 10), np.round(want / pack))
    quantity = np.round(packs * pack, 3)
    supplier_country = dict(zip(supplier_df["supplier_id"], supplier_df["country_code"], strict=False))
    origin = [supplier_country[s] for s in po_lines["supplier_id"]]
    eudr = po_lines["eudr_commodity"].to_numpy()
    line_ids = uuids(rng, n)
    po_lines = po_lines.with_columns(
        po_line_id=pl.Series(line_ids),
        tenant_id=pl.lit(t.tenant_id),
        quantity=pl.Series(quantity),
        unit_price=pl.Series(money(po_lines["unit_cost"].to_numpy() * rng.uniform(0.97, 1.03, size=n))),
        origin_country_code=pl.Series(origin),
        # goods ship from where the supplier sits: the ERP leaves the dispatch country empty then
        dispatch_country_code=pl.lit(None, pl.String),
        # the lot the receipt becomes: it follows the goods into stock and sales
        batch_no=pl.Series([f"CH-{lid[:8].upper()}" for lid in line_ids], dtype=pl.String),
        dds_reference=pl.Series(
            [
                f"DDS-{int(rng.integers(2024, 2027))}-{uuid[:13].upper()}" if e else None
                for e, uuid in zip(eudr, uuids(rng, n), strict=False)
            ],
            dtype=pl.String,
        ),  # fmt: skip
    )
    po_lines = _assign_warehouse(rng, po_lines, pairs)
    arrival = pl.col("expected_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(hours=7)
    po_lines = po_lines.with_columns(
        received_at=pl.when(pl.col("status") == "received")
        .then(arrival + pl.duration(hours=pl.Series(rng.integers(0, 9, size=n))))
        .otherwise(None)
    ).with_columns(updated_at=pl.coalesce("received_at", "ordered_at"))
    received_last = po_lines.group_by("po_id", maintain_order=True).agg(_last=pl.col("updated_at").max())
    pos = (
        pos.join(received_last, on="po_id", how="left", maintain_order="left")
        .with_columns(
            updated_at=pl.when(pl.col("status") == "cancelled")
            .then(pl.col("ordered_at") + pl.duration(days=2))
            .otherwise(pl.coalesce("_last", "ordered_at"))
        )
        .drop("_last")
    )
    return pos, po_lines


def import_documents(
    ctx: Context, t: TenantProfile, pos: pl.DataFrame, po_lines: pl.DataFrame, article_df: pl.DataFrame
) -> pl.DataFrame:
    """TRACES NT documents for consignments from outside the EU: CHED by article, COI for organic goods."""
    rng = ctx.rng(t.tenant_id, "imports")
    needs = (
        po_lines.filter(
            pl.coalesce("dispatch_country_code", "origin_country_code").is_in(list(NON_EU))
            & (pl.col("status") != "cancelled")
        )
        .join(article_df.select("article_id", "import_control", "is_organic"), on="article_id", maintain_order="left")
        .with_columns(kind=pl.when(pl.col("is_organic")).then(pl.lit("COI")).otherwise(pl.col("import_control")))
        .filter(pl.col("kind").is_not_null())
        .group_by("po_id", "kind", maintain_order=True)
        .agg(pl.col("expected_on").first(), pl.col("status").first(), pl.col("ordered_at").first())
        .sort("po_id", "kind")
    )
    n = needs.height
    arrival = pl.col("expected_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(hours=6)
    lead_h = pl.Series(rng.integers(96, 200, size=n))  # well over one working day ahead, weekends included
    done = pl.col("status") == "received"
    # a pre-notification due after the clock has not been sent yet: a draft since the order
    # (writing its future instant instead gave rows the ingest rejects as implausible)
    sent = arrival - pl.duration(hours=lead_h) <= ctx.now_expr
    return (
        needs.with_columns(
            document_id=pl.Series(uuids(rng, n)),
            tenant_id=pl.lit(t.tenant_id),
            reference_no=pl.Series(
                [
                    f"{'COI' if k == 'COI' else 'CHED' + k[4:]}.DE.{int(rng.integers(2024, 2027))}.{int(rng.integers(10**6, 10**7))}"
                    for k in needs["kind"]
                ]
            ),  # fmt: skip
            arrival_at=arrival,
            submitted_at=pl.when(sent).then(arrival - pl.duration(hours=lead_h)),
            status=pl.when(done & (pl.col("kind") == "COI"))
            .then(pl.lit("endorsed"))
            .when(done)
            .then(pl.lit("validated"))
            .when(sent)
            .then(pl.lit("submitted"))
            .otherwise(pl.lit("draft")),
        )
        .with_columns(
            updated_at=pl.when(done)
            .then(pl.col("arrival_at") + pl.duration(hours=3))
            .otherwise(pl.coalesce("submitted_at", "ordered_at"))
        )
        .drop("expected_on", "ordered_at")
    )


def assign_lots(lines: pl.DataFrame, po_lines: pl.DataFrame) -> pl.DataFrame:
    """Each sales line takes its goods from the article's latest lot received before the order (a
    line ordered before any receipt of its article has no recorded lot)."""
    lots = (
        po_lines.filter(pl.col("received_at").is_not_null() & (pl.col("status") != "cancelled"))
        .select("article_id", _received="received_at", _lot="batch_no")
        .sort("_received")
    )
    order = lines.with_row_index("_pos").sort("ordered_at")
    joined = order.join_asof(
        lots, left_on="ordered_at", right_on="_received", by="article_id", strategy="backward",
        check_sortedness=False,
    )  # fmt: skip
    return joined.sort("_pos").with_columns(batch_no=pl.col("_lot")).drop("_pos", "_received", "_lot")


# ------------------------------------------------------------------------------------ stock


def stock(
    ctx: Context,
    t: TenantProfile,
    pairs: pl.DataFrame,
    lines: pl.DataFrame,
    po_lines: pl.DataFrame,
    article_df: pl.DataFrame,
    losses: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Movements (sales, receipts, transfers, counts, losses) and the stock levels they sum to."""
    rng = ctx.rng(t.tenant_id, "stock")
    sale = lines.filter(pl.col("delivered_at").is_not_null()).select(
        "article_id", "warehouse_id", quantity=-pl.col("quantity"), kind=pl.lit("sale"),
        occurred_at="delivered_at", reference_id="line_id",
    )  # fmt: skip
    receipt = po_lines.filter(pl.col("received_at").is_not_null()).select(
        "article_id", "warehouse_id", "quantity", kind=pl.lit("receipt"), occurred_at="received_at",
        reference_id="po_line_id",
    )  # fmt: skip
    # transfers between sites of multi-site articles
    multi = pairs.filter(pl.col("_sites") > 1)
    n_tr = round(sale.height * 0.22)
    transfers = multi.sample(n_tr, with_replacement=True, seed=int(rng.integers(1 << 31))) if multi.height else multi
    n_tr = transfers.height
    tr_days = seasonal_days(ctx, rng, n_tr, {"fertilizer": 0.5, "feed": 0.5})
    tr_time = business_instants(rng, tr_days)
    other = pairs.join(
        pairs.select("article_id", _to="warehouse_id", _to_rank="_rank"), on="article_id", maintain_order="left"
    ).filter(pl.col("warehouse_id") != pl.col("_to"))
    partner = other.group_by("article_id", "warehouse_id", maintain_order=True).agg(pl.col("_to").first())
    transfers = transfers.join(partner, on=["article_id", "warehouse_id"], maintain_order="left")
    n_tr = transfers.height
    qty = np.round(rng.uniform(1, 8, size=n_tr), 0)
    ref = uuids(rng, n_tr)
    t_out = transfers.select(
        "article_id", "warehouse_id", quantity=pl.Series(-qty), kind=pl.lit("transfer_out"),
        occurred_at=tr_time[:n_tr], reference_id=pl.Series(ref),
    )  # fmt: skip
    arrival = pl.select(pl.min_horizontal(tr_time[:n_tr] + pl.duration(hours=6), ctx.now_expr)).to_series()
    t_in = transfers.select(
        "article_id", warehouse_id="_to", quantity=pl.Series(qty), kind=pl.lit("transfer_in"),
        occurred_at=arrival, reference_id=pl.Series(ref),
    )  # fmt: skip
    # monthly-ish inventory count corrections
    n_adj = round(sale.height * 0.05)
    adj = pairs.sample(n_adj, with_replacement=True, seed=int(rng.integers(1 << 31)))
    adj_time = business_instants(rng, seasonal_days(ctx, rng, n_adj, {"other": 1.0}))
    adjustments = adj.select(
        "article_id", "warehouse_id", quantity=pl.Series(np.round(rng.normal(0, 1.5, size=n_adj), 0)),
        kind=pl.lit("adjustment"), occurred_at=adj_time, reference_id=pl.lit(None, pl.String),
    ).filter(pl.col("quantity") != 0)  # fmt: skip
    # precursors come up short only as loss cases (recorded with their report), never as a silent count
    precursors = article_df.filter(pl.col("precursor_substance").is_not_null())["article_id"]
    adjustments = adjustments.filter(~(pl.col("article_id").is_in(precursors.implode()) & (pl.col("quantity") < 0)))
    moves = pl.concat(
        [m.with_columns(pl.col("quantity").cast(pl.Float64), pl.col("occurred_at").cast(UTC_US))
         for m in (sale, receipt, t_out, t_in, adjustments, losses.select(sale.columns))],
    )  # fmt: skip
    # the opening count brings every site to a plausible end stock: a few weeks of its sales
    net = moves.group_by("article_id", "warehouse_id", maintain_order=True).agg(
        _net=pl.col("quantity").sum(), _out=(-pl.col("quantity")).clip(0).sum()
    )
    # every site that saw a movement is opened, stocked or not (a relabelled line may ship from anywhere)
    sites = pl.concat([pairs.select("article_id", "warehouse_id"), net.select("article_id", "warehouse_id")])
    sites = sites.unique(maintain_order=True)
    opening = sites.join(net, on=["article_id", "warehouse_id"], how="left", maintain_order="left")
    opening = opening.with_columns(pl.col("_net", "_out").fill_null(0.0))
    target = np.round(opening["_out"].to_numpy() / 730 * rng.uniform(10, 45, size=opening.height) + 1, 0)
    # PSM past its sell-out period was returned to the supplier: none left (unless planted otherwise)
    info = opening.join(
        article_df.select("article_id", "_sellable_until", "precursor_substance", "_keep_stock"), on="article_id",
        how="left", maintain_order="left",
    )  # fmt: skip
    gone = info.select(
        (pl.col("_sellable_until") < ctx.as_of).fill_null(False) & ~pl.col("_keep_stock").fill_null(False)
    ).to_series()
    target = np.where(gone.to_numpy(), 0.0, target)
    # a precursor's stock never opens negative: a short count of it would be a disappearance (Art. 9 (5))
    precursor = info["precursor_substance"].is_not_null().to_numpy()
    target = np.where(precursor, np.maximum(target, opening["_net"].to_numpy()), target)
    open_qty = np.round(target - opening["_net"].to_numpy(), 3)
    start = dt.datetime.combine(ctx.history_start - dt.timedelta(days=1), dt.time(5, 0), tzinfo=dt.UTC)
    opening = opening.select(
        "article_id", "warehouse_id", quantity=pl.Series(open_qty), kind=pl.lit("adjustment"),
        occurred_at=pl.lit(start).dt.cast_time_unit("us"), reference_id=pl.lit("Inventur Eröffnungsbestand"),
    ).filter(pl.col("quantity") != 0)  # fmt: skip
    moves = pl.concat([opening, moves]).with_columns(pl.col("quantity").round(3))
    moves = moves.sort("occurred_at").with_columns(
        movement_id=pl.Series(uuids(rng, moves.height)), tenant_id=pl.lit(t.tenant_id)
    )
    reserved = (
        lines.filter(pl.col("delivered_at").is_null() & ~pl.col("_cancelled"))
        .group_by("article_id", "warehouse_id", maintain_order=True)
        .agg(reserved=pl.col("quantity").sum())
    )
    levels = (
        moves.group_by("article_id", "warehouse_id", maintain_order=True)
        .agg(on_hand=pl.col("quantity").sum().round(3), updated_at=pl.col("occurred_at").max())
        .join(reserved, on=["article_id", "warehouse_id"], how="left", maintain_order="left")
        .with_columns(pl.col("reserved").fill_null(0.0), tenant_id=pl.lit(t.tenant_id))
        .sort("article_id", "warehouse_id")
    )
    return moves, levels
