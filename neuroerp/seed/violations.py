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

from neuroerp import reference
from neuroerp.seed.context import Context, TenantProfile
from neuroerp.seed.master import UTC_US, add_months
from neuroerp.seed.randomness import money, uuids

Frames = dict[str, pl.DataFrame]

# violations per rule at scale 1 (scaled down, at least one per tenant)
PLANTED_AT_SCALE_1 = {
    "PSM-001": 60, "PSM-002": 8, "PSM-003": 25, "PSM-004": 10, "PSM-005": 20, "PSM-007": 6, "PSM-008": 6,
    "PSM-009": 6, "PSM-010": 6, "EXP-001": 20, "EXP-002": 40, "EXP-003": 15, "EXP-004": 10, "EXP-005": 4,
    "EXP-006": 10, "EXP-007": 8, "ENNI-001": 40, "ENNI-002": 20, "TRACES-001": 15, "TRACES-002": 10,
    "TRACES-003": 4, "LKSG-001": 15, "LKSG-002": 6, "LKSG-003": 20, "GDPR-001": 8, "GDPR-002": 30, "GDPR-003": 40,
    "GOBD-001": 15, "GOBD-002": 3, "FIN-001": 300, "FIN-002": 6, "FIN-003": 4, "FIN-004": 2,
}  # fmt: skip

DESCRIPTIONS = {
    "PSM-001": "professional-only PSM handed over to a buyer without a valid verified Sachkunde (any channel)",
    "PSM-002": "PSM sold after its register authorisation end plus sell-out (or after withdrawal for risk)",
    "PSM-003": "PSM article with a malformed, missing or unexplained unknown BVL number",
    "PSM-004": "PSM in stock whose sell-out period ends within 90 days",
    "PSM-005": "PSM sold by staff without Sachkunde, or without a named Sachkunde holder",
    "PSM-007": "ERP authorisation end differs from the BVL register",
    "PSM-008": "PSM still in stock or active after its sell-out period",
    "PSM-009": "PSM received after its authorisation ended",
    "PSM-010": "Sachkunde holder's training overdue",
    "EXP-001": "Annex I precursor sold to a non-professional customer",
    "EXP-002": "Annex I precursor sold to a professional without customer statement within 12 months",
    "EXP-003": "precursor quantity more than twice the customer's and its peers' usual quantity",
    "EXP-004": "suspicious transaction not reported within 24 hours",
    "EXP-005": "ammonium nitrate fertiliser >= 28 % N without detonation test",
    "EXP-006": "significant precursor stock loss or short count without a loss case",
    "EXP-007": "missing or wrong precursor classification, or the content to judge it missing",
    "ENNI-001": "manure delivery not reported within a month, or reported late",
    "ENNI-002": "manure delivery record without N, P2O5 or N of animal origin after its window",
    "TRACES-001": "arrived import of a controlled or organic article without CHED/COI",
    "TRACES-002": "CHED submitted less than one working day before arrival",
    "TRACES-003": "organic goods sold from a lot whose COI is not endorsed",
    "LKSG-001": "supplier risk assessment missing or out of date for its risk level",
    "LKSG-002": "high-risk supplier without signed code of conduct",
    "LKSG-003": "own import of an EUDR commodity without DDS reference (from the application date)",
    "GDPR-001": "data-subject request open more than a month",
    "GDPR-002": "personal data kept past every retention period without legal hold",
    "GDPR-003": "marketing without the consent its channel and recipient need",
    "GOBD-001": "posted invoice's protected field changed without audit entry",
    "GOBD-002": "gap in the audit log sequence (found where the ERP guarantees gapless numbers)",
    "FIN-001": "Skonto deducted after the discount period",
    "FIN-002": "supplier IBAN with invalid check digits",
    "FIN-003": "grain payment term above 60 days (AgrarOLkG)",
    "FIN-004": "supplier named on the EU sanctions list",
}
# settings under which a planted break is found; every other break is found on the defaults
# (GOBD-002 with a grace period that ends half an hour before the generator's clock, so that the
# gap planted at its edge can be judged: see edges.audit_grace)
FOUND_WITH = {
    "GOBD-002": {"gobd_audit_gapless": "true", "gobd_gap_grace_minutes": "210"},
    "LKSG-003": {"eudr_application_date": "2024-01-01"},
}


MARKETING_SCHEMA = {"tenant_id": pl.String, "customer_id": pl.String, "campaign": pl.String, "purpose": pl.String}


@dataclass
class Planted:
    rule: str
    tenant_id: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in detail.items()}


