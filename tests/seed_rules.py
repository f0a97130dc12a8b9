"""Independent statements of each compliance rule over contract tables, to test the manifest.

Written in polars on purpose: the compliance engine states the same rules in SQL, and the two
must agree on the demo data (where they disagree, one of them is wrong). Every function takes the
contract tables, the judged day and the settings it reads (the defaults of
`dbt_like_sql/compliance/settings.sql`) and returns the entity ids it finds.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from functools import cache

import polars as pl
from dateutil.easter import easter

from neuroerp import reference

Tables = Callable[[str], pl.DataFrame]
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}  # fmt: skip
DEFAULTS = {
    "psm_sellout_months": 6, "psm_sellout_warning_days": 90, "an_restricted_n_pct": 16.0, "precursor_report_hours": 24,
    "precursor_verification_months": 12, "precursor_quantity_factor": 2.0, "precursor_loss_significant_kg": 100.0,
    "manure_report_months": 1, "manure_reportable_tonnes": 200, "manure_report_states": "NI",
    "lksg_review_months_high": 12, "lksg_review_months_medium": 24, "eudr_application_date": dt.date(2026, 12, 30),
    "gdpr_answer_months": 1, "retention_years_vouchers": 8, "retention_years_letters": 6,
    "retention_years_psm_records": 5, "gobd_audit_gapless": False, "gobd_gap_grace_minutes": 15,
    "agrifood_max_payment_days": 60, "absent_columns": frozenset(),
}  # fmt: skip


def _s(settings: dict) -> dict:
    return {**DEFAULTS, **settings}


def typed(overrides: dict[str, str]) -> dict:
    """Settings given as run values (text, as `--rule NAME=VALUE` and the manifest's found_with give
    them) in the types these statements use."""
    out = {}
    for name, text in overrides.items():
        default = DEFAULTS[name]
        if isinstance(default, bool):
            out[name] = text.strip().lower() in ("true", "1", "yes")
        elif isinstance(default, dt.date):
            out[name] = dt.date.fromisoformat(text)
        else:
            out[name] = type(default)(text)
    return out


def _local_day(col: str) -> pl.Expr:
    return pl.col(col).dt.convert_time_zone("Europe/Berlin").dt.date()


def _evaluated_at(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _months(col: str | pl.Expr, months: int) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.dt.offset_by(f"{months}mo")


def _kg(quantity: str = "quantity") -> pl.Expr:
    return pl.col(quantity) * pl.when(pl.col("unit") == "t").then(1000).otherwise(1)


def _active_lines(t: Tables) -> pl.DataFrame:
    orders = t("sales_orders").filter(pl.col("status") != "cancelled")
    return (
        t("sales_order_lines")
        .join(orders.select("order_id", "customer_id", "ordered_at", "channel", "sold_by"), on="order_id")
        .with_columns(order_day=_local_day("ordered_at"))
    )


def _stock(t: Tables) -> pl.DataFrame:
    return t("stock_levels").group_by("article_id").agg(on_hand=pl.col("on_hand").sum())


# ------------------------------------------------------------------------------------------ PSM


def _psm_authorisations(t: Tables, s: dict) -> pl.DataFrame:
    register = reference.bvl_products().group_by("kennr").agg(register_until=pl.col("authorised_until").max())
    arts = t("articles").filter(pl.col("category") == "psm")
    gp = pl.col("psm_reg_no").str.extract(r"^GP ?([0-9A-Z]{6}-[0-9]{2})/[0-9]{2,3}$", 1)
    arts = arts.with_columns(product_no=pl.coalesce(gp, "psm_reg_no")).join(
        register, left_on="product_no", right_on="kennr", how="left"
    )
    risk = pl.col("psm_withdrawal_kind") == "authority_risk"
    until = (
        pl.when(risk & pl.col("psm_authorized_until").is_not_null())
        .then(pl.min_horizontal("psm_authorized_until", pl.coalesce("register_until", "psm_authorized_until")))
        .otherwise(pl.coalesce("register_until", "psm_authorized_until"))
    )
    return arts.with_columns(until=until).with_columns(
        sellable=pl.when(risk).then(pl.col("until")).otherwise(_months("until", s["psm_sellout_months"]))
    )


def psm_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    pro = t("articles").filter(pl.col("psm_professional_only") & (pl.col("category") == "psm"))
    lines = _active_lines(t).join(pro.select("article_id"), on="article_id")
    skn = t("customer_certificates").filter((pl.col("kind") == "psm_sachkunde") & pl.col("verified_at").is_not_null())
    covered = lines.join(skn.select("customer_id", "issued_on", "valid_until", "verified_at"), on="customer_id").filter(
        (pl.col("issued_on") <= pl.col("order_day"))
        & (_local_day("verified_at") <= pl.col("order_day"))
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col("order_day")))
    )
    return set(lines["line_id"]) - set(covered["line_id"])


def psm_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    auth = _psm_authorisations(t, _s(settings)).select("article_id", "sellable")
    lines = _active_lines(t).join(auth, on="article_id")
    return set(lines.filter(pl.col("order_day") > pl.col("sellable"))["line_id"])


def psm_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    auth = _psm_authorisations(t, _s(settings)).filter(pl.col("deleted_at").is_null())
    bad = auth.filter(
        pl.col("psm_reg_no").is_null()
        | ~pl.col("product_no").str.contains(r"^[0-9A-Z]{6}-[0-9]{2}$")
        | (
            pl.col("register_until").is_null()
            & (pl.col("psm_authorized_until").is_null() | (pl.col("psm_authorized_until") >= as_of))
        )
    )
    return set(bad["article_id"])


def psm_004(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    auth = _psm_authorisations(t, s).filter(pl.col("deleted_at").is_null())
    stocked = auth.join(_stock(t).filter(pl.col("on_hand") > 0), on="article_id")
    horizon = as_of + dt.timedelta(days=s["psm_sellout_warning_days"])
    return set(stocked.filter(pl.col("sellable").is_between(as_of, horizon))["article_id"])


def psm_005(t: Tables, as_of: dt.date, **settings) -> set[str]:
    psm = t("articles").filter(pl.col("category") == "psm").select("article_id")
    qualified = t("staff").filter(pl.col("psm_sachkunde_no").is_not_null())["staff_id"]
    orders = _active_lines(t).join(psm, on="article_id").unique("order_id")
    return set(orders.filter(pl.col("sold_by").is_null() | ~pl.col("sold_by").is_in(qualified.implode()))["order_id"])


def psm_007(t: Tables, as_of: dt.date, **settings) -> set[str]:
    auth = _psm_authorisations(t, _s(settings)).filter(pl.col("deleted_at").is_null())
    risk_earlier = (pl.col("psm_withdrawal_kind") == "authority_risk") & (
        pl.col("psm_authorized_until") < pl.col("register_until")
    )
    differs = pl.col("psm_authorized_until").is_null() | (pl.col("psm_authorized_until") != pl.col("register_until"))
    return set(
        auth.filter(pl.col("register_until").is_not_null() & differs & ~risk_earlier.fill_null(False))["article_id"]
    )


def psm_008(t: Tables, as_of: dt.date, **settings) -> set[str]:
    auth = _psm_authorisations(t, _s(settings)).filter(pl.col("deleted_at").is_null())
    held = auth.join(_stock(t), on="article_id", how="left").filter(
        (pl.col("sellable") < as_of) & ((pl.col("on_hand").fill_null(0) > 0) | pl.col("is_active"))
    )
    return set(held["article_id"])


def psm_009(t: Tables, as_of: dt.date, **settings) -> set[str]:
    auth = _psm_authorisations(t, _s(settings)).select("article_id", "until")
    pos = t("purchase_orders").filter(pl.col("status") != "cancelled").select("po_id")
    lines = t("purchase_order_lines").join(pos, on="po_id").join(auth, on="article_id")
    late = lines.filter(pl.col("received_at").is_not_null() & (_local_day("received_at") > pl.col("until")))
    return set(late["po_line_id"])


def psm_010(t: Tables, as_of: dt.date, **settings) -> set[str]:
    staff = t("staff").filter(
        pl.col("active") & pl.col("psm_sachkunde_no").is_not_null() & (pl.col("psm_training_due_on") < as_of)
    )
    return set(staff["staff_id"])


# ----------------------------------------------------------------------------------- precursors


def _precursor_articles(t: Tables, s: dict) -> pl.DataFrame:
    """Every article with its annex by content, whether it is restricted, reportable, and a content gap."""
    annex = reference.precursors().select(pl.col("substance").alias("precursor_substance"), "annex", "limit_value")
    arts = t("articles").join(annex, on="precursor_substance", how="left")
    an = pl.col("precursor_substance") == "Ammonium nitrate"
    other_i = (pl.col("annex") == "I") & ~an
    by_content = (
        pl.when(pl.col("n_from_an_pct") >= s["an_restricted_n_pct"]).then(pl.lit("I"))
        .when(other_i & (pl.col("precursor_concentration_pct") > pl.col("limit_value"))).then(pl.lit("I"))
        .when(pl.col("annex") == "II").then(pl.lit("II"))
    )  # fmt: skip
    below = (
        pl.when(an | pl.col("precursor_substance").is_null())
        .then(pl.col("n_from_an_pct") < s["an_restricted_n_pct"])
        .when(pl.col("annex") == "I")
        .then(pl.col("precursor_concentration_pct") <= pl.col("limit_value"))
        .otherwise(False)
        .fill_null(False)
    )
    nitrogen = (pl.col("category") == "fertilizer") & (pl.col("n_total_pct") > 0)
    gap = (pl.col("n_from_an_pct").is_null() & (an | nitrogen.fill_null(False))) | (
        other_i & pl.col("precursor_concentration_pct").is_null()
        & pl.lit(("articles", "precursor_concentration_pct") not in s["absent_columns"])
    )  # fmt: skip
    return arts.with_columns(by_content=by_content, _below=below, content_gap=gap.fill_null(False)).with_columns(
        restricted=(pl.col("by_content") == "I").fill_null(False)
        | ((pl.col("precursor_annex") == "I").fill_null(False) & ~pl.col("_below")),
        reportable=pl.col("by_content").is_not_null() | pl.col("precursor_annex").is_not_null(),
    )


def exp_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    restricted = _precursor_articles(t, _s(settings)).filter(pl.col("restricted")).select("article_id")
    private = t("customers").filter(~pl.col("is_professional")).select("customer_id")
    lines = _active_lines(t).join(restricted, on="article_id").join(private, on="customer_id")
    return set(lines["line_id"])


def exp_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    restricted = _precursor_articles(t, s).filter(pl.col("restricted")).select("article_id")
    pro = t("customers").filter(pl.col("is_professional")).select("customer_id")
    lines = _active_lines(t).join(restricted, on="article_id").join(pro, on="customer_id")
    statements = t("customer_certificates").filter(
        (pl.col("kind") == "precursor_customer_statement") & pl.col("verified_at").is_not_null()
    )
    covered = lines.join(statements.select("customer_id", "issued_on", "verified_at"), on="customer_id").filter(
        (pl.col("issued_on") <= pl.col("order_day"))
        & (_local_day("verified_at") <= pl.col("order_day"))
        & (pl.col("issued_on") > _months("order_day", -s["precursor_verification_months"]))
    )
    return set(lines["line_id"]) - set(covered["line_id"])


def exp_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    arts = _precursor_articles(t, s).filter(pl.col("reportable") & pl.col("precursor_substance").is_not_null())
    kinds = t("customers").select("customer_id", "customer_type")
    lines = (
        _active_lines(t)
        .join(arts.select("article_id", "precursor_substance", "unit"), on="article_id")
        .join(kinds, on="customer_id", how="left")
        .with_columns(kg=_kg())
    )
    peers = lines.group_by("tenant_id", "precursor_substance", "customer_type").agg(
        p90=pl.col("kg").quantile(0.9, interpolation="linear")
    )
    history = lines.select("customer_id", "precursor_substance", h_at="ordered_at", h_kg="kg")
    own = (
        lines.select("line_id", "customer_id", "precursor_substance", "ordered_at")
        .join(history, on=["customer_id", "precursor_substance"])
        .filter((pl.col("h_at") < pl.col("ordered_at")) & (pl.col("h_at") >= pl.col("ordered_at") - dt.timedelta(days=365)))
        .group_by("line_id")
        .agg(own=pl.col("h_kg").max())
    )  # fmt: skip
    judged = lines.join(peers, on=["tenant_id", "precursor_substance", "customer_type"]).join(
        own, on="line_id", how="left"
    )
    baseline = pl.max_horizontal(pl.col("own").fill_null(0), "p90")
    return set(judged.filter(pl.col("kg") > s["precursor_quantity_factor"] * baseline)["line_id"])


def exp_004(t: Tables, as_of: dt.date, **settings) -> set[str]:
    window = dt.timedelta(hours=_s(settings)["precursor_report_hours"])
    cases = t("suspicious_transactions").filter(
        (pl.col("reported_at").is_null() & (pl.col("flagged_at") < _evaluated_at(as_of) - window))
        | (pl.col("reported_at") - pl.col("flagged_at") > window)
    )
    return set(cases["case_id"])


def exp_005(t: Tables, as_of: dt.date, **settings) -> set[str]:
    return set(
        t("articles").filter((pl.col("n_from_an_pct") >= 28) & pl.col("detonation_test_ref").is_null())["article_id"]
    )


def exp_006(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    reportable = _precursor_articles(t, s).filter(pl.col("reportable")).select("article_id", "unit")
    cases = t("suspicious_transactions").filter(pl.col("kind").is_in(["loss", "theft"]))["case_id"]
    moves = (
        t("stock_movements")
        .join(reportable, on="article_id")
        .filter(
            pl.col("kind").is_in(["loss", "adjustment"])
            & (pl.col("quantity") < 0)
            & (-_kg() >= s["precursor_loss_significant_kg"])
            & ~pl.col("reference_id").fill_null("").is_in(cases.implode())
        )
    )
    return set(moves["movement_id"])


def exp_007(t: Tables, as_of: dt.date, **settings) -> set[str]:
    arts = _precursor_articles(t, _s(settings)).filter(pl.col("deleted_at").is_null())
    wrong = pl.col("by_content").is_not_null() & (
        pl.col("precursor_annex").is_null() | (pl.col("precursor_annex") != pl.col("by_content"))
    )
    return set(arts.filter(pl.col("content_gap") | wrong)["article_id"])


# --------------------------------------------------------------------------------------- manure


def _manure(t: Tables, s: dict) -> pl.DataFrame:
    return t("manure_deliveries").with_columns(due=_months("delivered_on", s["manure_report_months"]))


def enni_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    md = _manure(t, s).with_columns(year=pl.col("delivered_on").dt.year())
    yearly = md.group_by("tenant_id", "year").agg(total=pl.col("tonnes").sum())
    states = [x.strip() for x in s["manure_report_states"].split(",")]
    judged = md.join(yearly, on=["tenant_id", "year"]).filter(
        (pl.col("total") > s["manure_reportable_tonnes"]) & pl.col("state_code").is_in(states)
    )
    late = judged.filter(
        (pl.col("report_ref").is_null() & pl.col("reported_on").is_null() & (pl.col("due") < as_of))
        | (pl.col("reported_on") > pl.col("due"))
    )
    return set(late["delivery_id"])


def enni_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    animal = ("manure_deliveries", "n_animal_kg_per_t") not in s["absent_columns"]
    md = _manure(t, s).filter(
        (pl.col("due") < as_of)
        & (
            pl.col("n_kg_per_t").is_null()
            | pl.col("p2o5_kg_per_t").is_null()
            | (pl.lit(animal) & pl.col("n_animal_kg_per_t").is_null())
        )
    )
    return set(md["delivery_id"])


def enni_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    md = t("manure_deliveries").with_columns(year=pl.col("delivered_on").dt.year())
    yearly = md.group_by("tenant_id", "year").agg(total=pl.col("tonnes").sum())
    hits = yearly.filter(pl.col("total") > _s(settings)["manure_reportable_tonnes"])
    return {f"{tenant}/{year}" for tenant, year in hits.select("tenant_id", "year").iter_rows()}


# --------------------------------------------------------------------------------------- TRACES


def _import_lines(t: Tables) -> pl.DataFrame:
    pos = t("purchase_orders").filter(pl.col("status") != "cancelled").select("po_id", "supplier_id", "expected_on")
    return (
        t("purchase_order_lines")
        .join(pos, on="po_id")
        .filter(~pl.coalesce("dispatch_country_code", "origin_country_code").is_in(list(EU)))
    )


def traces_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    arts = t("articles")
    needs = pl.concat(
        [
            arts.filter(pl.col("is_organic")).select("article_id", needed=pl.lit("COI")),
            arts.filter(pl.col("import_control").is_not_null()).select("article_id", needed="import_control"),
        ]
    )
    lines = _import_lines(t).filter(pl.col("received_at").is_not_null() | (pl.col("expected_on") <= as_of))
    lines = lines.join(needs, on="article_id")
    docs = t("import_documents").select("po_id", needed="kind", has=pl.lit(True)).unique()
    return set(lines.join(docs, on=["po_id", "needed"], how="left").filter(pl.col("has").is_null())["po_line_id"])


@cache
def _workdays(first_year: int, last_year: int) -> list[dt.date]:
    """Monday to Friday without Germany's nationwide public holidays, in order."""
    days = []
    for year in range(first_year, last_year + 1):
        e = easter(year)
        holidays = {dt.date(year, 1, 1), e - dt.timedelta(days=2), e + dt.timedelta(days=1), dt.date(year, 5, 1),
                    e + dt.timedelta(days=39), e + dt.timedelta(days=50), dt.date(year, 10, 3),
                    dt.date(year, 12, 25), dt.date(year, 12, 26)}  # fmt: skip
        day = dt.date(year, 1, 1)
        while day.year == year:
            if day.weekday() < 5 and day not in holidays:
                days.append(day)
            day += dt.timedelta(days=1)
    return days


