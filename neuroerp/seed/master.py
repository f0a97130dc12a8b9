"""Master data of one tenant: warehouses, staff, suppliers, articles, customers and their records."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from neuroerp import reference
from neuroerp.seed import names
from neuroerp.seed.catalog import build_catalogue
from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.randomness import business_instants, iban, pick, uuids, weighted_choice

UTC_US = pl.Datetime("us", "UTC")


def _instants_between(rng: np.random.Generator, start: dt.date, end: dt.date, n: int) -> pl.Series:
    """n UTC instants at business hours on uniformly drawn days in [start, end]."""
    span = max(0, (end - start).days)
    days = np.datetime64(start) + rng.integers(0, span + 1, size=n).astype("timedelta64[D]")
    return business_instants(rng, days)


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = pick(rng, names.FIRST_NAMES, n)
    last = pick(rng, names.SURNAMES, n)
    return np.char.add(np.char.add(first.astype(str), " "), last.astype(str))


# ----------------------------------------------------------------------------- warehouses, staff


def warehouses(ctx: Context, t: TenantProfile) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "warehouses")
    n = max(2, round(len(t.warehouses) * min(1.0, ctx.scale)))
    sites = t.warehouses[:n]
    return pl.DataFrame(
        {
            "warehouse_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "name": [f"Lager {site}" for site, _, _ in sites],
            "state_code": [land for _, land, _ in sites],
            "capacity_t": [float(cap) for _, _, cap in sites],
            "updated_at": _instants_between(rng, ctx.history_start - dt.timedelta(days=400), ctx.history_start, n),
        }
    )


def staff(ctx: Context, t: TenantProfile) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "staff")
    n = ctx.count("staff", t)
    land = next(iter(t.lands))
    has_skn = rng.random(n) < 0.75
    has_skn[0] = True  # every site has someone who may sell PSM
    has_skn[-1] = False
    skn_no = [
        f"{land}-SKN-{2012 + int(rng.integers(0, 12))}-{int(rng.integers(100000, 999999))}" if s else None
        for s in has_skn
    ]
    active = rng.random(n) < 0.92
    active[:2] = True
    # Sachkunde holders attend a recognised training every three years: the next one is due ahead
    due = [ctx.as_of + dt.timedelta(days=int(d)) if s else None for d, s in zip(rng.integers(20, 1090, size=n), has_skn,
                                                                                   strict=True)]  # fmt: skip
    return pl.DataFrame(
        {
            "staff_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "name": _person_names(rng, n),
            "psm_sachkunde_no": skn_no,
            "active": active,
            "psm_training_due_on": pl.Series(due, dtype=pl.Date),
            "updated_at": _instants_between(rng, ctx.history_start, ctx.as_of - dt.timedelta(days=30), n),
        }
    )


# ------------------------------------------------------------------------------------ suppliers

TRADE_WEIGHTS = {
    "psm": 0.12, "fertilizer": 0.14, "seed": 0.12, "feed": 0.12, "grain": 0.20, "other": 0.10, "services": 0.10,
    "import_soya": 0.02, "import_palm": 0.01, "import_organic": 0.02, "import_fishmeal": 0.01,
    "import_groundnut": 0.01, "import_seed_potato": 0.01, "wood": 0.02,
}  # fmt: skip
HIGH_RISK = {"BR", "AR", "MY", "ID", "UA", "PE", "TR"}
MEDIUM_RISK = {"PL", "US", "GB"}
NON_EU = {"BR", "AR", "MY", "ID", "UA", "PE", "TR", "US", "GB"}
BBAN_FORMAT = {  # country: (pattern of the basic bank account number: d digit, a letter)
    "DE": "d" * 18, "NL": "aaaa" + "d" * 10, "PL": "d" * 24, "BE": "d" * 12, "FR": "d" * 23, "DK": "d" * 14,
    "AT": "d" * 16, "UA": "d" * 25, "BR": "d" * 23 + "aa", "TR": "d" * 22, "GB": "aaaa" + "d" * 14,
}  # fmt: skip


def _bban(rng: np.random.Generator, pattern: str) -> str:
    return "".join(
        chr(ord("A") + int(rng.integers(0, 26))) if ch == "a" else str(int(rng.integers(0, 10))) for ch in pattern
    )


def suppliers(ctx: Context, t: TenantProfile) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "suppliers")
    n = ctx.count("suppliers", t)
    trades = list(TRADE_WEIGHTS)
    chosen = trades + list(pick(rng, trades, n - len(trades), weights=list(TRADE_WEIGHTS.values())))
    rows = []
    for i, trade in enumerate(chosen):
        countries = [c for (tr, c) in names.SUPPLIER_NAMES if tr == trade]
        country = countries[0] if rng.random() < 0.7 or len(countries) == 1 else str(pick(rng, countries, 1)[0])
        pattern = str(pick(rng, names.SUPPLIER_NAMES[(trade, country)], 1)[0])
        name = pattern.format(s=pick(rng, names.SURNAMES, 1)[0], p=pick(rng, names.PLACE_WORDS, 1)[0])
        has_iban = country in BBAN_FORMAT
        risk = "high" if country in HIGH_RISK else "medium" if country in MEDIUM_RISK else "low"
        rows.append(
            {
                "supplier_no": f"L{70000 + i:05d}",
                "name": name,
                "country_code": country,
                "iban": iban(country, _bban(rng, BBAN_FORMAT[country])) if has_iban else None,
                "bic": (_bban(rng, "aaaa") + country + _bban(rng, "dd")) if has_iban or rng.random() < 0.8 else None,
                "lksg_risk_level": risk,
                "lksg_assessed_on": ctx.as_of - dt.timedelta(days=int(rng.integers(5, 330))),
                "code_of_conduct_signed": bool(risk == "high" or rng.random() < 0.7),
                "_trade": trade,
            }
        )
    df = pl.DataFrame(rows)
    deleted = np.zeros(n, dtype=bool)
    deleted[len(trades) :] = rng.random(n - len(trades)) < 0.02
    updated = _instants_between(rng, ctx.history_start, ctx.as_of - dt.timedelta(days=3), n)
    deleted_at = pl.select(pl.when(pl.Series(deleted)).then(updated + pl.duration(days=1))).to_series()
    return df.with_columns(
        supplier_id=pl.Series(uuids(rng, n)),
        tenant_id=pl.lit(t.tenant_id),
        updated_at=pl.coalesce(deleted_at, updated),  # a soft delete is a change: the watermark moves
        deleted_at=deleted_at,
    )


# ------------------------------------------------------------------------------------- articles

CATEGORY_PREFIX = {"psm": "P", "fertilizer": "D", "seed": "S", "feed": "F", "grain": "G", "biostimulant": "B",
                   "other": "Z"}  # fmt: skip


def articles(ctx: Context, t: TenantProfile, supplier_df: pl.DataFrame) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "articles")
    variants = build_catalogue(rng, ctx.count("articles", t), ctx.as_of)
    n = len(variants)
    active_suppliers = supplier_df.filter(pl.col("deleted_at").is_null())
    by_trade: dict[str, list[str]] = {}
    for sid, trade in active_suppliers.select("supplier_id", "_trade").iter_rows():
        by_trade.setdefault(trade, []).append(sid)
    sellout_months = 6
    rows = []
    for i, v in enumerate(variants):
        tpl = v.template
        low, high = tpl.price
        list_price = float(np.round(rng.uniform(low, high), 2))
        until = tpl.psm_authorized_until
        sellable_until = add_months(until, sellout_months) if until else None
        withdrawal = None
        if until and until < ctx.as_of:
            withdrawal = "expired" if rng.random() < 0.8 else "holder_request"
        pool = by_trade.get(tpl.trade) or by_trade["other"]
        rows.append(
            {
                "article_no": f"{CATEGORY_PREFIX[tpl.category]}{100000 + i:06d}",
                "name": v.name,
                "description": tpl.description,
                "category": tpl.category,
                "unit": v.pack.unit,
                "pack_size": v.pack.size,
                "supplier_id": pool[int(rng.integers(0, len(pool)))],
                "unit_cost": float(np.round(list_price * rng.uniform(0.72, 0.88), 2)),
                "list_price": list_price,
                "lead_time_days": int(rng.integers(tpl.lead_time[0], tpl.lead_time[1] + 1)),
                "min_order_qty": v.pack.size * float(pick(rng, [1, 1, 5, 10], 1)[0]),
                "is_active": not (sellable_until and sellable_until < ctx.as_of),
                "psm_reg_no": tpl.psm_reg_no,
                "psm_authorized_until": until,
                "psm_withdrawal_kind": withdrawal,
                "psm_professional_only": tpl.psm_professional_only,
                "n_total_pct": tpl.n_total_pct,
                "n_from_an_pct": tpl.n_from_an_pct,
                "precursor_annex": tpl.precursor_annex,
                "precursor_substance": tpl.precursor_substance,
                "precursor_concentration_pct": tpl.precursor_concentration_pct,
                "detonation_test_ref": (
                    f"BAM-DT-{2019 + int(rng.integers(0, 6))}-{int(rng.integers(1000, 9999))}"
                    if (tpl.n_from_an_pct or 0) >= 28
                    else None
                ),
                "is_organic": tpl.is_organic,
                "import_control": tpl.import_control,
                "eudr_commodity": tpl.eudr_commodity,
                "_trade": tpl.trade,
                "_private_ok": tpl.private_ok,
                "_vat_pct": tpl.vat_pct,
                "_sellable_until": sellable_until,
            }
        )
    schema_overrides = {
        "psm_reg_no": pl.String, "psm_authorized_until": pl.Date, "psm_withdrawal_kind": pl.String,
        "n_total_pct": pl.Float64, "n_from_an_pct": pl.Float64, "precursor_annex": pl.String,
        "precursor_substance": pl.String, "detonation_test_ref": pl.String, "import_control": pl.String,
        "precursor_concentration_pct": pl.Float64,
        "eudr_commodity": pl.String, "_sellable_until": pl.Date,
    }  # fmt: skip
    df = pl.DataFrame(rows, schema_overrides=schema_overrides, infer_schema_length=None)
    return df.with_columns(
        article_id=pl.Series(uuids(rng, n)),
        tenant_id=pl.lit(t.tenant_id),
        updated_at=_instants_between(rng, ctx.history_start, ctx.as_of - dt.timedelta(days=1), n),
        deleted_at=pl.lit(None, dtype=UTC_US),
        _keep_stock=pl.lit(False),  # a planted break keeps stock past the sell-out period
    )


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
            31, 30, 31][month - 1]  # fmt: skip
    return dt.date(year, month, min(day.day, last))


# ------------------------------------------------------------------------------------ customers

CUSTOMER_TYPES = ["farm", "contractor", "retailer", "cooperative", "industry", "private"]
TYPE_SHARES = [0.60, 0.08, 0.04, 0.02, 0.04, 0.22]
TYPE_ORDER_WEIGHT = {"farm": 1.0, "contractor": 2.2, "retailer": 3.0, "cooperative": 3.5, "industry": 2.5,
                     "private": 0.25}  # fmt: skip
# AR payment terms: (skonto %, skonto days, net days), weights
AR_TERMS = [((2.0, 10, 30), 0.45), ((None, None, 30), 0.25), ((3.0, 14, 60), 0.10), ((2.0, 14, 30), 0.10),
            ((None, None, 14), 0.10)]  # fmt: skip


def _company_name(rng: np.random.Generator, kind: str, surname: str, first: str, place: str) -> str:
    patterns = {
        "farm": ["Hof {s}", "{s} GbR", "Landwirtschaft {f} {s}", "Milchviehbetrieb {s}", "Agrar {s} KG",
                 "Gut {p}", "Ackerbau {s} GbR", "Schweinehaltung {s}"],
        "contractor": ["Lohnunternehmen {s} GmbH & Co. KG", "{s} Agrarservice GmbH", "LU {s}"],
        "retailer": ["Raiffeisen-Markt {p}", "Landhandel {s} e.K.", "Gartencenter {s} GmbH"],
        "cooperative": ["Agrargenossenschaft {p} eG", "Erzeugergemeinschaft {p} w.V."],
        "industry": ["{s} Mühle GmbH", "Mischfutterwerk {p} GmbH", "Biogas {p} GmbH & Co. KG",
                     "Brauerei {s} KG"],
    }  # fmt: skip
    pattern = str(pick(rng, patterns[kind], 1)[0])
    return pattern.format(s=surname, f=first, p=place)


def customers(ctx: Context, t: TenantProfile) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "customers")
    n = ctx.count("customers", t)
    kinds = pick(rng, CUSTOMER_TYPES, n, weights=TYPE_SHARES)
    kinds[:6] = CUSTOMER_TYPES  # every type present
    firsts = pick(rng, names.FIRST_NAMES, n)
    lasts = pick(rng, names.SURNAMES, n)

    # addresses: a German Land by the tenant's weights, then a real postal code of that Land
    postal = reference.postal_codes()
    lands = pick(rng, list(t.lands), n, weights=list(t.lands.values()))
    foreign = rng.random(n) < 0.015
    foreign[:6] = False
    postal_codes, cities, states, countries = [], [], [], []
    by_land = {land: postal.filter(pl.col("state_code") == land) for land in t.lands}
    for i in range(n):
        if foreign[i]:
            country = str(pick(rng, list(t.foreign), 1)[0])
            code, city = names.FOREIGN_PLACES[country][int(rng.integers(0, len(names.FOREIGN_PLACES[country])))]
            postal_codes.append(code), cities.append(city), states.append(None), countries.append(country)
        else:
            rows = by_land[lands[i]]
            r = rows.row(int(rng.integers(0, rows.height)), named=True)
            postal_codes.append(r["postal_code"]), cities.append(r["place"]), states.append(lands[i])
            countries.append("DE")

    names_out, vat, email, phone = [], [], [], []
    for i in range(n):
        kind, first, last, city = kinds[i], firsts[i], lasts[i], cities[i]
        name = f"{first} {last}" if kind == "private" else _company_name(rng, kind, last, first, city.split()[0])
        names_out.append(name)
        is_company = kind in ("contractor", "retailer", "cooperative", "industry") or (
            kind == "farm" and rng.random() < 0.6
        )
        vat.append(f"{countries[i]}{int(rng.integers(100000000, 999999999))}" if is_company else None)
        local = f"{first}.{last}".lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
        email.append(f"{local}@{pick(rng, names.EMAIL_DOMAINS, 1)[0]}" if rng.random() < 0.85 else None)
        phone.append(
            f"+49 {int(rng.integers(2000, 9999))} {int(rng.integers(10000, 999999))}" if rng.random() < 0.9 else None
        )

    created = _instants_between(rng, dt.date(2004, 1, 1), ctx.as_of - dt.timedelta(days=60), n)
    terms_idx = weighted_choice(rng, n, [w for _, w in AR_TERMS])
    terms = [AR_TERMS[k][0] for k in terms_idx]
    private = kinds == "private"
    skn = np.isin(kinds, ["farm", "contractor"]) & (rng.random(n) < np.where(kinds == "farm", 0.75, 0.95))
    klass = np.where(private, "private", np.where(skn, "pro_skn", "pro"))
    weight = rng.lognormal(0.0, 0.9, size=n) * np.array([TYPE_ORDER_WEIGHT[k] for k in kinds])
    return pl.DataFrame(
        {
            "customer_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "customer_no": [f"K{200000 + i:06d}" for i in range(n)],
            "name": names_out,
            "customer_type": kinds.astype(str),
            "is_professional": ~private,
            "vat_id": vat,
            "street": [f"{s} {int(rng.integers(1, 120))}" for s in pick(rng, names.STREETS, n)],
            "postal_code": postal_codes,
            "city": cities,
            "state_code": states,
            "country_code": countries,
            "email": email,
            "phone": phone,
            "created_at": created,
            "_class": klass.astype(str),
            "_weight": weight,
            "_skonto_pct": [None if private[i] else terms[i][0] for i in range(n)],
            "_skonto_days": [None if private[i] else terms[i][1] for i in range(n)],
            "_net_days": [0 if private[i] else terms[i][2] for i in range(n)],
            "_reliability": rng.beta(8, 2, size=n),
            "_precursor_base_t": np.clip(rng.lognormal(np.log(5), 0.7, size=n), 1, 60),
            "_land": lands.astype(str),
        },
        schema_overrides={"_skonto_pct": pl.Float64, "_skonto_days": pl.Int32, "state_code": pl.String},
    )


def finish_customers(ctx: Context, customer_df: pl.DataFrame, first_orders: pl.DataFrame) -> pl.DataFrame:
    """Creation before the first order; customers without orders are recent prospects.

    Keeps clean data clean: nobody is dormant past the retention period unless planted.
    """
    rng = ctx.rng(customer_df["tenant_id"][0], "customers", "finish")
    n = customer_df.height
    recent = _instants_between(rng, ctx.history_start, ctx.as_of - dt.timedelta(days=2), n)
    before_first = rng.integers(1, 90, size=n)
    df = customer_df.join(first_orders, on="customer_id", how="left", maintain_order="left").with_columns(
        created_at=pl.when(pl.col("_first_order_at").is_null())
        .then(recent)
        .otherwise(
            pl.min_horizontal("created_at", pl.col("_first_order_at") - pl.duration(days=pl.Series(before_first)))
        )
    )
    touched = rng.random(n) < 0.4
    gap = pl.Series(rng.integers(1, 700, size=n))
    df = df.with_columns(
        updated_at=pl.when(pl.Series(touched))
        .then(pl.min_horizontal(pl.col("created_at") + pl.duration(days=gap), ctx.now_expr - pl.duration(hours=3)))
        .otherwise(pl.col("created_at"))
    )
    deleted = (rng.random(n) < 0.01) & df["_first_order_at"].is_null().to_numpy()
    return df.with_columns(
        deleted_at=pl.when(pl.Series(deleted)).then(pl.col("updated_at")).otherwise(None).cast(UTC_US)
    ).drop("_first_order_at")


# ----------------------------------------------------------------------- certificates, consents


def sachkunde_certificates(ctx: Context, customer_df: pl.DataFrame, staff_df: pl.DataFrame) -> pl.DataFrame:
    """Verified PSM Sachkunde for every customer of class pro_skn (it never expires)."""
    holders = customer_df.filter(pl.col("_class") == "pro_skn")
    rng = ctx.rng(customer_df["tenant_id"][0], "certificates", "skn")
    n = holders.height
    issued_year = rng.integers(2010, ctx.history_start.year, size=n)
    issued = [dt.date(int(y), int(rng.integers(1, 13)), int(rng.integers(1, 29))) for y in issued_year]
    verified = holders["created_at"] + pl.Series(rng.integers(0, 3600 * 8, size=n) * 1_000_000).cast(pl.Duration("us"))
    return pl.DataFrame(
        {
            "certificate_id": uuids(rng, n),
            "tenant_id": holders["tenant_id"],
            "customer_id": holders["customer_id"],
            "kind": "psm_sachkunde",
            "reference_no": [
                f"{land}-SKN-{y}-{int(rng.integers(100000, 999999))}"
                for land, y in zip(holders["_land"], issued_year, strict=False)
            ],
            "issued_on": issued,
            "valid_until": pl.Series([None] * n, dtype=pl.Date),
            "verified_at": verified,
            "verified_by": pick(rng, staff_df["name"].to_list(), n),
            "updated_at": verified,
        }
    )


def other_certificates(ctx: Context, customer_df: pl.DataFrame, staff_df: pl.DataFrame) -> pl.DataFrame:
    """ID verifications and organic control certificates of some professional customers."""
    rng = ctx.rng(customer_df["tenant_id"][0], "certificates", "other")
    pros = customer_df.filter(pl.col("is_professional"))
    id_checked = pros.filter(pl.Series(rng.random(pros.height) < 0.10))
    organic = pros.filter((pl.col("customer_type") == "farm") & pl.Series(rng.random(pros.height) < 0.06))
    frames = []
    for kind, holders in (("id_verification", id_checked), ("organic_control", organic)):
        n = holders.height
        issued = [ctx.as_of - dt.timedelta(days=int(d)) for d in rng.integers(20, 330, size=n)]
        verified = business_instants(rng, np.array(issued, dtype="datetime64[D]"))
        frames.append(
            pl.DataFrame(
                {
                    "certificate_id": uuids(rng, n),
                    "tenant_id": holders["tenant_id"],
                    "customer_id": holders["customer_id"],
                    "kind": kind,
                    "reference_no": [
                        (
                            f"PA-{int(rng.integers(10**8, 10**9))}"
                            if kind == "id_verification"
                            else f"DE-ÖKO-0{int(rng.integers(1, 70)):02d}-{int(rng.integers(10000, 99999))}"
                        )
                        for _ in range(n)
                    ],  # fmt: skip
                    "issued_on": issued,
                    "valid_until": [d + dt.timedelta(days=365 if kind == "organic_control" else 3650) for d in issued],
                    "verified_at": verified,
                    "verified_by": pick(rng, staff_df["name"].to_list(), n),
                    "updated_at": verified,
                }
            )
        )
    return pl.concat(frames)


def consents(ctx: Context, customer_df: pl.DataFrame) -> pl.DataFrame:
    rng = ctx.rng(customer_df["tenant_id"][0], "consents")
    frames = []
    for purpose, column, share in (
        ("marketing_email", "email", 0.55),
        ("marketing_phone", "phone", 0.2),
        ("data_sharing", "customer_id", 0.08),
    ):
        holders = customer_df.filter(pl.col(column).is_not_null() & pl.col("deleted_at").is_null())
        holders = holders.filter(pl.Series(rng.random(holders.height) < share))
        n = holders.height
        granted = holders["created_at"] + pl.Series(rng.integers(0, 86400 * 30, size=n) * 1_000_000).cast(
            pl.Duration("us")
        )
        granted = pl.select(pl.min_horizontal(granted, ctx.now_expr - pl.duration(hours=1))).to_series()
        revoke = rng.random(n) < 0.12
        # a revocation that would fall after the clock has not happened yet: the consent is still
        # in force (clamping it to the clock instead made consents granted in the last day revoked
        # before they were granted)
        revoke_at = [g + dt.timedelta(days=int(rng.integers(30, 600))) for g in granted.to_list()]
        revoked_at = pl.Series(
            [r_at if r and r_at <= ctx.now - dt.timedelta(hours=1) else None
             for r_at, r in zip(revoke_at, revoke, strict=True)],
            dtype=UTC_US,
        )  # fmt: skip
        evidence = [
            f"Double-Opt-In bestätigt am {g:%d.%m.%Y}" if purpose == "marketing_email" else "Unterschrift Kundenkarte"
            for g in granted.to_list()
        ]
        frames.append(
            pl.DataFrame(
                {
                    "consent_id": uuids(rng, n),
                    "tenant_id": holders["tenant_id"],
                    "customer_id": holders["customer_id"],
                    "purpose": purpose,
                    "granted_at": granted,
                    "revoked_at": revoked_at,
                    "evidence": evidence,
                }
            ).with_columns(updated_at=pl.coalesce("revoked_at", "granted_at"))
        )
    return pl.concat(frames)


def gdpr_requests(ctx: Context, t: TenantProfile, customer_df: pl.DataFrame) -> pl.DataFrame:
    rng = ctx.rng(t.tenant_id, "gdpr")
    n = ctx.count("gdpr_requests", t)
    who = customer_df.filter(pl.col("deleted_at").is_null()).sample(
        n, with_replacement=True, seed=int(rng.integers(1 << 31))
    )
    kinds = pick(rng, ["access", "erasure", "rectification", "restriction"], n, weights=[0.5, 0.25, 0.2, 0.05])
    received = _instants_between(rng, ctx.history_start, ctx.as_of - dt.timedelta(days=1), n)
    age_days = pl.select(ctx.now_expr - received).to_series().dt.total_days().to_numpy()
    legal_hold = (kinds == "erasure") & (rng.random(n) < 0.3)
    takes = rng.integers(1, 26, size=n)
    # every request is answered within the month; an erasure a retention duty blocks is answered by
    # restricting the data and refusing the erasure (rejected), not left open
    completed = takes < age_days
    status = np.where(completed, np.where(legal_hold | (rng.random(n) >= 0.92), "rejected", "completed"), "open")
    completed_at = [
        r + dt.timedelta(days=int(d), hours=2) if c else None
        for r, d, c in zip(received.to_list(), takes, completed, strict=False)
    ]
    return pl.DataFrame(
        {
            "request_id": uuids(rng, n),
            "tenant_id": t.tenant_id,
            "customer_id": who["customer_id"],
            "kind": kinds.astype(str),
            "received_at": received,
            "completed_at": pl.Series(completed_at, dtype=UTC_US),
            "status": status.astype(str),
            "legal_hold": legal_hold,
        }
    ).with_columns(updated_at=pl.coalesce("completed_at", "received_at"))
