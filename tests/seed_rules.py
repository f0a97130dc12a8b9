"""Independent statements of each planted rule over contract tables, to test the manifest.

Written in polars on purpose: the compliance engine states the same rules in SQL, and the two
must agree on the demo data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from neuroerp import reference

Tables = Callable[[str], pl.DataFrame]
EU = {"DE", "NL", "BE", "FR", "AT", "DK", "PL", "IT", "ES", "CZ", "LU", "SE", "FI", "IE", "PT"}


def _six_months_later(col: str) -> pl.Expr:
    return pl.col(col).dt.offset_by("6mo")


def _active_lines(t: Tables) -> pl.DataFrame:
    orders = t("sales_orders").filter(pl.col("status") != "cancelled")
    return (
        t("sales_order_lines")
        .join(orders.select("order_id", "customer_id", "ordered_at", "channel", "sold_by"), on="order_id")
        .with_columns(order_day=pl.col("ordered_at").dt.date())
    )


def psm_001(t: Tables, as_of: dt.date) -> set[str]:
    pro = t("articles").filter(pl.col("psm_professional_only") & (pl.col("category") == "psm"))
    lines = _active_lines(t).join(pro.select("article_id"), on="article_id")
    skn = t("customer_certificates").filter((pl.col("kind") == "psm_sachkunde") & pl.col("verified_at").is_not_null())
    covered = lines.join(skn.select("customer_id", "issued_on", "valid_until", "verified_at"), on="customer_id").filter(
        (pl.col("issued_on") <= pl.col("order_day"))
        & (pl.col("verified_at").dt.date() <= pl.col("order_day"))
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col("order_day")))
    )
    return set(lines["line_id"]) - set(covered["line_id"])


def psm_002(t: Tables, as_of: dt.date) -> set[str]:
    arts = t("articles").filter((pl.col("category") == "psm") & pl.col("psm_authorized_until").is_not_null())
    arts = arts.with_columns(
        limit=pl.when(pl.col("psm_withdrawal_kind") == "authority_risk")
        .then(pl.col("psm_authorized_until"))
        .otherwise(_six_months_later("psm_authorized_until"))
    )
    lines = _active_lines(t).join(arts.select("article_id", "limit"), on="article_id")
    return set(lines.filter(pl.col("order_day") > pl.col("limit"))["line_id"])


def psm_003(t: Tables, as_of: dt.date) -> set[str]:
    known = reference.bvl_products()["kennr"]
    psm = t("articles").filter(pl.col("category") == "psm")
    bad = psm.filter(
        pl.col("psm_reg_no").is_null()
        | ~pl.col("psm_reg_no").str.contains(r"^[0-9A-Z]{6}-[0-9]{2}$")
        | ~pl.col("psm_reg_no").is_in(known.implode())
    )
    return set(bad["article_id"])


def psm_004(t: Tables, as_of: dt.date) -> set[str]:
    stock = t("stock_levels").group_by("article_id").agg(pl.col("on_hand").sum()).filter(pl.col("on_hand") > 0)
    psm = (
        t("articles")
        .join(stock, on="article_id")
        .filter(
            (pl.col("category") == "psm")
            & pl.col("psm_authorized_until").is_between(as_of, as_of + dt.timedelta(days=90))
        )
    )
    return set(psm["article_id"])


def psm_005(t: Tables, as_of: dt.date) -> set[str]:
    psm = t("articles").filter(pl.col("category") == "psm").select("article_id")
    unqualified = t("staff").filter(pl.col("psm_sachkunde_no").is_null()).select(sold_by="staff_id")
    lines = _active_lines(t).join(psm, on="article_id").join(unqualified, on="sold_by")
    return set(lines["order_id"])


def psm_006(t: Tables, as_of: dt.date) -> set[str]:
    pro = t("articles").filter(pl.col("psm_professional_only")).select("article_id")
    private = t("customers").filter(~pl.col("is_professional")).select("customer_id")
    lines = (
        _active_lines(t)
        .filter(pl.col("channel") == "webshop")
        .join(pro, on="article_id")
        .join(private, on="customer_id")
    )
    return set(lines["line_id"])


def _annex_i(t: Tables) -> pl.DataFrame:
    return t("articles").filter((pl.col("precursor_annex") == "I") | (pl.col("n_from_an_pct") >= 16))


def exp_001(t: Tables, as_of: dt.date) -> set[str]:
    private = t("customers").filter(~pl.col("is_professional")).select("customer_id")
    lines = _active_lines(t).join(_annex_i(t).select("article_id"), on="article_id").join(private, on="customer_id")
    return set(lines["line_id"])


def exp_002(t: Tables, as_of: dt.date) -> set[str]:
    precursor = t("articles").filter(pl.col("precursor_annex").is_not_null() | (pl.col("n_from_an_pct") >= 16))
    pro = t("customers").filter(pl.col("is_professional")).select("customer_id")
    lines = _active_lines(t).join(precursor.select("article_id"), on="article_id").join(pro, on="customer_id")
    papers = t("customer_certificates").filter(
        pl.col("kind").is_in(["precursor_customer_statement", "id_verification"]) & pl.col("verified_at").is_not_null()
    )
    covered = lines.join(papers.select("customer_id", "issued_on", "verified_at"), on="customer_id").filter(
        (pl.col("issued_on") <= pl.col("order_day"))
        & (pl.col("verified_at").dt.date() <= pl.col("order_day"))
        & (pl.col("issued_on") > pl.col("order_day").dt.offset_by("-12mo"))
    )
    return set(lines["line_id"]) - set(covered["line_id"])


def exp_003(t: Tables, as_of: dt.date) -> set[str]:
    arts = t("articles").filter(pl.col("precursor_substance").is_not_null())
    lines = (
        _active_lines(t)
        .join(arts.select("article_id", "precursor_substance"), on="article_id")
        .sort("ordered_at", "line_id")
        .with_columns(previous_max=pl.col("quantity").cum_max().shift(1).over(["customer_id", "precursor_substance"]))
    )
    return set(lines.filter(pl.col("quantity") > 2 * pl.col("previous_max"))["line_id"])


def exp_004(t: Tables, as_of: dt.date) -> set[str]:
    now = dt.datetime.combine(as_of, dt.time(21), tzinfo=dt.UTC)
    cases = t("suspicious_transactions").filter(
        (pl.col("reported_at").is_null() & (pl.col("flagged_at") < now - dt.timedelta(hours=24)))
        | (pl.col("reported_at") - pl.col("flagged_at") > pl.duration(hours=24))
    )
    return set(cases["case_id"])


def exp_005(t: Tables, as_of: dt.date) -> set[str]:
    return set(
        t("articles").filter((pl.col("n_from_an_pct") >= 28) & pl.col("detonation_test_ref").is_null())["article_id"]
    )


def exp_006(t: Tables, as_of: dt.date) -> set[str]:
    precursor = t("articles").filter(pl.col("precursor_substance").is_not_null()).select("article_id")
    reported = (
        t("suspicious_transactions")
        .filter(pl.col("kind").is_in(["loss", "theft"]) & pl.col("reported_at").is_not_null())
        .select(reference_id="case_id", reported=pl.lit(True))
    )
    losses = (
        t("stock_movements").filter(pl.col("kind") == "loss").join(precursor, on="article_id")
        .join(reported, on="reference_id", how="left")
    )  # fmt: skip
    return set(losses.filter(pl.col("reported").is_null())["movement_id"])


def exp_007(t: Tables, as_of: dt.date) -> set[str]:
    annex_ii = reference.precursors().filter(pl.col("annex") == "II")["substance"]
    arts = t("articles").with_columns(
        expected=pl.when(pl.col("n_from_an_pct") >= 16)
        .then(pl.lit("I"))
        .when(pl.col("precursor_substance").is_in(annex_ii.implode()))
        .then(pl.lit("II"))
    )
    bad = arts.filter(
        pl.col("expected").is_not_null()
        & (pl.col("precursor_annex").is_null() | (pl.col("precursor_annex") != pl.col("expected")))
    )
    return set(bad["article_id"])


def enni_001(t: Tables, as_of: dt.date) -> set[str]:
    md = t("manure_deliveries").filter(
        (pl.col("delivered_on") < as_of - dt.timedelta(days=30)) & pl.col("report_ref").is_null()
    )
    return set(md["delivery_id"])


def enni_002(t: Tables, as_of: dt.date) -> set[str]:
    md = t("manure_deliveries").filter(pl.col("n_kg_per_t").is_null() | pl.col("p2o5_kg_per_t").is_null())
    return set(md["delivery_id"])


def traces_001(t: Tables, as_of: dt.date) -> set[str]:
    arts = t("articles")
    needs = pl.concat(
        [
            arts.filter(pl.col("is_organic")).select("article_id", needed=pl.lit("COI")),
            arts.filter(pl.col("import_control").is_not_null()).select("article_id", needed="import_control"),
        ]
    )
    pos = t("purchase_orders").filter(pl.col("status") != "cancelled").select("po_id")
    lines = (
        t("purchase_order_lines").join(pos, on="po_id").join(needs, on="article_id")
        .filter(~pl.col("origin_country_code").is_in(list(EU)))
    )  # fmt: skip
    docs = t("import_documents").select("po_id", needed="kind", has=pl.lit(True))
    return set(lines.join(docs, on=["po_id", "needed"], how="left").filter(pl.col("has").is_null())["po_line_id"])


def traces_002(t: Tables, as_of: dt.date) -> set[str]:
    docs = t("import_documents").filter(
        (pl.col("kind") != "COI") & (pl.col("submitted_at") > pl.col("arrival_at") - pl.duration(hours=24))
    )
    return set(docs["document_id"])


def traces_003(t: Tables, as_of: dt.date) -> set[str]:
    docs = t("import_documents")
    endorsed = docs.filter((pl.col("kind") == "COI") & (pl.col("status") == "endorsed")).select("po_id")
    arrival = docs.group_by("po_id").agg(doc_arrival=pl.col("arrival_at").min())
    organic = t("articles").filter(pl.col("is_organic")).select("article_id")
    pos = t("purchase_orders").filter(pl.col("status") != "cancelled").select("po_id", "expected_on")
    lines = (
        t("purchase_order_lines").join(organic, on="article_id").join(pos, on="po_id")
        .filter(~pl.col("origin_country_code").is_in(list(EU)))
        .join(endorsed, on="po_id", how="anti")
        .join(arrival, on="po_id", how="left")
        .with_columns(arrival_at=pl.coalesce("doc_arrival", "received_at",
                                             pl.col("expected_on").cast(pl.Datetime("us", "UTC"))))
    )  # fmt: skip
    sold = lines.join(_active_lines(t).select("article_id", "ordered_at"), on="article_id").filter(
        pl.col("ordered_at") > pl.col("arrival_at")
    )
    return set(sold["po_id"])


def lksg_001(t: Tables, as_of: dt.date) -> set[str]:
    sup = (
        t("suppliers")
        .filter(pl.col("deleted_at").is_null())
        .filter(pl.col("lksg_assessed_on").is_null() | (pl.col("lksg_assessed_on") < as_of - dt.timedelta(days=365)))
    )
    return set(sup["supplier_id"])


def lksg_002(t: Tables, as_of: dt.date) -> set[str]:
    return set(
        t("suppliers").filter((pl.col("lksg_risk_level") == "high") & ~pl.col("code_of_conduct_signed"))["supplier_id"]
    )


def lksg_003(t: Tables, as_of: dt.date) -> set[str]:
    eudr = t("articles").filter(pl.col("eudr_commodity").is_not_null()).select("article_id")
    return set(
        t("purchase_order_lines").join(eudr, on="article_id").filter(pl.col("dds_reference").is_null())["po_line_id"]
    )


def gdpr_001(t: Tables, as_of: dt.date) -> set[str]:
    now = dt.datetime.combine(as_of, dt.time(21), tzinfo=dt.UTC)
    req = t("gdpr_requests").filter(
        (pl.col("kind") == "erasure") & (pl.col("status") == "open") & ~pl.col("legal_hold")
        & (pl.col("received_at") < now - dt.timedelta(days=30))
    )  # fmt: skip
    return set(req["request_id"])


def gdpr_002(t: Tables, as_of: dt.date) -> set[str]:
    last_order = t("sales_orders").group_by("customer_id").agg(last=pl.col("ordered_at").max())
    cust = t("customers").filter(pl.col("deleted_at").is_null()).join(last_order, on="customer_id", how="left")
    horizon = dt.datetime.combine(as_of.replace(year=as_of.year - 10), dt.time(), tzinfo=dt.UTC)
    dormant = cust.filter(pl.max_horizontal("created_at", "updated_at", "last") < horizon)
    return set(dormant["customer_id"])


def gdpr_003(t: Tables, as_of: dt.date) -> set[str]:
    sent = (
        t("audit_log")
        .filter((pl.col("action") == "export") & pl.col("after").str.contains('"purpose":"marketing_email"'))
        .select("entity_id", "occurred_at")
    )
    consent = t("consents").filter(pl.col("purpose") == "marketing_email")
    covered = sent.join(consent, left_on="entity_id", right_on="customer_id").filter(
        (pl.col("granted_at") <= pl.col("occurred_at"))
        & (pl.col("revoked_at").is_null() | (pl.col("revoked_at") > pl.col("occurred_at")))
    )
    return set(sent["entity_id"]) - set(covered["entity_id"])


def gobd_001(t: Tables, as_of: dt.date) -> set[str]:
    inv = t("invoices").filter(pl.col("posted_at").is_not_null() & (pl.col("updated_at") > pl.col("posted_at")))
    logged = (
        t("audit_log")
        .filter(pl.col("entity_type") == "invoice")
        .select(invoice_id="entity_id", updated_at="occurred_at", logged=pl.lit(True))
    )
    return set(
        inv.join(logged, on=["invoice_id", "updated_at"], how="left").filter(pl.col("logged").is_null())["invoice_id"]
    )


def gobd_002(t: Tables, as_of: dt.date) -> set[str]:
    seqs = set(t("audit_log")["seq"].to_list())
    return {str(s) for s in range(min(seqs), max(seqs) + 1) if s not in seqs}


def fin_001(t: Tables, as_of: dt.date) -> set[str]:
    inv = t("invoices").filter((pl.col("kind") == "AR") & pl.col("skonto_days").is_not_null())
    pays = t("payments").join(inv.select("invoice_id", "invoice_date", "skonto_days"), on="invoice_id")
    late = pays.filter(
        (pl.col("skonto_amount") > 0)
        & (pl.col("paid_on") > pl.col("invoice_date") + pl.duration(days=pl.col("skonto_days")))
    )
    return set(late["payment_id"])


def fin_002(t: Tables, as_of: dt.date) -> set[str]:
    def valid(iban: str) -> bool:
        digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
        return int(digits) % 97 == 1

    sup = t("suppliers").filter(pl.col("iban").is_not_null())
    return {sid for sid, iban in sup.select("supplier_id", "iban").iter_rows() if not valid(iban)}


def fin_003(t: Tables, as_of: dt.date) -> set[str]:
    return set(t("invoices").filter((pl.col("kind") == "AP") & (pl.col("net_days") > 60))["invoice_id"])


RULES: dict[str, Callable[[Tables, dt.date], set[str]]] = {
    "PSM-001": psm_001, "PSM-002": psm_002, "PSM-003": psm_003, "PSM-004": psm_004, "PSM-005": psm_005,
    "PSM-006": psm_006, "EXP-001": exp_001, "EXP-002": exp_002, "EXP-003": exp_003, "EXP-004": exp_004,
    "EXP-005": exp_005, "EXP-006": exp_006, "EXP-007": exp_007, "ENNI-001": enni_001, "ENNI-002": enni_002,
    "TRACES-001": traces_001, "TRACES-002": traces_002, "TRACES-003": traces_003, "LKSG-001": lksg_001,
    "LKSG-002": lksg_002, "LKSG-003": lksg_003, "GDPR-001": gdpr_001, "GDPR-002": gdpr_002, "GDPR-003": gdpr_003,
    "GOBD-001": gobd_001, "GOBD-002": gobd_002, "FIN-001": fin_001, "FIN-002": fin_002, "FIN-003": fin_003,
}  # fmt: skip

# Rules whose violations in the demo data are all planted (the clean data never breaks them).
# The others also fire on genuine data: e.g. real BVL authorisations ending within 90 days, or a
# precursor sale that is also a private sale.
ONLY_PLANTED = set(RULES) - {"PSM-004", "EXP-002", "PSM-001", "EXP-003"}