def traces_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    docs = t("import_documents").filter(pl.col("kind") != "COI")
    if docs.height == 0:
        return set()
    local = docs.with_columns(arrival_local=pl.col("arrival_at").dt.convert_time_zone("Europe/Berlin"))
    years = local["arrival_local"].dt.year()
    workdays = pl.DataFrame({"workday": _workdays(int(years.min()) - 1, int(years.max()))}).sort("workday")
    due = (
        local.with_columns(day=pl.col("arrival_local").dt.date() - dt.timedelta(days=1))
        .sort("day")
        .join_asof(workdays, left_on="day", right_on="workday", strategy="backward")
        .with_columns(  # the arrival's wall-clock time on that workday (not the hours elapsed since
            # midnight, which the day clocks go back counts one more of)
            due_by=pl.col("workday").dt.combine(pl.col("arrival_local").dt.time())
            .dt.replace_time_zone("Europe/Berlin").dt.convert_time_zone("UTC")
        )
    )  # fmt: skip
    late = due.filter(
        (pl.col("submitted_at").is_null() & (pl.col("due_by") < _evaluated_at(as_of)))
        | (pl.col("submitted_at") > pl.col("due_by"))
    )
    return set(late["document_id"])


def traces_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    docs = t("import_documents")
    coi = docs.filter(pl.col("kind") == "COI")
    raised = coi.select("po_id").unique()
    endorsed = coi.filter(pl.col("status") == "endorsed").select("po_id").unique()
    arrival = docs.group_by("po_id").agg(doc_arrival=pl.col("arrival_at").min())
    organic = t("articles").filter(pl.col("is_organic")).select("article_id")
    lots = (
        _import_lines(t).join(organic, on="article_id").join(raised, on="po_id").join(endorsed, on="po_id", how="anti")
        .join(arrival, on="po_id", how="left")
        .with_columns(arrival_at=pl.coalesce("doc_arrival", "received_at", pl.col("expected_on").cast(pl.Datetime("us"))
                                             .dt.replace_time_zone("Europe/Berlin").dt.convert_time_zone("UTC")))
        .select("article_id", lot="batch_no", arrival="arrival_at")
    )  # fmt: skip
    sold = (
        _active_lines(t)
        .join(lots, on="article_id")
        .filter(
            (pl.col("ordered_at") > pl.col("arrival"))
            & (pl.col("lot").is_null() | (pl.col("batch_no") == pl.col("lot")))
        )
    )
    return set(sold["line_id"])