def berlin_day(col: str) -> pl.Expr:
    """The local (Europe/Berlin) day of a UTC instant, as the rules' order_date."""
    return pl.col(col).dt.convert_time_zone("Europe/Berlin").dt.date()


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
        self.near_misses: list[Planted] = []  # edges a rule must not cross: each must stay clean
        self.used_articles: set[str] = set()

    def rng(self, rule: str) -> np.random.Generator:
        return self.ctx.rng(self.t.tenant_id, "plant", rule)

    def add(self, rule: str, entity_type: str, entity_id: str, **detail: Any) -> None:
        self.planted.append(Planted(rule, self.t.tenant_id, entity_type, str(entity_id), _clean(detail)))

    def near_miss(self, rule: str, entity_type: str, entity_id: str, edge: str, **detail: Any) -> None:
        """An entity right at an edge of the rule, on the clean side: it must not be found."""
        entry = Planted(rule, self.t.tenant_id, entity_type, str(entity_id), _clean({"edge": edge, **detail}))
        self.near_misses.append(entry)

    # ------------------------------------------------------------------ helpers on sales lines

    def _open_lines(self) -> pl.DataFrame:
        """Lines of orders that went ahead, with the order's channel, class and seller."""
        orders = self.f["sales_orders"].filter(pl.col("status") != "cancelled")
        return self.f["sales_order_lines"].join(
            orders.select("order_id", "channel", "sold_by", "status"), on="order_id", maintain_order="left"
        )

    def _unplanted(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Lines no break or near miss names yet, nor their order: relabelling one would undo it (a
        PSM-001 webshop line became the hydrogen peroxide near miss of EXP-001, the one PSM line of a
        PSM-005 order an EXP-002 precursor)."""
        entries = self.planted + self.near_misses
        named = [p.entity_id for p in entries if p.entity_type == "sales_order_line"]
        orders = [p.entity_id for p in entries if p.entity_type == "sales_order"]  # PSM-005's: their PSM lines
        return lines.filter(~pl.col("line_id").is_in(named) & ~pl.col("order_id").is_in(orders))

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

    def _verified_sachkunde(self) -> pl.Series:
        """Customers holding a verified Sachkunde: a PSM line relabelled for another rule must go to
        one of them (a line of a customer whose certificate unverified_sachkunde left unchecked was an
        unlisted PSM-001 break)."""
        certs = self.f["customer_certificates"]
        held = certs.filter((pl.col("kind") == "psm_sachkunde") & pl.col("verified_at").is_not_null())
        return held["customer_id"].unique().implode()

    def _qualified_seller(self, order_ids: pl.Series, rng: np.random.Generator) -> None:
        """The orders' seller (a webshop order's named responsible person) holds a Sachkunde."""
        staff = self.f["staff"].filter(pl.col("psm_sachkunde_no").is_not_null())["staff_id"]
        orders = self.f["sales_orders"]
        target = orders.filter(pl.col("order_id").is_in(order_ids.implode()))
        changes = target.select("order_id").with_columns(
            sold_by=pl.Series(staff.to_numpy()[rng.integers(0, staff.len(), size=target.height)]),
            _has_psm=pl.lit(True),
        )
        self.f["sales_orders"] = _update(orders, "order_id", changes)

    def _expired_pro_psm(self, before: dt.date) -> pl.DataFrame:
        """Professional PSM whose register end (the catalogue's, which the ERP copies) plus sell-out
        lies before `before`."""
        return self._articles(
            (pl.col("category") == "psm")
            & pl.col("psm_professional_only")
            & pl.col("psm_authorized_until").is_not_null()
            & (pl.col("_sellable_until") < pl.lit(before))
        ).sort("article_id")

    def psm_after_authorisation(self) -> None:
        """Sales of products whose register authorisation ended: after the sell-out period, or after the
        end itself where the ERP records a withdrawal for risk. The ERP's date agrees with the register
        (a disagreement is PSM-007's own planted break)."""
        rng = self.rng("PSM-002")
        k_articles = max(2, _k(self.ctx, self.t, "PSM-002"))
        expired = self._expired_pro_psm(self.ctx.as_of - dt.timedelta(days=40))
        for i, row in enumerate(_choose(rng, expired, k_articles).iter_rows(named=True)):
            aid, until = row["article_id"], row["psm_authorized_until"]
            withdrawal = "authority_risk" if i % 2 else row["psm_withdrawal_kind"] or "expired"
            limit = until if withdrawal == "authority_risk" else row["_sellable_until"]
            self._set_article(aid, psm_withdrawal_kind=withdrawal, _sellable_until=limit, is_active=False)
            # entitled buyers, so that the expiry is the one thing wrong
            lines = (
                self._open_lines()
                .filter(
                    (pl.col("_class") == "pro_skn")
                    & (berlin_day("ordered_at") > limit)
                    & (pl.col("_category") != "psm")
                    & pl.col("customer_id").is_in(self._verified_sachkunde())
                )
                .unique("order_id", keep="first")
                .sort("line_id")
            )
            chosen = _choose(rng, lines, 2)
            self._relabel_lines(chosen, self.f["articles"].filter(pl.col("article_id") == aid), rng)
            self._qualified_seller(chosen["order_id"], rng)
            sold = self._open_lines().filter((pl.col("article_id") == aid) & (berlin_day("ordered_at") > limit))
            for line_id, when in sold.select("line_id", "ordered_at").iter_rows():
                self.add("PSM-002", "sales_order_line", line_id, article_id=aid, bvl_no=row["psm_reg_no"],
                         authorized_until=until, withdrawal=withdrawal, sold_on=when.date())  # fmt: skip
            if withdrawal != "authority_risk":
                self._sold_in_sellout(rng, aid, until, limit)

    def _sold_in_sellout(self, rng: np.random.Generator, aid: str, until: dt.date, limit: dt.date) -> None:
        """Near miss: a sale after the authorisation end but within the sell-out period."""
        window = (berlin_day("ordered_at") > until) & (berlin_day("ordered_at") <= limit)
        inside = self._open_lines().filter((pl.col("article_id") == aid) & window & (pl.col("_class") == "pro_skn"))
        if inside.height == 0:
            spare = self._open_lines().filter(
                window & (pl.col("_class") == "pro_skn") & (pl.col("_category") != "psm")
                & pl.col("customer_id").is_in(self._verified_sachkunde())
            )  # fmt: skip
            chosen = _choose(rng, spare.unique("order_id", keep="first").sort("line_id"), 1)
            self._relabel_lines(chosen, self.f["articles"].filter(pl.col("article_id") == aid), rng)
            self._qualified_seller(chosen["order_id"], rng)
            inside = chosen
        for line_id in inside.sort("line_id")["line_id"].head(1):
            self.near_miss("PSM-002", "sales_order_line", line_id,
                           "sold after the authorisation end, within the six-month sell-out period")  # fmt: skip

    def psm_erp_register_mismatch(self) -> None:
        """The ERP records an earlier authorisation end than the register for one pack of a product:
        PSM-007. Its sales between the ERP's sell-out end and the register's stay clean (PSM-002 judges
        by the register): the near miss the review asked for."""
        rng = self.rng("PSM-007")
        arts = self._long_lived_pro_psm().filter(
            pl.col("psm_authorized_until") > pl.lit(self.ctx.as_of + dt.timedelta(days=200))
        )
        for row in _choose(rng, arts.sort("article_id"), _k(self.ctx, self.t, "PSM-007")).iter_rows(named=True):
            erp = row["psm_authorized_until"] - dt.timedelta(days=int(rng.integers(400, 700)))
            self._set_article(row["article_id"], psm_authorized_until=erp)
            self.add("PSM-007", "article", row["article_id"], bvl_no=row["psm_reg_no"], erp_authorized_until=erp,
                     register_authorized_until=row["psm_authorized_until"])  # fmt: skip
            sold = self._open_lines().filter(
                (pl.col("article_id") == row["article_id"]) & (berlin_day("ordered_at") > add_months(erp, 6))
            )
            for line_id in sold["line_id"].head(1):
                self.near_miss("PSM-002", "sales_order_line", line_id,
                               "sold after the ERP's sell-out end, but the register lists the product as authorised")  # fmt: skip

    def psm_stock_after_sellout(self) -> None:
        """A product past its sell-out period kept in stock instead of returned: PSM-008."""
        rng = self.rng("PSM-008")
        expired = self._expired_pro_psm(self.ctx.as_of)
        for row in _choose(rng, expired, _k(self.ctx, self.t, "PSM-008")).iter_rows(named=True):
            self._set_article(row["article_id"], _keep_stock=True)
            self.add("PSM-008", "article", row["article_id"], bvl_no=row["psm_reg_no"],
                     sellable_until=row["_sellable_until"])  # fmt: skip

    def psm_received_after_end(self) -> None:
        """A receipt of a product whose authorisation had already ended: PSM-009."""
        rng = self.rng("PSM-009")
        pol = self.f["purchase_order_lines"]
        received = pol.filter(pl.col("received_at").is_not_null() & (pl.col("status") != "cancelled"))
        psm = self.f["articles"].filter(pl.col("category") == "psm").select("article_id")
        received = received.join(psm, on="article_id", maintain_order="left").sort("po_line_id")
        expired = self._expired_pro_psm(self.ctx.as_of).select("article_id", "psm_authorized_until", "psm_reg_no")
        for row in _choose(rng, received, _k(self.ctx, self.t, "PSM-009")).iter_rows(named=True):
            day = row["received_at"].astimezone(dt.UTC).date()
            ended = expired.filter(pl.col("psm_authorized_until") < pl.lit(day - dt.timedelta(days=10)))
            if ended.height == 0:
                continue
            target = ended.row(int(rng.integers(0, ended.height)), named=True)
            self.f["purchase_order_lines"] = _update(
                self.f["purchase_order_lines"], "po_line_id",
                pl.DataFrame({"po_line_id": [row["po_line_id"]], "article_id": [target["article_id"]]}),
            )  # fmt: skip
            self.used_articles.add(target["article_id"])
            self.add("PSM-009", "purchase_order_line", row["po_line_id"], article_id=target["article_id"],
                     authorized_until=target["psm_authorized_until"], received_on=day)  # fmt: skip

    def psm_training_overdue(self) -> None:
        """An active Sachkunde holder whose three-yearly training is overdue: PSM-010."""
        rng = self.rng("PSM-010")
        holders = self.f["staff"].filter(pl.col("psm_sachkunde_no").is_not_null() & pl.col("active"))
        for sid in _choose(rng, holders.sort("staff_id"), _k(self.ctx, self.t, "PSM-010"))["staff_id"]:
            due = self.ctx.as_of - dt.timedelta(days=int(rng.integers(10, 300)))
            staff = self.f["staff"]
            self.f["staff"] = staff.with_columns(
                psm_training_due_on=pl.when(pl.col("staff_id") == sid)
                .then(pl.lit(due))
                .otherwise("psm_training_due_on")
            )
            self.add("PSM-010", "staff", sid, training_due_on=due)

    def _set_article(self, article_id: str, **values: Any) -> None:
        self.used_articles.add(article_id)
        arts = self.f["articles"]
        exprs = {c: pl.when(pl.col("article_id") == article_id).then(pl.lit(v, dtype=arts.schema[c])).otherwise(c)
                 for c, v in values.items()}  # fmt: skip
        self.f["articles"] = arts.with_columns(**exprs)

    def psm_staff_without_sachkunde(self) -> None:
        """PSM orders handed over by staff without a Sachkunde (subject: the staff member), and webshop
        PSM orders that name no Sachkunde holder (subject: the branch)."""
        rng = self.rng("PSM-005")
        k = _k(self.ctx, self.t, "PSM-005")
        unqualified = self.f["staff"].filter(pl.col("psm_sachkunde_no").is_null())["staff_id"]
        # only orders whose buyers are entitled, so that this is the one thing wrong
        entitled = self._open_lines().filter(pl.col("_class") == "pro_skn")["order_id"].unique()
        orders = (
            self.f["sales_orders"]
            .filter(
                pl.col("_has_psm") & (pl.col("status") != "cancelled") & pl.col("order_id").is_in(entitled.implode())
            )
            .sort("order_id")
        )
        chosen = _choose(rng, orders.filter(pl.col("channel") != "webshop"), k)
        seller = unqualified.to_numpy()[rng.integers(0, unqualified.len(), size=chosen.height)]
        unnamed = _choose(rng, orders.filter(pl.col("channel") == "webshop"), max(1, k // 3))
        changes = pl.DataFrame(
            {"order_id": pl.concat([chosen["order_id"], unnamed["order_id"]]),
             "sold_by": pl.Series([*seller.tolist(), *[None] * unnamed.height], dtype=pl.String)}
        )  # fmt: skip
        self.f["sales_orders"] = _update(self.f["sales_orders"], "order_id", changes)
        for oid, sid in zip(chosen["order_id"], seller, strict=False):
            self.add("PSM-005", "sales_order", oid, staff_id=sid)
        for oid in unnamed["order_id"]:
            self.add("PSM-005", "sales_order", oid, problem="webshop order without a named Sachkunde holder")

    def psm_webshop_private(self) -> None:
        """Professional PSM bought in the webshop by private customers without Sachkunde: PSM-001 (the
        former PSM-006 counted the same lines twice)."""
        rng = self.rng("PSM-006")
        k = _k(self.ctx, self.t, "PSM-001") // 4 + 1
        lines = self._open_lines().filter((pl.col("_class") == "private") & (pl.col("channel") == "webshop"))
        chosen = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._long_lived_pro_psm(), rng)
        self._qualified_seller(chosen["order_id"], rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("PSM-001", "sales_order_line", line_id, customer_id=cid, article_id=article_id,
                     reason="webshop order of a private customer without Sachkunde")  # fmt: skip

    def _annex_articles(self, annex: str | None = None) -> pl.DataFrame:
        pred = pl.col("precursor_annex").is_not_null() if annex is None else pl.col("precursor_annex") == annex
        return self.f["articles"].filter(pred)

    def precursor_to_private(self) -> None:
        self._below_limit_to_private()
        rng = self.rng("EXP-001")
        k = _k(self.ctx, self.t, "EXP-001")
        lines = self._unplanted(self._open_lines().filter(pl.col("_class") == "private"))
        chosen = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), k)
        changes = self._relabel_lines(chosen, self._annex_articles("I"), rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("EXP-001", "sales_order_line", line_id, customer_id=cid, article_id=article_id)

    def _below_limit_to_private(self) -> None:
        """Near miss: hydrogen peroxide below its Annex I limit (12 %) sold to a private customer."""
        rng = self.rng("EXP-001b")
        weak = self.f["articles"].filter(
            (pl.col("precursor_substance") == "Hydrogen peroxide") & (pl.col("precursor_concentration_pct") <= 12)
        )
        if weak.height == 0:
            return
        lines = self._unplanted(self._open_lines().filter(pl.col("_class") == "private"))
        sold = lines.filter(pl.col("article_id").is_in(weak["article_id"].implode()))
        if sold.height == 0:
            sold = _choose(rng, lines.unique("order_id", keep="first").sort("line_id"), 1)
            self._relabel_lines(sold, weak, rng)
        for line_id in sold.sort("line_id")["line_id"].head(1):
            self.near_miss("EXP-001", "sales_order_line", line_id,
                           "hydrogen peroxide 11.9 % (below the 12 % limit) sold to a private customer")  # fmt: skip

    def precursor_without_statement(self) -> set[str]:
        """Professionals who never bought precursors get one Annex I line and no statement; one more
        gets an Annex II line, which needs no statement (Art. 8 (2) covers restricted ones only)."""
        rng = self.rng("EXP-002")
        k = _k(self.ctx, self.t, "EXP-002")
        lines = self._open_lines()
        precursor_ids = self._annex_articles()["article_id"]
        buyers = lines.filter(pl.col("article_id").is_in(precursor_ids.implode()))["customer_id"].unique()
        checked = self.f["customer_certificates"].filter(pl.col("kind") == "id_verification")["customer_id"]
        candidates = (
            self._unplanted(lines)
            .filter(
                (pl.col("_class") != "private")
                & ~pl.col("customer_id").is_in(buyers.implode())
                & ~pl.col("customer_id").is_in(checked.implode())
            )
            .unique("customer_id", keep="first")
            .sort("line_id")
        )
        picked = _choose(rng, candidates, k + 1)
        chosen, spare = picked.head(k), picked.tail(max(0, picked.height - k))
        changes = self._relabel_lines(chosen, self._annex_articles("I"), rng)
        for line_id, article_id, cid in zip(
            changes["line_id"], changes["article_id"], chosen["customer_id"], strict=False
        ):
            self.add("EXP-002", "sales_order_line", line_id, customer_id=cid, article_id=article_id)
        if spare.height:
            changes = self._relabel_lines(spare, self._annex_articles("II"), rng)
            self.used_articles.update(changes["article_id"].to_list())  # EXP-007 must not reclassify it
            self.near_miss("EXP-002", "sales_order_line", changes["line_id"][0],
                           "Annex II precursor to a professional without customer statement")  # fmt: skip
        return set(picked["customer_id"])

    def _precursor_lines_kg(self) -> pl.DataFrame:
        """Went-ahead lines of precursor substances with their quantity in kg and the buyer's type."""
        arts = (
            self.f["articles"]
            .filter(pl.col("precursor_annex").is_not_null() & pl.col("precursor_substance").is_not_null())
            .select("article_id", "precursor_substance", "unit")
        )
        kinds = self.f["customers"].select("customer_id", "customer_type")
        return (
            self._open_lines().join(arts, on="article_id", maintain_order="left")
            .join(kinds, on="customer_id", maintain_order="left")
            .with_columns(quantity_kg=pl.col("quantity") * pl.when(pl.col("unit") == "t").then(1000).otherwise(1))
            .sort("ordered_at", "line_id")
        )  # fmt: skip

    def precursor_unusual_quantity(self, skip_customers: set[str]) -> None:
        """The last precursor line of a customer at three times its usual quantity: more than twice both
        the customer's own largest order of the past year and what its peers commonly buy (p90)."""
        rng = self.rng("EXP-003")
        k = _k(self.ctx, self.t, "EXP-003")
        lines = self._precursor_lines_kg()
        peers = lines.group_by("precursor_substance", "customer_type").agg(
            p90=pl.col("quantity_kg").quantile(0.9, interpolation="linear")
        )
        mine = lines.filter((pl.col("_class") != "private") & ~pl.col("customer_id").is_in(list(skip_customers)))
        history = mine.group_by("customer_id", "precursor_substance", "customer_type", maintain_order=True).agg(
            n=pl.len(),
            last_line=pl.col("line_id").last(),
            last_at=pl.col("ordered_at").last(),
            unit=pl.col("unit").last(),
            times=pl.col("ordered_at"),
            kg=pl.col("quantity_kg"),
        )
        candidates = (
            history.filter(pl.col("n") >= 3)
            .sort("last_line")
            .join(peers, on=["precursor_substance", "customer_type"], maintain_order="left")
        )
        groups: set[tuple[str, str]] = set()  # one per peer group: a second would move the first one's p90
        for i in rng.permutation(candidates.height):
            row = candidates.row(int(i), named=True)
            if len(groups) == k or (row["precursor_substance"], row["customer_type"]) in groups:
                continue
            year_before = row["last_at"] - dt.timedelta(days=365)
            own = max([q for t, q in zip(row["times"], row["kg"], strict=True) if year_before <= t < row["last_at"]],
                      default=0.0)  # fmt: skip
            kg = 3 * max(own, row["p90"])
            # the line itself moves its peers' p90 once it is among the largest (it did, by 18 %): in
            # a small group so far that it can never be twice the p90; such a customer is left out
            group = lines.filter(
                (pl.col("precursor_substance") == row["precursor_substance"])
                & (pl.col("customer_type") == row["customer_type"])
            )
            p90 = group.with_columns(
                quantity_kg=pl.when(pl.col("line_id") == row["last_line"]).then(kg).otherwise("quantity_kg")
            )["quantity_kg"].quantile(0.9, interpolation="linear")
            if kg <= 2.5 * max(own, p90):
                continue
            groups.add((row["precursor_substance"], row["customer_type"]))
            quantity = round(kg / 1000 if row["unit"] == "t" else kg, 3)
            self.f["sales_order_lines"] = _update(
                self.f["sales_order_lines"], "line_id",
                pl.DataFrame({"line_id": [row["last_line"]], "quantity": [quantity]}),
            )  # fmt: skip
            self.add("EXP-003", "sales_order_line", row["last_line"], customer_id=row["customer_id"],
                     own_max_kg=own, peer_p90_kg=p90, quantity_kg=kg)  # fmt: skip

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
        """A wrong or missing annex, and (every third) a nitrogen fertiliser whose N from ammonium
        nitrate is not recorded, which escaped every EXP rule before."""
        rng = self.rng("EXP-007")
        k = _k(self.ctx, self.t, "EXP-007")
        classified = self._articles(pl.col("precursor_annex").is_not_null()).sort("article_id")
        for i, (aid, annex, substance) in enumerate(
            _choose(rng, classified, k + 1).select("article_id", "precursor_annex", "precursor_substance").iter_rows()
        ):
            if i % 3 == 2 and substance == "Ammonium nitrate":
                self._set_article(aid, n_from_an_pct=None)
                self.add("EXP-007", "article", aid, problem="nitrogen from ammonium nitrate not recorded")
                continue
            wrong = None if i % 2 == 0 else ("II" if annex == "I" else "I")
            self._set_article(aid, precursor_annex=wrong)
            self.add("EXP-007", "article", aid, expected=annex, planted=wrong)

    def suppliers_lksg(self) -> None:
        rng = self.rng("LKSG")
        sup = self.f["suppliers"].filter(pl.col("deleted_at").is_null()).sort("supplier_id")
        # out of date for its risk level (high: 12 months, medium: 24 months), or never assessed
        at_risk = sup.filter(pl.col("lksg_risk_level").is_in(["high", "medium"]))
        stale = _choose(rng, at_risk, _k(self.ctx, self.t, "LKSG-001"))
        for i, (sid, level) in enumerate(stale.select("supplier_id", "lksg_risk_level").iter_rows()):
            age = int(rng.integers(400, 700)) if level == "high" else int(rng.integers(760, 1000))
            when = None if i % 2 else self.ctx.as_of - dt.timedelta(days=age)
            self._set_supplier(sid, lksg_assessed_on=when)
            self.add("LKSG-001", "supplier", sid, assessed_on=when, risk_level=level)
        taken = stale["supplier_id"].implode()
        low = sup.filter((pl.col("lksg_risk_level") == "low") & (pl.col("country_code") == "DE")
                         & ~pl.col("supplier_id").is_in(taken))  # fmt: skip
        for sid in _choose(rng, low, 1)["supplier_id"]:
            self._set_supplier(sid, lksg_assessed_on=self.ctx.as_of - dt.timedelta(days=800))
            self.near_miss("LKSG-001", "supplier", sid, "low-risk domestic supplier assessed two years ago")
        high = sup.filter((pl.col("lksg_risk_level") == "high") & ~pl.col("supplier_id").is_in(taken))
        for sid in _choose(rng, high, _k(self.ctx, self.t, "LKSG-002"))["supplier_id"]:
            self._set_supplier(sid, code_of_conduct_signed=False)
            self.add("LKSG-002", "supplier", sid)
        with_iban = sup.filter(pl.col("iban").is_not_null() & ~pl.col("supplier_id").is_in(taken))
        for sid, iban in (
            _choose(rng, with_iban, _k(self.ctx, self.t, "FIN-002")).select("supplier_id", "iban").iter_rows()
        ):
            check = (int(iban[2:4]) + 1) % 97 or 2
            bad = f"{iban[:2]}{check:02d}{iban[4:]}"
            self._set_supplier(sid, iban=bad)
            self.add("FIN-002", "supplier", sid, iban=bad)
        # a potash supplier named on the EU sanctions list (the packaged sample), and a customer whose
        # name only contains a listed one-word name, which is no match
        fertiliser = sup.filter((pl.col("_trade") == "fertilizer") & ~pl.col("supplier_id").is_in(taken))
        for sid in _choose(rng, fertiliser, _k(self.ctx, self.t, "FIN-004"))["supplier_id"]:
            self._set_supplier(sid, name="Belaruskali OAO")
            self.add("FIN-004", "business_partner", sid, listed_as="Belaruskali AAT", programme="BLR")
        contractors = self.f["customers"].filter(pl.col("customer_type") == "contractor").sort("customer_id")
        for cid in _choose(rng, contractors, 1)["customer_id"]:
            customers = self.f["customers"]
            self.f["customers"] = customers.with_columns(
                name=pl.when(pl.col("customer_id") == cid)
                .then(pl.lit("Belaruskali Logistik Meyer GmbH"))
                .otherwise("name")
            )
            self.near_miss("FIN-004", "business_partner", cid, "name contains a listed one-word name only")

    def _set_supplier(self, supplier_id: str, **values: Any) -> None:
        sup = self.f["suppliers"]
        exprs = {c: pl.when(pl.col("supplier_id") == supplier_id).then(pl.lit(v, dtype=sup.schema[c])).otherwise(c)
                 for c, v in values.items()}  # fmt: skip
        self.f["suppliers"] = sup.with_columns(**exprs)

    def eudr_without_dds(self) -> None:
        """Own imports of EUDR commodities without DDS reference (a break once the application date has
        passed); near misses: the same goods dispatched from an EU country, and wood from an EU sawmill."""
        rng = self.rng("LKSG-003")
        eu = ["DE", "NL", "BE", "FR", "AT", "DK", "PL", "IT", "ES"]
        pol = (
            self.f["purchase_order_lines"]
            .filter(pl.col("dds_reference").is_not_null() & (pl.col("status") != "cancelled"))
            .sort("po_line_id")
        )
        imports = pol.filter(~pl.col("origin_country_code").is_in(eu))
        picked = _choose(rng, imports, _k(self.ctx, self.t, "LKSG-003") + 1)
        chosen, via_eu = picked.head(picked.height - 1), picked.tail(1)
        domestic = _choose(rng, pol.filter(pl.col("origin_country_code").is_in(eu)), 1)
        changes = pl.concat([
            chosen.select("po_line_id", "dispatch_country_code", dds_reference=pl.lit(None, pl.String)),
            via_eu.select("po_line_id", dispatch_country_code=pl.lit("NL"), dds_reference=pl.lit(None, pl.String)),
            domestic.select("po_line_id", "dispatch_country_code", dds_reference=pl.lit(None, pl.String)),
        ])  # fmt: skip
        self.f["purchase_order_lines"] = _update(self.f["purchase_order_lines"], "po_line_id", changes)
        for lid, when in chosen.select("po_line_id", "ordered_at").iter_rows():
            self.add("LKSG-003", "purchase_order_line", lid, ordered_at=when.date(),
                     note="a violation once the EUDR application date has passed")  # fmt: skip
        for lid in via_eu["po_line_id"]:
            self.near_miss("LKSG-003", "purchase_order_line", lid,
                           "EUDR commodity dispatched from an EU country (NL): the importer files the DDS")  # fmt: skip
        for lid in domestic["po_line_id"]:
            self.near_miss("LKSG-003", "purchase_order_line", lid, "EUDR commodity bought from an EU supplier")

    def imports(self) -> None:
        rng = self.rng("TRACES")
        docs = self.f["import_documents"]
        pol = self.f["purchase_order_lines"]
        # TRACES-001: consignments that arrived without their documents ever being raised
        arrived_pos = pol.filter(pl.col("received_at").is_not_null())["po_id"].unique()
        candidates = docs.filter((pl.col("kind") != "COI") & pl.col("po_id").is_in(arrived_pos.implode()))
        missing = _choose(rng, candidates.unique("po_id").sort("po_id"), _k(self.ctx, self.t, "TRACES-001"))
        self.f["import_documents"] = docs.filter(~pl.col("po_id").is_in(missing["po_id"].implode()))
        arts = self.f["articles"].filter(pl.col("import_control").is_not_null() | pl.col("is_organic"))
        for lid, po in (
            pol.filter(pl.col("po_id").is_in(missing["po_id"].implode()) & pl.col("article_id").is_in(arts["article_id"].implode()))
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
        # TRACES-003: an organic lot whose COI was rejected at the border, sold all the same: every
        # sales line taken from the lot (batch_no) is a break
        docs = self.f["import_documents"]
        coi = docs.filter((pl.col("kind") == "COI") & (pl.col("status") == "endorsed"))
        organic = self.f["articles"].filter(pl.col("is_organic")).select("article_id")
        lots = pol.join(organic, on="article_id", maintain_order="left").join(
            coi.select("po_id", "arrival_at"), on="po_id", maintain_order="left"
        )
        sold = self._open_lines().select("line_id", "article_id", "batch_no", "ordered_at")
        traced = lots.join(sold, on=["article_id", "batch_no"], maintain_order="left", suffix="_sale").filter(
            pl.col("ordered_at_sale") > pl.col("arrival_at")
        )
        chosen = _choose(rng, traced.unique("po_id").sort("po_id"), _k(self.ctx, self.t, "TRACES-003"))
        self.f["import_documents"] = docs.with_columns(
            status=pl.when(pl.col("po_id").is_in(chosen["po_id"].implode()) & (pl.col("kind") == "COI"))
            .then(pl.lit("rejected"))
            .otherwise("status")
        )
        for line_id, po, lot in (
            traced.filter(pl.col("po_id").is_in(chosen["po_id"].implode())).select("line_id", "po_id", "batch_no")
            .iter_rows()
        ):  # fmt: skip
            self.add("TRACES-003", "sales_order_line", line_id, po_id=po, batch_no=lot)

    def manure(self) -> None:
        rng = self.rng("ENNI")
        md = self.f["manure_deliveries"]
        if md.height == 0:
            return
        # only in years the company's deliveries add up to more than 200 t is there a reporting duty
        yearly = md.group_by(year=pl.col("delivered_on").dt.year()).agg(t=pl.col("tonnes").sum())
        reportable = yearly.filter(pl.col("t") > 200)["year"]
        old = md.filter(
            (pl.col("delivered_on") < pl.lit(self.ctx.as_of - dt.timedelta(days=45)))
            & pl.col("delivered_on").dt.year().is_in(reportable.implode())
        ).sort("delivery_id")
        unreported = _choose(rng, old, _k(self.ctx, self.t, "ENNI-001") + 1)
        late = (
            unreported.tail(1)
            .filter(pl.col("delivered_on") < pl.lit(self.ctx.as_of - dt.timedelta(days=70)))
            .with_columns(reported_on=pl.col("delivered_on") + pl.duration(days=45))
        )
        unreported = unreported.head(unreported.height - 1)
        md = _update(md, "delivery_id", unreported.select(
            "delivery_id", report_ref=pl.lit(None, pl.String), reported_on=pl.lit(None, pl.Date),
            updated_at=pl.col("delivered_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(hours=14),
        ))  # fmt: skip
        md = _update(md, "delivery_id", late.select(
            "delivery_id", "reported_on",
            updated_at=pl.col("reported_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(hours=14),
        ))  # fmt: skip
        for did in unreported["delivery_id"]:
            self.add("ENNI-001", "manure_delivery", did, problem="not reported")
        for did in late["delivery_id"]:
            self.add("ENNI-001", "manure_delivery", did, problem="reported 45 days after the delivery")
        taken = pl.concat([unreported["delivery_id"], late["delivery_id"]]).implode()
        rest = md.filter(
            ~pl.col("delivery_id").is_in(taken)
            & (pl.col("delivered_on") < pl.lit(self.ctx.as_of - dt.timedelta(days=40)))
        ).sort("delivery_id")
        gaps = _choose(rng, rest, _k(self.ctx, self.t, "ENNI-002") + 1)
        for i, did in enumerate(gaps["delivery_id"]):
            column = "n_animal_kg_per_t" if i % 2 else "n_kg_per_t"
            md = _update(md, "delivery_id", pl.DataFrame({"delivery_id": [did], column: [None]},
                                                          schema={"delivery_id": pl.String, column: pl.Float64}))  # fmt: skip
            self.add("ENNI-002", "manure_delivery", did, missing=column)
        # near miss: the latest delivery, ten days old, not yet reported and without its N: inside its window
        taken = pl.concat([taken.explode(), gaps["delivery_id"]]).implode()
        latest = md.filter(~pl.col("delivery_id").is_in(taken)).sort("delivered_on", "delivery_id").tail(1)
        fresh = self.ctx.as_of - dt.timedelta(days=10)
        md = _update(md, "delivery_id", latest.select(
            "delivery_id", delivered_on=pl.lit(fresh), report_ref=pl.lit(None, pl.String), reported_on=pl.lit(None, pl.Date),
            n_kg_per_t=pl.lit(None, pl.Float64),
            updated_at=pl.lit(dt.datetime.combine(fresh, dt.time(14), tzinfo=dt.UTC)).dt.cast_time_unit("us"),
        ))  # fmt: skip
        for did in latest["delivery_id"]:
            self.near_miss(
                "ENNI-001", "manure_delivery", did, "delivered ten days ago, not yet reported: inside the month"
            )
            self.near_miss(
                "ENNI-002", "manure_delivery", did, "delivered ten days ago, N not yet recorded: inside the month"
            )
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
        # erasures, an access request, and an erasure a retention duty blocks (the hold changes the answer,
        # not the one-month deadline)
        kinds = ["access" if i % 3 == 1 else "erasure" for i in range(who.height)]
        holds = [i % 3 == 2 for i in range(who.height)]
        overdue = pl.DataFrame(
            {
                "request_id": uuids(rng, who.height), "tenant_id": self.t.tenant_id, "customer_id": who["customer_id"],
                "kind": kinds, "received_at": pl.Series(received, dtype=UTC_US),
                "completed_at": pl.Series([None] * who.height, dtype=UTC_US), "status": "open", "legal_hold": holds,
            }
        ).with_columns(updated_at=pl.col("received_at"))  # fmt: skip
        self.f["gdpr_requests"] = pl.concat([self.f["gdpr_requests"], overdue.select(self.f["gdpr_requests"].columns)])
        for rid, cid, r, kind, hold in zip(overdue["request_id"], who["customer_id"], received, kinds, holds,
                                           strict=False):  # fmt: skip
            self.add("GDPR-001", "gdpr_request", rid, customer_id=cid, received_at=r, kind=kind, legal_hold=hold)
        held = (
            self.f["gdpr_requests"].filter(pl.col("legal_hold") & (pl.col("status") == "rejected")).sort("request_id")
        )
        for rid in held["request_id"].head(1):
            self.near_miss("GDPR-001", "gdpr_request", rid, "erasure blocked by a retention duty, answered in time")
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
        return self._marketing(rng, cust)

    def _marketing(self, rng: np.random.Generator, cust: pl.DataFrame) -> pl.DataFrame:
        """GDPR-003 breaks: an e-mail campaign to a customer who objected (revoked the consent), to a
        prospect without consent, a phone campaign to a consumer without consent. Near misses: an e-mail
        to an existing customer without consent (§ 7 (3) UWG), a phone call to a business without one
        (presumed consent, § 7 (2) Nr. 1 UWG). Returns the extra campaign recipients."""
        from neuroerp.seed.events import campaign_dates

        campaigns = campaign_dates(self.ctx)
        if not campaigns:
            return pl.DataFrame(schema=MARKETING_SCHEMA)
        consents = self.f["consents"]
        orders = self.f["sales_orders"].filter(pl.col("status") != "cancelled")
        first = orders.group_by("customer_id").agg(first_order=pl.col("ordered_at").min())
        cust = cust.join(first, on="customer_id", how="left", maintain_order="left")
        k = _k(self.ctx, self.t, "GDPR-003")
        rows: list[dict] = []
        picked: set[str] = set()

        def send(pool: pl.DataFrame, n: int, purpose: str, when_ok) -> list[tuple[str, str]]:
            out = []
            for row in _choose(rng, pool.filter(~pl.col("customer_id").is_in(list(picked))), n).iter_rows(named=True):
                fitting = [(w, title) for w, title in campaigns if when_ok(row, w)]
                if not fitting:
                    continue
                when, title = fitting[int(rng.integers(0, len(fitting)))]
                picked.add(row["customer_id"])
                rows.append({"tenant_id": self.t.tenant_id, "customer_id": row["customer_id"], "campaign": title,
                             "purpose": purpose})  # fmt: skip
                out.append((row["customer_id"], title))
            return out

        email_holders = consents.filter(pl.col("purpose") == "marketing_email")["customer_id"]
        phone_holders = consents.filter(pl.col("purpose") == "marketing_phone")["customer_id"]
        revoked = consents.filter((pl.col("purpose") == "marketing_email") & pl.col("revoked_at").is_not_null())
        objected = cust.join(revoked.select("customer_id", "revoked_at"), on="customer_id", maintain_order="left")
        for cid, title in send(objected, max(1, k // 3), "marketing_email", lambda r, w: r["revoked_at"] < w):
            self.add("GDPR-003", "customer", cid, campaign=title, problem="e-mail after the customer objected")
        no_email_consent = cust.filter(
            pl.col("email").is_not_null() & ~pl.col("customer_id").is_in(email_holders.implode())
        )
        prospects = no_email_consent.filter(
            pl.col("first_order").is_null() | (pl.col("first_order") > pl.lit(campaigns[0][0]))
        )
        for cid, title in send(prospects, max(1, k // 3), "marketing_email",
                               lambda r, w: r["first_order"] is None or r["first_order"] > w):  # fmt: skip
            self.add("GDPR-003", "customer", cid, campaign=title, problem="e-mail to a prospect without consent")
        no_phone_consent = cust.filter(
            pl.col("phone").is_not_null() & ~pl.col("customer_id").is_in(phone_holders.implode())
        )
        consumers = no_phone_consent.filter(~pl.col("is_professional"))
        for cid, title in send(consumers, max(1, k - 2 * max(1, k // 3)), "marketing_phone", lambda r, w: True):
            self.add("GDPR-003", "customer", cid, campaign=title, problem="phone call to a consumer without consent")
        customers = no_email_consent.filter(pl.col("first_order") < pl.lit(campaigns[-1][0]))
        for cid, _ in send(
            customers, 1, "marketing_email", lambda r, w: r["first_order"] is not None and r["first_order"] < w
        ):
            self.near_miss(
                "GDPR-003", "customer", cid, "e-mail to an existing customer who never objected (§ 7 (3) UWG)"
            )
        businesses = no_phone_consent.filter(pl.col("is_professional"))
        for cid, _ in send(businesses, 1, "marketing_phone", lambda r, w: True):
            self.near_miss(
                "GDPR-003", "customer", cid, "phone call to a business: presumed consent (§ 7 (2) Nr. 1 UWG)"
            )
        return pl.DataFrame(rows, schema=MARKETING_SCHEMA)

    # ------------------------------------------------------------ phase 3: stock and finance

    def expiring_stock(self) -> None:
        """Stocked PSM articles that become a product whose sell-out period ends within 10 to 80 days:
        the article takes that product's BVL number and register dates (ERP and register agree), and it
        was received before that product's authorisation ended."""
        rng = self.rng("PSM-004")
        register = reference.bvl_products()
        low, high = (
            add_months(self.ctx.as_of, -6) + dt.timedelta(days=10),
            add_months(self.ctx.as_of, -6) + dt.timedelta(days=80),
        )
        used = set(self.f["articles"]["psm_reg_no"].drop_nulls().to_list())
        products = register.filter(
            pl.col("authorised_until").is_between(low, high) & ~pl.col("kennr").is_in(list(used))
        ).sort("kennr")
        in_stock = self.f["stock_levels"].filter(pl.col("on_hand") > 0)["article_id"].unique()
        last_receipt = (
            self.f["purchase_order_lines"]
            .filter(pl.col("received_at").is_not_null())
            .group_by("article_id")
            .agg(last=pl.col("received_at").max())
        )
        psm = self._articles(
            (pl.col("category") == "psm") & pl.col("article_id").is_in(in_stock.implode())
            & (pl.col("psm_authorized_until") > pl.lit(self.ctx.as_of + dt.timedelta(days=120)))
        ).join(last_receipt, on="article_id", how="left", maintain_order="left").filter(
            pl.col("last").is_null() | (pl.col("last") < pl.lit(dt.datetime.combine(low - dt.timedelta(days=190), dt.time(), tzinfo=dt.UTC)))
        ).sort("article_id")  # fmt: skip
        chosen = _choose(rng, psm, min(_k(self.ctx, self.t, "PSM-004"), products.height))
        picks = _choose(rng, products, chosen.height)
        for aid, product in zip(chosen["article_id"], picks.iter_rows(named=True), strict=False):
            until = product["authorised_until"]
            self._set_article(aid, psm_reg_no=product["kennr"], psm_authorized_until=until, psm_withdrawal_kind="expired",
                              _sellable_until=add_months(until, 6))  # fmt: skip
            self.add("PSM-004", "article", aid, bvl_no=product["kennr"], authorized_until=until,
                     sellable_until=add_months(until, 6))  # fmt: skip

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

        # significant (Art. 9 (5)): from 100 kg on (half a tonne to 2.5 t of bulk, 150 to 500 kg of packed goods)
        units = chosen.join(self.f["articles"].select("article_id", "unit"), on="article_id", maintain_order="left")[
            "unit"
        ]
        bulk = (units == "t").to_numpy()
        qty = -np.where(
            bulk,
            np.round(rng.uniform(0.5, 2.5, size=chosen.height), 1),
            np.round(rng.uniform(150, 500, size=chosen.height), 0),
        )
        # every third is a short inventory count (an adjustment), the last one a small loss below the threshold
        kinds = ["adjustment" if i % 3 == 2 else "loss" for i in range(chosen.height)]
        qty = np.append(qty, -0.05 if bulk.size and bulk[0] else -40.0)
        kinds.append("loss")
        chosen = pl.concat([chosen, chosen.head(1)])
        days = np.append(days, days[:1])
        moves = pl.DataFrame(
            {
                "article_id": chosen["article_id"], "warehouse_id": chosen["warehouse_id"], "quantity": qty,
                "kind": kinds, "occurred_at": business_instants(rng, days),
                "reference_id": pl.Series([None] * chosen.height, dtype=pl.String),
                "movement_id": uuids(rng, chosen.height), "tenant_id": self.t.tenant_id,
            }
        )  # fmt: skip
        self.book_movements(moves)
        for i, (mid, aid, kind, q) in enumerate(
            moves.select("movement_id", "article_id", "kind", "quantity").iter_rows()
        ):
            if i == moves.height - 1:
                self.near_miss("EXP-006", "stock_movement", mid, "precursor loss below the significance threshold",
                               quantity=q)  # fmt: skip
            else:
                self.add("EXP-006", "stock_movement", mid, article_id=aid, kind=kind, quantity=q)

    def book_movements(self, moves: pl.DataFrame) -> None:
        """Add stock movements and let the stock levels follow them."""
        self.f["stock_movements"] = pl.concat(
            [self.f["stock_movements"], moves.select(self.f["stock_movements"].columns)]
        ).sort("occurred_at")
        delta = moves.group_by("article_id", "warehouse_id", maintain_order=True).agg(_d=pl.col("quantity").sum())
        self.f["stock_levels"] = (
            self.f["stock_levels"].join(delta, on=["article_id", "warehouse_id"], how="left", maintain_order="left")
            .with_columns(on_hand=(pl.col("on_hand") + pl.col("_d").fill_null(0)).round(3)).drop("_d")
        )  # fmt: skip

    def unjustified_skonto(self) -> None:
        rng = self.rng("FIN-001")
        inv = self.f["invoices"].filter((pl.col("kind") == "AR") & pl.col("skonto_pct").is_not_null())
        pays = self.f["payments"].join(inv.select("invoice_id", "invoice_date", "skonto_pct", "skonto_days", "gross_amount"),
                                      on="invoice_id", maintain_order="left")  # fmt: skip
        single = pays.filter(pl.len().over("invoice_id") == 1)
        # paid well after the window, also after a deadline moved to the next workday (§ 193 BGB)
        late = single.filter(
            (pl.col("paid_on") > pl.col("invoice_date") + pl.duration(days=pl.col("skonto_days") + 4))
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
        inv = self.f["invoices"].filter(
            (pl.col("kind") == "AP") & pl.col("partner_id").is_in(grain.implode()) & (pl.col("status") != "cancelled")
        )  # a cancelled invoice's terms bind nobody: FIN-003 rightly skips it
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


def audit_gaps(ctx: Context, audit: pl.DataFrame) -> tuple[pl.DataFrame, list[Planted], list[Planted]]:
    """Remove a few login rows from the audit trail: the sequence shows the gap. One more missing
    number stands for a rolled-back transaction, as PostgreSQL sequences leave them: a near miss
    (no evidence unless the ERP guarantees gapless numbers; then it is found like the others).

    Logins, so that the only trace is the gap (a missing invoice row would also be a GOBD-001).
    """
    rng = ctx.rng("plant", "GOBD-002")
    k = max(1, round(PLANTED_AT_SCALE_1["GOBD-002"] * max(ctx.scale, 0.34)))
    # logins next to a number already missing (the grace period's edge, edges.audit_grace) would merge
    # with its gap into one range
    seqs = audit["seq"]
    beside = (seqs.shift(1) == seqs - 1).fill_null(True) & (seqs.shift(-1) == seqs + 1).fill_null(True)
    logins = audit.filter((pl.col("action") == "login") & beside)["seq"].to_numpy()
    gone = np.sort(rng.choice(logins[5:-5], size=k + 1, replace=False))
    rows = audit.filter(pl.col("seq").is_in(gone.tolist()))
    entries = [
        Planted("GOBD-002", tenant, "audit_log", str(seq), {"missing_seq": int(seq)})
        for seq, tenant in rows.select("seq", "tenant_id").iter_rows()
    ]
    rolled_back = entries.pop(int(rng.integers(0, len(entries))))
    rolled_back.detail = {"edge": "a sequence value of a rolled-back transaction", **rolled_back.detail}
    return audit.filter(~pl.col("seq").is_in(gone.tolist())), entries, [rolled_back]
