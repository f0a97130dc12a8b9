"""Planted rule breaks: a few per mille of the demo data break real rules, recorded in a manifest.

The generator writes clean trade first (certificates where needed, PSM only while authorised,
reports in time); each function here then breaks one rule on a handful of entities and says which.
Rule ids are those of the compliance engine; `entity_type`/`entity_id` name what it will flag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.master import UTC_US, add_months
from neuroerp.seed.randomness import money, uuids

Frames = dict[str, pl.DataFrame]

# violations per rule at scale 1 (scaled down, at least one per tenant)
PLANTED_AT_SCALE_1 = {
    "PSM-001": 60, "PSM-002": 8, "PSM-003": 25, "PSM-004": 10, "PSM-005": 20, "PSM-006": 15,
    "EXP-001": 20, "EXP-002": 40, "EXP-003": 15, "EXP-004": 10, "EXP-005": 4, "EXP-006": 10, "EXP-007": 8,
    "ENNI-001": 40, "ENNI-002": 20, "TRACES-001": 15, "TRACES-002": 10, "TRACES-003": 4,
    "LKSG-001": 15, "LKSG-002": 6, "LKSG-003": 20, "GDPR-001": 8, "GDPR-002": 30, "GDPR-003": 40,
    "GOBD-001": 15, "GOBD-002": 3, "FIN-001": 300, "FIN-002": 6, "FIN-003": 4,
}  # fmt: skip

DESCRIPTIONS = {
    "PSM-001": "professional-only PSM sold to a customer without a valid verified Sachkunde",
    "PSM-002": "PSM sold after authorisation end plus sell-out (or after withdrawal for risk)",
    "PSM-003": "PSM article with a malformed, missing or unknown BVL number",
    "PSM-004": "PSM in stock whose authorisation ends within 90 days",
    "PSM-005": "PSM sold by staff without Sachkunde",
    "PSM-006": "professional-only PSM sold through the webshop to a private customer",
    "EXP-001": "Annex I precursor sold to a non-professional customer",
    "EXP-002": "precursor sold to a professional without customer statement or ID check within 12 months",
    "EXP-003": "precursor quantity more than twice the customer's previous maximum",
    "EXP-004": "suspicious transaction not reported within 24 hours",
    "EXP-005": "ammonium nitrate fertiliser >= 28 % N without detonation test",
    "EXP-006": "stock loss of a precursor article without a reported case",
    "EXP-007": "missing or wrong precursor classification",
    "ENNI-001": "manure delivery older than 30 days without report",
    "ENNI-002": "manure delivery without N or P2O5 content",
    "TRACES-001": "import of a controlled or organic article without CHED/COI",
    "TRACES-002": "CHED submitted less than one working day before arrival",
    "TRACES-003": "organic goods sold from a consignment without endorsed COI",
    "LKSG-001": "supplier without risk assessment in the last 12 months",
    "LKSG-002": "high-risk supplier without signed code of conduct",
    "LKSG-003": "EUDR commodity purchased without DDS reference (from the application date)",
    "GDPR-001": "erasure request open more than 30 days without legal hold",
    "GDPR-002": "personal data kept past retention without legal hold",
    "GDPR-003": "marketing sent without active consent",
    "GOBD-001": "posted invoice changed after posting without audit entry",
    "GOBD-002": "gap in the audit log sequence",
    "FIN-001": "Skonto deducted after the discount period",
    "FIN-002": "supplier IBAN with invalid check digits",
    "FIN-003": "grain payment term above 60 days (AgrarOLkG)",
}


@dataclass
class Planted:
    rule: str
    tenant_id: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _k(ctx: Context, t: TenantProfile, rule: str) -> int:
    return ctx.planted(PLANTED_AT_SCALE_1[rule], t)


def _choose(rng: np.random.Generator, df: pl.DataFrame, k: int) -> pl.DataFrame:
    if df.height == 0:
        return df
    return df[np.sort(rng.choice(df.height, size=min(k, df.height), replace=False)).tolist()]


def _update(df: pl.DataFrame, key: str, changes: pl.DataFrame) -> pl.DataFrame:
    """Replace columns of the rows whose key appears in changes."""
    return df.update(changes, on=key, how="left", include_nulls=True)


class Planter:
    """Breaks rules on one tenant's frames and records each break."""

    def __init__(self, ctx: Context, t: TenantProfile, f: Frames) -> None:
        self.ctx, self.t, self.f = ctx, t, f
        self.planted: list[Planted] = []
        self.used_articles: set[str] = set()

    def rng(self, rule: str) -> np.random.Generator:
        return self.ctx.rng(self.t.tenant_id, "plant", rule)

    def add(self, rule: str, entity_type: str, entity_id: str, **detail: Any) -> None:
        clean = {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in detail.items()}
        self.planted.append(Planted(rule, self.t.tenant_id, entity_type, str(entity_id), clean))

    # ------------------------------------------------------------------ helpers on sales lines

    def _open_lines(self) -> pl.DataFrame:
        """Lines of orders that went ahead, with the order's channel, class and seller."""
        orders = self.f["sales_orders"].filter(pl.col("status") != "cancelled")
        return self.f["sales_order_lines"].join(
            orders.select("order_id", "channel", "sold_by", "status"), on="order_id", maintain_order="left"
        )

    def _articles(self, predicate: pl.Expr) -> pl.DataFrame:
        return self.f["articles"].filter(predicate & ~pl.col("article_id").is_in(list(self.used_articles)))

    def _long_lived_pro_psm(self) -> pl.DataFrame:
        return self._articles(
            (pl.col("category") == "psm")
            & pl.col("psm_professional_only")
            & (pl.col("_sellable_until") >= pl.lit(self.ctx.as_of))
        )

    def _relabel_lines(self, lines: pl.DataFrame, articles: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
        """Give each line one of the articles (two packs), priced from the list."""
        pick = articles[rng.integers(0, articles.height, size=lines.height).tolist()]
        changes = pl.DataFrame(
            {
                "line_id": lines["line_id"],
                "article_id": pick["article_id"],
                "quantity": np.round(pick["pack_size"].to_numpy() * 2, 3),
                "unit_price": pick["list_price"],
                "_category": pick["category"],
            }
        )
        self.f["sales_order_lines"] = _update(self.f["sales_order_lines"], "line_id", changes)
        return changes

    # ---------------------------------------------------------------- phase 1: sales lines

    def psm_without_sachkunde(self) -> None:
        rng = self.rng("PSM-001")
        k = _k(self.ctx, self.t, "PSM-001")
        lines = self._open_lines().filter((pl.col("_class") == "pro") & (pl.col("channel") != "webshop"))
        chosen = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._long_lived_pro_psm(), rng)
        self._qualified_seller(chosen["order_id"], rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("PSM-001", "sales_order_line", line_id, customer_id=cid, article_id=article_id,
                     reason="no Sachkunde certificate")  # fmt: skip

    def unverified_sachkunde(self) -> None:
        """A customer whose Sachkunde was recorded but never verified: every pro-PSM sale counts."""
        rng = self.rng("PSM-001b")
        k = max(1, _k(self.ctx, self.t, "PSM-001") // 20)
        pro_psm = self.f["articles"].filter(pl.col("psm_professional_only"))["article_id"]
        lines = self._open_lines().filter(pl.col("article_id").is_in(pro_psm.implode()))
        per_customer = (
            lines.group_by("customer_id", maintain_order=True)
            .agg(pl.len())
            .filter(pl.col("len") <= 12)
            .sort("customer_id")
        )
        for cid in _choose(rng, per_customer, k)["customer_id"]:
            certs = self.f["customer_certificates"]
            self.f["customer_certificates"] = certs.with_columns(
                verified_at=pl.when((pl.col("customer_id") == cid) & (pl.col("kind") == "psm_sachkunde"))
                .then(None)
                .otherwise("verified_at"),
                verified_by=pl.when((pl.col("customer_id") == cid) & (pl.col("kind") == "psm_sachkunde"))
                .then(None)
                .otherwise("verified_by"),
            )
            for line_id in lines.filter(pl.col("customer_id") == cid)["line_id"]:
                self.add("PSM-001", "sales_order_line", line_id, customer_id=cid, reason="certificate not verified")

    def _qualified_seller(self, order_ids: pl.Series, rng: np.random.Generator) -> None:
        staff = self.f["staff"].filter(pl.col("psm_sachkunde_no").is_not_null())["staff_id"]
        orders = self.f["sales_orders"]
        target = orders.filter(pl.col("order_id").is_in(order_ids.implode()) & (pl.col("channel") != "webshop"))
        changes = target.select("order_id").with_columns(
            sold_by=pl.Series(staff.to_numpy()[rng.integers(0, staff.len(), size=target.height)]),
            _has_psm=pl.lit(True),
        )
        self.f["sales_orders"] = _update(orders, "order_id", changes)

    def psm_after_authorisation(self) -> None:
        rng = self.rng("PSM-002")
        k_articles = max(2, _k(self.ctx, self.t, "PSM-002"))
        lines = self._open_lines().filter(pl.col("_class") == "pro_skn")
        sold = lines.join(self._long_lived_pro_psm().select("article_id"), on="article_id", maintain_order="left")
        # the least-sold articles, so that a handful of lines break the rule
        counts = sold.group_by("article_id", maintain_order=True).agg(n=pl.len()).filter(pl.col("n") >= 4)
        counts = counts.sort("n", "article_id").head(max(10, 3 * k_articles))
        for i, aid in enumerate(_choose(rng, counts, k_articles)["article_id"]):
            own = self._open_lines().filter(pl.col("article_id") == aid).sort("ordered_at")
            cut = own["ordered_at"][own.height // 2].date()
            withdrawal = "authority_risk" if i % 2 else "expired"
            until = (
                cut - dt.timedelta(days=20)
                if withdrawal == "authority_risk"
                else add_months(cut, -6) - dt.timedelta(days=20)
            )
            limit = until if withdrawal == "authority_risk" else add_months(until, 6)
            self._set_article(aid, psm_authorized_until=until, psm_withdrawal_kind=withdrawal,
                              _sellable_until=limit, is_active=False)  # fmt: skip
            for line_id, when in (
                own.filter(pl.col("ordered_at").dt.date() > limit).select("line_id", "ordered_at").iter_rows()
            ):
                self.add("PSM-002", "sales_order_line", line_id, article_id=aid, authorized_until=until,
                         withdrawal=withdrawal, sold_on=when.date())  # fmt: skip

    def _set_article(self, article_id: str, **values: Any) -> None:
        self.used_articles.add(article_id)
        arts = self.f["articles"]
        exprs = {c: pl.when(pl.col("article_id") == article_id).then(pl.lit(v, dtype=arts.schema[c])).otherwise(c)
                 for c, v in values.items()}  # fmt: skip
        self.f["articles"] = arts.with_columns(**exprs)

    def psm_staff_without_sachkunde(self) -> None:
        rng = self.rng("PSM-005")
        k = _k(self.ctx, self.t, "PSM-005")
        unqualified = self.f["staff"].filter(pl.col("psm_sachkunde_no").is_null())["staff_id"]
        orders = self.f["sales_orders"].filter(
            pl.col("_has_psm") & (pl.col("channel") != "webshop") & (pl.col("status") != "cancelled")
        )
        # only orders whose buyers are entitled, so that this is the one thing wrong
        entitled = self._open_lines().filter(pl.col("_class") == "pro_skn")["order_id"].unique()
        orders = orders.filter(pl.col("order_id").is_in(entitled.implode())).sort("order_id")
        chosen = _choose(rng, orders, k)
        seller = unqualified.to_numpy()[rng.integers(0, unqualified.len(), size=chosen.height)]
        self.f["sales_orders"] = _update(
            self.f["sales_orders"], "order_id", pl.DataFrame({"order_id": chosen["order_id"], "sold_by": seller})
        )
        for oid, sid in zip(chosen["order_id"], seller, strict=False):
            self.add("PSM-005", "sales_order", oid, staff_id=sid)

    def psm_webshop_private(self) -> None:
        rng = self.rng("PSM-006")
        k = _k(self.ctx, self.t, "PSM-006")
        lines = self._open_lines().filter((pl.col("_class") == "private") & (pl.col("channel") == "webshop"))
        chosen = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._long_lived_pro_psm(), rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("PSM-006", "sales_order_line", line_id, customer_id=cid, article_id=article_id)

    def _annex_articles(self, annex: str | None = None) -> pl.DataFrame:
        pred = pl.col("precursor_annex").is_not_null() if annex is None else pl.col("precursor_annex") == annex
        return self.f["articles"].filter(pred)

    def precursor_to_private(self) -> None:
        rng = self.rng("EXP-001")
        k = _k(self.ctx, self.t, "EXP-001")
        lines = self._open_lines().filter(pl.col("_class") == "private")
        chosen = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._annex_articles("I"), rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("EXP-001", "sales_order_line", line_id, customer_id=cid, article_id=article_id)

    def precursor_without_statement(self) -> set[str]:
        """Professionals who never bought precursors get one precursor line and no statement."""
        rng = self.rng("EXP-002")
        k = _k(self.ctx, self.t, "EXP-002")
        lines = self._open_lines()
        precursor_ids = self._annex_articles()["article_id"]
        buyers = lines.filter(pl.col("article_id").is_in(precursor_ids.implode()))["customer_id"].unique()
        checked = self.f["customer_certificates"].filter(pl.col("kind") == "id_verification")["customer_id"]
        candidates = lines.filter(
            (pl.col("_class") != "private")
            & ~pl.col("customer_id").is_in(buyers.implode())
            & ~pl.col("customer_id").is_in(checked.implode())
        )
        chosen = _choose(rng, candidates.unique("customer_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._annex_articles(), rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("EXP-002", "sales_order_line", line_id, customer_id=cid, article_id=article_id)
        return set(chosen["customer_id"])

    def precursor_unusual_quantity(self, skip_customers: set[str]) -> None:
        rng = self.rng("EXP-003")
        k = _k(self.ctx, self.t, "EXP-003")
        arts = self._annex_articles().select("article_id", "precursor_substance")
        lines = (
            self._open_lines()
            .filter((pl.col("_class") != "private") & ~pl.col("customer_id").is_in(list(skip_customers)))
            .join(arts, on="article_id", maintain_order="left")
            .sort("ordered_at", "line_id")
        )
        history = lines.group_by("customer_id", "precursor_substance", maintain_order=True).agg(
            n=pl.len(), last_line=pl.col("line_id").last(), previous_max=pl.col("quantity").head(pl.len() - 1).max()
        )
        chosen = _choose(rng, history.filter(pl.col("n") >= 3).sort("last_line"), k)
        changes = chosen.select(line_id="last_line", quantity=(pl.col("previous_max") * 3).round(3))
        self.f["sales_order_lines"] = _update(self.f["sales_order_lines"], "line_id", changes)
        for line_id, prev, cid in zip(chosen["last_line"], chosen["previous_max"], chosen["customer_id"], strict=False):
            self.add("EXP-003", "sales_order_line", line_id, customer_id=cid, previous_max=prev, quantity=prev * 3)

    # ---------------------------------------------------------- phase 2: master data, records

    def bvl_number_broken(self) -> None:
        rng = self.rng("PSM-003")
        k = _k(self.ctx, self.t, "PSM-003")
        psm = self._articles(pl.col("category") == "psm").sort("article_id")
        variants = [
            ("drop leading zero", lambda s: s[1:]),
            ("wrong separator", lambda s: s.replace("-", "/")),
            ("letter O for zero", lambda s: "O" + s[1:]),
            ("missing", lambda s: None),
            ("unknown to the register", lambda s: "099" + s[3:6] + "-99"),
        ]
        for i, (aid, reg) in enumerate(_choose(rng, psm, k).select("article_id", "psm_reg_no").iter_rows()):
            label, broken = variants[i % len(variants)]
            self._set_article(aid, psm_reg_no=broken(reg))
            self.add("PSM-003", "article", aid, original=reg, planted=broken(reg), kind=label)

    def detonation_test_missing(self) -> None:
        rng = self.rng("EXP-005")
        k = _k(self.ctx, self.t, "EXP-005")
        an = self._articles(pl.col("n_from_an_pct") >= 28).sort("article_id")
        for aid in _choose(rng, an, min(k, max(1, an.height - 1)))["article_id"]:
            self._set_article(aid, detonation_test_ref=None)
            self.add("EXP-005", "article", aid)

    def precursor_classification_wrong(self) -> None:
        rng = self.rng("EXP-007")
        k = _k(self.ctx, self.t, "EXP-007")
        classified = self._articles(pl.col("precursor_annex").is_not_null()).sort("article_id")
        for i, (aid, annex) in enumerate(
            _choose(rng, classified, k).select("article_id", "precursor_annex").iter_rows()
        ):
            wrong = None if i % 2 == 0 else ("II" if annex == "I" else "I")
            self._set_article(aid, precursor_annex=wrong)
            self.add("EXP-007", "article", aid, expected=annex, planted=wrong)

    def suppliers_lksg(self) -> None:
        rng = self.rng("LKSG")
        sup = self.f["suppliers"].filter(pl.col("deleted_at").is_null()).sort("supplier_id")
        stale = _choose(rng, sup, _k(self.ctx, self.t, "LKSG-001"))
        for i, sid in enumerate(stale["supplier_id"]):
            when = None if i % 2 else self.ctx.as_of - dt.timedelta(days=int(rng.integers(400, 900)))
            self._set_supplier(sid, lksg_assessed_on=when)
            self.add("LKSG-001", "supplier", sid, assessed_on=when)
        high = sup.filter(
            (pl.col("lksg_risk_level") == "high") & ~pl.col("supplier_id").is_in(stale["supplier_id"].implode())
        )
        for sid in _choose(rng, high, _k(self.ctx, self.t, "LKSG-002"))["supplier_id"]:
            self._set_supplier(sid, code_of_conduct_signed=False)
            self.add("LKSG-002", "supplier", sid)
        with_iban = sup.filter(
            pl.col("iban").is_not_null() & ~pl.col("supplier_id").is_in(stale["supplier_id"].implode())
        )
        for sid, iban in (
            _choose(rng, with_iban, _k(self.ctx, self.t, "FIN-002")).select("supplier_id", "iban").iter_rows()
        ):
            check = (int(iban[2:4]) + 1) % 97 or 2
            bad = f"{iban[:2]}{check:02d}{iban[4:]}"
            self._set_supplier(sid, iban=bad)
            self.add("FIN-002", "supplier", sid, iban=bad)

    def _set_supplier(self, supplier_id: str, **values: Any) -> None:
        sup = self.f["suppliers"]
        exprs = {c: pl.when(pl.col("supplier_id") == supplier_id).then(pl.lit(v, dtype=sup.schema[c])).otherwise(c)
                 for c, v in values.items()}  # fmt: skip
        self.f["suppliers"] = sup.with_columns(**exprs)

    def eudr_without_dds(self) -> None:
        rng = self.rng("LKSG-003")
        lines = self.f["purchase_order_lines"].filter(pl.col("dds_reference").is_not_null()).sort("po_line_id")
        chosen = _choose(rng, lines, _k(self.ctx, self.t, "LKSG-003"))
        self.f["purchase_order_lines"] = _update(
            self.f["purchase_order_lines"], "po_line_id",
            chosen.select("po_line_id", dds_reference=pl.lit(None, pl.String)),
        )  # fmt: skip
        for lid, when in chosen.select("po_line_id", "ordered_at").iter_rows():
            self.add("LKSG-003", "purchase_order_line", lid, ordered_at=when.date(),
                     note="a violation once the EUDR application date has passed")  # fmt: skip

    def imports(self) -> None:
        rng = self.rng("TRACES")
        docs = self.f["import_documents"]
        # TRACES-001: consignments whose documents were never raised
        missing = _choose(rng, docs.filter(pl.col("kind") != "COI").unique("po_id").sort("po_id"),
                          _k(self.ctx, self.t, "TRACES-001"))  # fmt: skip
        self.f["import_documents"] = docs.filter(~pl.col("po_id").is_in(missing["po_id"].implode()))
        arts = self.f["articles"].filter(pl.col("import_control").is_not_null() | pl.col("is_organic"))
        for lid, po in (
            self.f["purchase_order_lines"]
            .filter(pl.col("po_id").is_in(missing["po_id"].implode()) & pl.col("article_id").is_in(arts["article_id"].implode()))
            .select("po_line_id", "po_id").iter_rows()
        ):  # fmt: skip
            self.add("TRACES-001", "purchase_order_line", lid, po_id=po)
        # TRACES-002: CHED pre-notified only hours before arrival (of consignments arrived by now:
        # a later one would be submitted after the clock)
        docs = self.f["import_documents"]
        arrived = docs.filter((pl.col("kind") != "COI") & (pl.col("arrival_at") <= self.ctx.now_expr))
        late = _choose(rng, arrived.sort("document_id"), _k(self.ctx, self.t, "TRACES-002"))
        hours = rng.integers(2, 12, size=late.height)
        changes = late.select(
            "document_id",
            submitted_at=pl.col("arrival_at") - pl.duration(hours=pl.Series(hours)),
        ).with_columns(  # the late submission is the document's last change unless it arrived since
            updated_at=pl.max_horizontal(late["updated_at"], "submitted_at")
        )
        self.f["import_documents"] = _update(docs, "document_id", changes)
        for did, h in zip(late["document_id"], hours, strict=False):
            self.add("TRACES-002", "import_document", did, hours_before_arrival=int(h))
        # TRACES-003: organic consignment without endorsed COI whose goods were sold afterwards
        docs = self.f["import_documents"]
        coi = docs.filter((pl.col("kind") == "COI") & (pl.col("status") == "endorsed"))
        organic_lines = self.f["purchase_order_lines"].join(
            coi.select("po_id", "arrival_at"), on="po_id", maintain_order="left"
        )
        sold_after = organic_lines.join(
            self._open_lines().select("article_id", sold_at="ordered_at"), on="article_id", maintain_order="left"
        ).filter(pl.col("sold_at") > pl.col("arrival_at"))
        chosen = _choose(rng, sold_after.unique("po_id").sort("po_id"), _k(self.ctx, self.t, "TRACES-003"))
        self.f["import_documents"] = docs.with_columns(
            status=pl.when(pl.col("po_id").is_in(chosen["po_id"].implode()) & (pl.col("kind") == "COI"))
            .then(pl.lit("rejected"))
            .otherwise("status")
        )
        for po in chosen["po_id"]:
            self.add("TRACES-003", "purchase_order", po)

    def manure(self) -> None:
        rng = self.rng("ENNI")
        md = self.f["manure_deliveries"]
        if md.height == 0:
            return
        old = md.filter(pl.col("delivered_on") < pl.lit(self.ctx.as_of - dt.timedelta(days=45))).sort("delivery_id")
        unreported = _choose(rng, old, _k(self.ctx, self.t, "ENNI-001"))
        md = _update(md, "delivery_id", unreported.select("delivery_id", report_ref=pl.lit(None, pl.String),
                                                          reported_on=pl.lit(None, pl.Date)))  # fmt: skip
        for did in unreported["delivery_id"]:
            self.add("ENNI-001", "manure_delivery", did)
        rest = md.filter(~pl.col("delivery_id").is_in(unreported["delivery_id"].implode())).sort("delivery_id")
        gaps = _choose(rng, rest, _k(self.ctx, self.t, "ENNI-002"))
        md = _update(md, "delivery_id", gaps.select("delivery_id", n_kg_per_t=pl.lit(None, pl.Float64)))
        for did in gaps["delivery_id"]:
            self.add("ENNI-002", "manure_delivery", did, missing="n_kg_per_t")
        self.f["manure_deliveries"] = md

    def precursor_cases_late(self) -> None:
        rng = self.rng("EXP-004")
        cases = self.f["suspicious_transactions"].sort("case_id")
        # losses stay reported: an unreported loss would also be an unexplained stock loss (EXP-006);
        # cases flagged at least 96 hours ago, so that the late report is not after the clock
        candidates = cases.filter(
            pl.col("kind").is_in(["suspicious", "refused"])
            & (pl.col("flagged_at") < self.ctx.now_expr - pl.duration(hours=97))
        )
        late = _choose(rng, candidates, _k(self.ctx, self.t, "EXP-004"))
        hours = rng.integers(26, 96, size=late.height)
        never = np.arange(late.height) % 2 == 0
        changes = late.select(
            "case_id",
            reported_at=pl.when(pl.Series(never))
            .then(None)
            .otherwise(pl.col("flagged_at") + pl.duration(hours=pl.Series(hours))),
            authority_ref=pl.when(pl.Series(never)).then(None).otherwise("authority_ref"),
        ).with_columns(updated_at=pl.coalesce("reported_at", pl.lit(None, UTC_US)))
        changes = changes.with_columns(
            updated_at=pl.when(pl.col("updated_at").is_null()).then(late["flagged_at"]).otherwise("updated_at")
        )
        self.f["suspicious_transactions"] = _update(cases, "case_id", changes)
        for cid, n, h in zip(late["case_id"], never, hours, strict=False):
            self.add("EXP-004", "suspicious_transaction", cid, reported_after_hours=None if n else int(h))

    def gdpr(self) -> pl.DataFrame:
        """Overdue erasures, dormant customers past retention, marketing without consent."""
        rng = self.rng("GDPR")
        cust = self.f["customers"].filter(pl.col("deleted_at").is_null()).sort("customer_id")
        # GDPR-001
        k = _k(self.ctx, self.t, "GDPR-001")
        who = _choose(rng, cust, k)
        received = [self.ctx.now - dt.timedelta(days=int(d), hours=3) for d in rng.integers(35, 90, size=who.height)]
        overdue = pl.DataFrame(
            {
                "request_id": uuids(rng, who.height), "tenant_id": self.t.tenant_id, "customer_id": who["customer_id"],
                "kind": "erasure", "received_at": pl.Series(received, dtype=UTC_US),
                "completed_at": pl.Series([None] * who.height, dtype=UTC_US), "status": "open", "legal_hold": False,
            }
        ).with_columns(updated_at=pl.col("received_at"))  # fmt: skip
        self.f["gdpr_requests"] = pl.concat([self.f["gdpr_requests"], overdue.select(self.f["gdpr_requests"].columns)])
        for rid, cid, r in zip(overdue["request_id"], who["customer_id"], received, strict=False):
            self.add("GDPR-001", "gdpr_request", rid, customer_id=cid, received_at=r)
        # GDPR-002: customers nobody has traded with for over a decade
        k = _k(self.ctx, self.t, "GDPR-002")
        template = cust.filter(pl.col("customer_type") == "private").head(1)
        created = [
            dt.datetime(self.ctx.as_of.year - int(y), int(m), 15, 9, tzinfo=dt.UTC)
            for y, m in zip(rng.integers(11, 16, size=k), rng.integers(1, 13, size=k), strict=False)
        ]
        dormant = pl.concat([template] * k).with_columns(
            customer_id=pl.Series(uuids(rng, k)),
            customer_no=pl.Series([f"K{190000 + i:06d}" for i in range(k)]),
            created_at=pl.Series(created, dtype=UTC_US),
            updated_at=pl.Series(created, dtype=UTC_US),
            _weight=pl.lit(0.0),
        )
        self.f["customers"] = pl.concat([self.f["customers"], dormant.select(self.f["customers"].columns)])
        for cid, c in zip(dormant["customer_id"], created, strict=False):
            self.add("GDPR-002", "customer", cid, last_activity=c)
        # GDPR-003: campaign recipients without consent
        from neuroerp.seed.events import campaign_dates

        campaigns = campaign_dates(self.ctx)
        consenting = self.f["consents"].filter(pl.col("purpose") == "marketing_email")["customer_id"]
        no_consent = cust.filter(pl.col("email").is_not_null() & ~pl.col("customer_id").is_in(consenting.implode()))
        chosen = _choose(rng, no_consent, _k(self.ctx, self.t, "GDPR-003"))
        titles = [campaigns[int(i)][1] for i in rng.integers(0, len(campaigns), size=chosen.height)]
        for cid, title in zip(chosen["customer_id"], titles, strict=False):
            self.add("GDPR-003", "customer", cid, campaign=title)
        return pl.DataFrame(
            {"tenant_id": self.t.tenant_id, "customer_id": chosen["customer_id"], "campaign": titles},
            schema={"tenant_id": pl.String, "customer_id": pl.String, "campaign": pl.String},
        )

    # ------------------------------------------------------------ phase 3: stock and finance

    def expiring_stock(self) -> None:
        rng = self.rng("PSM-004")
        in_stock = self.f["stock_levels"].filter(pl.col("on_hand") > 0)["article_id"].unique()
        psm = self._articles(
            (pl.col("category") == "psm")
            & pl.col("article_id").is_in(in_stock.implode())
            & (pl.col("psm_authorized_until") > pl.lit(self.ctx.as_of + dt.timedelta(days=120)))
        ).sort("article_id")
        for aid in _choose(rng, psm, _k(self.ctx, self.t, "PSM-004"))["article_id"]:
            until = self.ctx.as_of + dt.timedelta(days=int(rng.integers(10, 80)))
            self._set_article(aid, psm_authorized_until=until, _sellable_until=add_months(until, 6))
            self.add("PSM-004", "article", aid, authorized_until=until)

    def precursor_losses(self) -> None:
        rng = self.rng("EXP-006")
        k = _k(self.ctx, self.t, "EXP-006")
        precursor = self.f["articles"].filter(pl.col("precursor_annex").is_not_null())["article_id"]
        sites = (
            self.f["stock_levels"]
            .filter(pl.col("article_id").is_in(precursor.implode()))
            .sort("article_id", "warehouse_id")
        )
        chosen = _choose(rng, sites, k)
        days = np.datetime64(self.ctx.as_of) - rng.integers(5, 300, size=chosen.height).astype("timedelta64[D]")
        from neuroerp.seed.randomness import business_instants

        qty = -np.round(rng.uniform(0.5, 2.5, size=chosen.height), 1)
        moves = pl.DataFrame(
            {
                "article_id": chosen["article_id"], "warehouse_id": chosen["warehouse_id"], "quantity": qty,
                "kind": "loss", "occurred_at": business_instants(rng, days),
                "reference_id": pl.Series([None] * chosen.height, dtype=pl.String),
                "movement_id": uuids(rng, chosen.height), "tenant_id": self.t.tenant_id,
            }
        )  # fmt: skip
        self.f["stock_movements"] = pl.concat(
            [self.f["stock_movements"], moves.select(self.f["stock_movements"].columns)]
        ).sort("occurred_at")
        delta = moves.group_by("article_id", "warehouse_id", maintain_order=True).agg(_d=pl.col("quantity").sum())
        self.f["stock_levels"] = (
            self.f["stock_levels"].join(delta, on=["article_id", "warehouse_id"], how="left", maintain_order="left")
            .with_columns(on_hand=(pl.col("on_hand") + pl.col("_d").fill_null(0)).round(3)).drop("_d")
        )  # fmt: skip
        for mid, aid in zip(moves["movement_id"], moves["article_id"], strict=False):
            self.add("EXP-006", "stock_movement", mid, article_id=aid)

    def unjustified_skonto(self) -> None:
        rng = self.rng("FIN-001")
        inv = self.f["invoices"].filter((pl.col("kind") == "AR") & pl.col("skonto_pct").is_not_null())
        pays = self.f["payments"].join(inv.select("invoice_id", "invoice_date", "skonto_pct", "skonto_days", "gross_amount"),
                                      on="invoice_id", maintain_order="left")  # fmt: skip
        single = pays.filter(pl.len().over("invoice_id") == 1)
        late = single.filter(
            (pl.col("paid_on") > pl.col("invoice_date") + pl.duration(days=pl.col("skonto_days")))
            & (pl.col("skonto_amount") == 0)
        ).sort("payment_id")
        chosen = _choose(rng, late, _k(self.ctx, self.t, "FIN-001"))
        skonto = money(chosen["gross_amount"].to_numpy() * chosen["skonto_pct"].to_numpy() / 100)
        changes = pl.DataFrame(
            {"payment_id": chosen["payment_id"], "skonto_amount": skonto,
             "amount": money(chosen["gross_amount"].to_numpy() - skonto)}
        )  # fmt: skip
        self.f["payments"] = _update(self.f["payments"], "payment_id", changes)
        for pid, days_late in zip(
            chosen["payment_id"], (chosen["paid_on"] - chosen["invoice_date"]).dt.total_days(), strict=False
        ):
            self.add("FIN-001", "payment", pid, days_after_invoice=int(days_late))

    def grain_terms(self) -> None:
        rng = self.rng("FIN-003")
        grain = self.f["suppliers"].filter(pl.col("_trade") == "grain")["supplier_id"]
        inv = self.f["invoices"].filter((pl.col("kind") == "AP") & pl.col("partner_id").is_in(grain.implode()))
        chosen = _choose(rng, inv.sort("invoice_id"), _k(self.ctx, self.t, "FIN-003"))
        self.f["invoices"] = _update(
            self.f["invoices"], "invoice_id", chosen.select("invoice_id", net_days=pl.lit(90, pl.Int32))
        )
        for iid in chosen["invoice_id"]:
            self.add("FIN-003", "invoice", iid, net_days=90)

    def silent_invoice_changes(self) -> None:
        rng = self.rng("GOBD-001")
        inv = (
            self.f["invoices"]
            .filter(
                pl.col("posted_at").is_not_null() & (pl.col("updated_at") < self.ctx.now_expr - pl.duration(days=3))
            )
            .sort("invoice_id")
        )
        chosen = _choose(rng, inv, _k(self.ctx, self.t, "GOBD-001"))
        later = [
            min(u + dt.timedelta(days=int(d), hours=2), self.ctx.now - dt.timedelta(hours=1))
            for u, d in zip(chosen["updated_at"].to_list(), rng.integers(1, 40, size=chosen.height), strict=False)
        ]
        changes = chosen.select(
            "invoice_id",
            net_amount=(pl.col("net_amount") - 10).round(2),
            gross_amount=(pl.col("gross_amount") - 10).round(2),
            updated_at=pl.Series(later, dtype=UTC_US),
        )
        self.f["invoices"] = _update(self.f["invoices"], "invoice_id", changes)
        for iid, when in zip(chosen["invoice_id"], later, strict=False):
            self.add("GOBD-001", "invoice", iid, changed_at=when, change="net and gross reduced by 10.00 EUR")


def audit_gaps(ctx: Context, audit: pl.DataFrame) -> tuple[pl.DataFrame, list[Planted]]:
    """Remove a few login rows from the audit trail: the sequence shows the gap.

    Logins, so that the only trace is the gap (a missing invoice row would also be a GOBD-001).
    """
    rng = ctx.rng("plant", "GOBD-002")
    k = max(1, round(PLANTED_AT_SCALE_1["GOBD-002"] * max(ctx.scale, 0.34)))
    logins = audit.filter(pl.col("action") == "login")["seq"].to_numpy()
    gone = np.sort(rng.choice(logins[5:-5], size=k, replace=False))
    rows = audit.filter(pl.col("seq").is_in(gone.tolist()))
    planted = [
        Planted("GOBD-002", tenant, "audit_log", str(seq), {"missing_seq": int(seq)})
        for seq, tenant in rows.select("seq", "tenant_id").iter_rows()
    ]
    return audit.filter(~pl.col("seq").is_in(gone.tolist())), planted