# ------------------------------------------------------------------------------------ LkSG/EUDR


def lksg_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    sup = t("suppliers").filter(pl.col("deleted_at").is_null())
    level, assessed = pl.col("lksg_risk_level"), pl.col("lksg_assessed_on")
    out_of_date = ((level == "high") & (assessed < _months(pl.lit(as_of), -s["lksg_review_months_high"]))) | (
        (level == "medium") & (assessed < _months(pl.lit(as_of), -s["lksg_review_months_medium"]))
    )
    return set(sup.filter(assessed.is_null() | level.is_null() | out_of_date.fill_null(False))["supplier_id"])


def lksg_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    sup = t("suppliers").filter(pl.col("deleted_at").is_null())
    return set(sup.filter((pl.col("lksg_risk_level") == "high") & ~pl.col("code_of_conduct_signed"))["supplier_id"])


def lksg_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    eudr = t("articles").filter(pl.col("eudr_commodity").is_not_null()).select("article_id")
    lines = (
        _import_lines(t)
        .join(eudr, on="article_id")
        .filter(
            pl.col("dds_reference").is_null()
            & (pl.coalesce(_local_day("received_at"), "expected_on") >= s["eudr_application_date"])
        )
    )
    return set(lines["po_line_id"])


# ---------------------------------------------------------------------------------------- GDPR


def gdpr_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    months = _s(settings)["gdpr_answer_months"]
    req = t("gdpr_requests").filter(
        (pl.col("status") == "open") & (_months("received_at", months) < _evaluated_at(as_of))
    )
    return set(req["request_id"])


def gdpr_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    cust = t("customers").with_columns(created_year=_local_day("created_at").dt.year())
    invoices = (
        t("invoices").filter(pl.col("kind") == "AR")
        .group_by(customer_id="partner_id").agg(invoice_year=pl.col("invoice_date").max().dt.year())
    )  # fmt: skip
    orders = (  # orders of every status are business letters
        t("sales_orders").with_columns(day=_local_day("ordered_at"))
        .group_by("customer_id").agg(order_year=pl.col("day").max().dt.year())
    )  # fmt: skip
    psm = t("articles").filter(pl.col("category") == "psm").select("article_id")
    psm_sales = (
        t("sales_order_lines").join(psm, on="article_id")
        .join(t("sales_orders").select("order_id", "customer_id", "ordered_at"), on="order_id")
        .group_by("customer_id").agg(psm_year=_local_day("ordered_at").max().dt.year())
    )  # fmt: skip
    kept = (
        cust.join(invoices, on="customer_id", how="left")
        .join(orders, on="customer_id", how="left")
        .join(psm_sales, on="customer_id", how="left")
        .with_columns(
            until_year=pl.max_horizontal(
                pl.col("created_year") + s["retention_years_letters"],
                pl.col("invoice_year") + s["retention_years_vouchers"],
                pl.col("order_year") + s["retention_years_letters"],
                pl.col("psm_year") + s["retention_years_psm_records"],
            )
        )
    )
    held = t("gdpr_requests").filter(pl.col("legal_hold"))["customer_id"]
    # retained until the end of until_year: a finding from the first day after it
    expired = kept.filter((pl.col("until_year") < as_of.year) & ~pl.col("customer_id").is_in(held.implode()))
    return set(expired["customer_id"])


def gdpr_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    audit = t("audit_log").filter((pl.col("action") == "export") & (pl.col("entity_type") == "customer"))
    sent = audit.select(
        customer_id="entity_id",
        sent_at="occurred_at",
        purpose=pl.col("after").str.json_path_match("$.purpose"),
    ).filter(pl.col("purpose").is_in(["marketing_email", "marketing_phone"]))
    consents = t("consents").select("customer_id", "purpose", "granted_at", "revoked_at")
    pair = sent.join(consents, on=["customer_id", "purpose"], how="left")
    in_force = (pl.col("granted_at") <= pl.col("sent_at")) & (
        pl.col("revoked_at").is_null() | (pl.col("revoked_at") > pl.col("sent_at"))
    )
    objected = pl.col("revoked_at") <= pl.col("sent_at")
    flags = pair.group_by("customer_id", "purpose", "sent_at").agg(
        consented=in_force.fill_null(False).any(), objected=objected.fill_null(False).any()
    )
    orders = (
        t("sales_orders")
        .filter(pl.col("status") != "cancelled")
        .group_by("customer_id")
        .agg(first_order=pl.col("ordered_at").min())
    )
    business = t("customers").select("customer_id", "is_professional")
    judged = (
        flags.join(orders, on="customer_id", how="left")
        .join(business, on="customer_id", how="left")
        .with_columns(
            existing=(pl.col("first_order") < pl.col("sent_at")).fill_null(False),
            is_business=pl.col("is_professional").fill_null(False),
        )
    )
    bad = judged.filter(
        ~pl.col("consented")
        & (
            pl.col("objected")
            | ((pl.col("purpose") == "marketing_email") & ~pl.col("existing"))
            | ((pl.col("purpose") == "marketing_phone") & ~pl.col("is_business"))
        )
    )
    return set(bad["customer_id"])


# ---------------------------------------------------------------------------------------- GoBD

PROTECTED = ("invoice_no", "invoice_date", "partner_id", "net_amount", "tax_amount", "gross_amount")


def gobd_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    images = (
        t("audit_log")
        .filter(
            (pl.col("entity_type") == "invoice")
            & pl.col("action").is_in(["create", "update"])
            & pl.col("after").is_not_null()
        )
        .sort("seq")
    )
    latest: dict[tuple[str, str], str] = {}  # the last image of each protected field wins
    for invoice_id, after in images.select("entity_id", "after").iter_rows():
        for field, value in json.loads(after).items():
            if field in PROTECTED and value is not None:
                latest[(invoice_id, field)] = str(value)
    posted = t("invoices").filter(pl.col("posted_at").is_not_null())
    current = {row["invoice_id"]: row for row in posted.iter_rows(named=True)}
    found = set()
    for (invoice_id, field), audited in latest.items():
        row = current.get(invoice_id)
        if row is None:
            continue
        value = row[field]
        if field.endswith("_amount"):
            differs = Decimal(audited).quantize(Decimal("0.01")) != Decimal(str(value)).quantize(Decimal("0.01"))
        elif field == "invoice_date":
            differs = dt.date.fromisoformat(audited[:10]) != value
        else:
            differs = audited != value
        if differs:
            found.add(invoice_id)
    return found


def gobd_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    s = _s(settings)
    if not s["gobd_audit_gapless"]:
        return set()
    log = t("audit_log")
    settled = log.filter(
        pl.col("occurred_at") < _evaluated_at(as_of) - dt.timedelta(minutes=s["gobd_gap_grace_minutes"])
    )["seq"].max()
    seqs = sorted(log["seq"].to_list())  # runs of missing numbers, as ranges (never one per number)
    gaps = [(a + 1, b - 1) for a, b in itertools.pairwise(seqs) if b - a > 1 and b <= settled]
    return {str(f) if f == t else f"{f}..{t}" for f, t in gaps}


# ------------------------------------------------------------------------------------- finance


def fin_001(t: Tables, as_of: dt.date, **settings) -> set[str]:
    inv = t("invoices").select("invoice_id", "invoice_date", "skonto_pct", "skonto_days")
    pays = t("payments").filter(pl.col("skonto_amount") > 0).join(inv, on="invoice_id")
    no_terms = pays.filter(
        pl.col("skonto_days").is_null() | pl.col("skonto_pct").is_null() | (pl.col("skonto_pct") <= 0)
    )
    with_terms = pays.filter(~pl.col("payment_id").is_in(no_terms["payment_id"].implode())).with_columns(
        until=pl.col("invoice_date") + pl.duration(days=pl.col("skonto_days"))
    )
    if with_terms.height:
        years = with_terms["until"].dt.year()
        workdays = pl.DataFrame({"deadline": _workdays(int(years.min()), int(years.max()) + 1)}).sort("deadline")
        with_terms = with_terms.sort("until").join_asof(workdays, left_on="until", right_on="deadline",
                                                        strategy="forward")  # fmt: skip
        with_terms = with_terms.filter(pl.col("paid_on") > pl.col("deadline"))
    return set(no_terms["payment_id"]) | set(with_terms["payment_id"])


def _iban_valid(iban: str) -> bool:
    compact = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", compact):
        return False
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def fin_002(t: Tables, as_of: dt.date, **settings) -> set[str]:
    sup = t("suppliers").filter(pl.col("deleted_at").is_null() & pl.col("iban").is_not_null())
    return {
        sid for sid, iban in sup.select("supplier_id", "iban").iter_rows() if iban.strip() and not _iban_valid(iban)
    }


def fin_003(t: Tables, as_of: dt.date, **settings) -> set[str]:
    pos = t("purchase_orders").filter(pl.col("status") != "cancelled").select("po_id", "supplier_id")
    arts = t("articles").select("article_id", "category")
    lines = t("purchase_order_lines").join(pos, on="po_id").join(arts, on="article_id")
    agrifood = (
        lines.group_by("supplier_id")
        .agg(share=pl.col("category").is_in(["grain", "feed", "seed"]).mean())
        .filter(pl.col("share") > 0.5)["supplier_id"]
    )
    inv = t("invoices").filter(
        (pl.col("kind") == "AP") & (pl.col("status") != "cancelled")
        & (pl.col("net_days") > _s(settings)["agrifood_max_payment_days"])
        & pl.col("partner_id").is_in(agrifood.implode())
    )  # fmt: skip
    return set(inv["invoice_id"])


LEGAL_FORMS = r"\b(gmbh|ag|kg|eg|ek|ohg|gbr|se|ug|co|oao|ojsc|pjsc|jsc|zao|ooo|aat|ltd|llc|inc|sa|bv|nv)\b"


def _name_key(name: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    words = re.sub(LEGAL_FORMS, " ", re.sub(r"[^a-z0-9]+", " ", folded))
    return re.sub(r"\s+", " ", words).strip()


@cache
def _listed_keys() -> frozenset[str]:
    path = reference.DATA_DIR / "sanctions_sample.csv"
    with path.open(encoding="utf-8") as handle:
        return frozenset(_name_key(row["NameAlias_WholeName"]) for row in csv.DictReader(handle, delimiter=";"))


def fin_004(t: Tables, as_of: dt.date, **settings) -> set[str]:
    partners = pl.concat(
        [
            t("customers").filter(pl.col("deleted_at").is_null()).select(partner_id="customer_id", name="name"),
            t("suppliers").filter(pl.col("deleted_at").is_null()).select(partner_id="supplier_id", name="name"),
        ]
    )
    keys = [k for k in _listed_keys() if k]
    hits = set()
    for pid, name in partners.iter_rows():
        key = _name_key(name)
        if any(key == k or (" " in k and f" {k} " in f" {key} ") for k in keys):
            hits.add(pid)
    return hits


RULES: dict[str, Callable[..., set[str]]] = {
    "PSM-001": psm_001, "PSM-002": psm_002, "PSM-003": psm_003, "PSM-004": psm_004, "PSM-005": psm_005,
    "PSM-007": psm_007, "PSM-008": psm_008, "PSM-009": psm_009, "PSM-010": psm_010,
    "EXP-001": exp_001, "EXP-002": exp_002, "EXP-003": exp_003, "EXP-004": exp_004, "EXP-005": exp_005,
    "EXP-006": exp_006, "EXP-007": exp_007, "ENNI-001": enni_001, "ENNI-002": enni_002, "ENNI-003": enni_003,
    "TRACES-001": traces_001, "TRACES-002": traces_002, "TRACES-003": traces_003, "LKSG-001": lksg_001,
    "LKSG-002": lksg_002, "LKSG-003": lksg_003, "GDPR-001": gdpr_001, "GDPR-002": gdpr_002, "GDPR-003": gdpr_003,
    "GOBD-001": gobd_001, "GOBD-002": gobd_002, "FIN-001": fin_001, "FIN-002": fin_002, "FIN-003": fin_003,
    "FIN-004": fin_004,
}  # fmt: skip

# Rules whose violations in the demo data are all planted (the clean data never breaks them).
# The others also fire on genuine data: real BVL authorisations whose sell-out ends within 90 days
# (PSM-004), the company's yearly manure total above 200 t (ENNI-003), large first purchases of a
# precursor (EXP-003).
ONLY_PLANTED = set(RULES) - {"PSM-004", "ENNI-003", "EXP-003"}
