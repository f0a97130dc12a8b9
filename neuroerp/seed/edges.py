"""Planted breaks exactly at a rule's edge, and near misses one unit inside it.

A break far from its threshold proves little: a rule that compares with `>` instead of `>=`, counts
a day too many or reads a UTC day where the law means a German one finds it all the same. For each
rule with a threshold or a date, the generator therefore plants the first entity that breaks it
(the day, second, kilogram or day of payment term right at the edge) and the last one that does not
(one unit inside), both in the manifest with `detail.edge` and `detail.unit`. The oracle
(`tests/seed_rules.py`) and the SQL rules must agree on both, so a boundary either of them gets
wrong shows as a disagreement on the demo data.

Where it matters, the instant is one at which a UTC day or year differs from the German one (a
certificate checked at 00:20 in Berlin, a webshop registration at 00:30 on New Year's Day): the
rules judge German days. Each edge draws from its own random stream and leaves alone what other
breaks and near misses name; where the data offers no fitting entity (a tenant without manure
trade, a day without sales), that edge is left out for the tenant rather than forced.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from neuroerp import reference
from neuroerp.finance.calendar import easter_sunday
from neuroerp.seed.master import UTC_US, add_months
from neuroerp.seed.randomness import business_instants, uuids
from neuroerp.seed.violations import FOUND_WITH, Planted, Planter, berlin_day

BERLIN = ZoneInfo("Europe/Berlin")
ONE_DAY = dt.timedelta(days=1)
ONE_SECOND = dt.timedelta(seconds=1)

# Rules with an edge planted both ways in the demo data (seed 7, scale 0.01): tests hold the
# generator to them.
EDGE_RULES = (
    "PSM-001", "PSM-002", "PSM-004", "PSM-008", "PSM-009", "PSM-010", "EXP-002", "EXP-003", "EXP-004", "EXP-006",
    "ENNI-001", "ENNI-002", "TRACES-002", "LKSG-001", "GDPR-001", "GDPR-002", "GOBD-002", "FIN-001", "FIN-003",
)  # fmt: skip
# the audit log's grace period under which GOBD-002's edge is judged (see audit_grace)
GOBD_GRACE_MINUTES = int(FOUND_WITH["GOBD-002"]["gobd_gap_grace_minutes"])


def berlin(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """The UTC instant of a German wall-clock time."""
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=BERLIN).astimezone(dt.UTC)


@cache
def holidays(year: int) -> frozenset[dt.date]:
    """Germany's nine nationwide public holidays (what finance.calendar and the rules count)."""
    easter = easter_sunday(year)
    return frozenset(
        {dt.date(year, 1, 1), easter - 2 * ONE_DAY, easter + ONE_DAY, dt.date(year, 5, 1), easter + 39 * ONE_DAY,
         easter + 50 * ONE_DAY, dt.date(year, 10, 3), dt.date(year, 12, 25), dt.date(year, 12, 26)}
    )  # fmt: skip


def is_workday(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def next_workday(day: dt.date) -> dt.date:
    """The day itself when it is a workday, else the next one (§ 193 BGB)."""
    while not is_workday(day):
        day += ONE_DAY
    return day


def previous_workday(day: dt.date) -> dt.date:
    """The last workday before the day."""
    day -= ONE_DAY
    while not is_workday(day):
        day -= ONE_DAY
    return day


def month_before(day: dt.date, months: int = 1) -> dt.date | None:
    """The day that is `months` months before `day` by the rules' month arithmetic (a month added
    to it gives `day` back), or None where no day does (the 30th of March has no such day in
    February)."""
    start = add_months(day, -months)
    for candidate in (start, start - ONE_DAY, start + ONE_DAY):
        if add_months(candidate, months) == day:
            return candidate
    return None


def precursor_status(articles: pl.DataFrame) -> pl.DataFrame:
    """Each article with whether EU 2019/1148 restricts it (Annex I above its limit) and whether it is
    reportable at all, by content where it is recorded, else by the recorded annex, as
    compliance.precursor_articles judges them."""
    limits = reference.precursors().select(pl.col("substance").alias("precursor_substance"), "annex", "limit_value")
    judged = articles.join(limits, on="precursor_substance", how="left")
    an = (pl.col("precursor_substance") == "Ammonium nitrate") | pl.col("precursor_substance").is_null()
    above = (pl.col("annex") == "I") & ~an & (pl.col("precursor_concentration_pct") > pl.col("limit_value"))
    below = (
        pl.when(an)
        .then(pl.col("n_from_an_pct") < 16)
        .when(pl.col("annex") == "I")
        .then(pl.col("precursor_concentration_pct") <= pl.col("limit_value"))
    )
    by_content_i = (pl.col("n_from_an_pct") >= 16).fill_null(False) | above.fill_null(False)
    return judged.with_columns(
        restricted=by_content_i | ((pl.col("precursor_annex") == "I").fill_null(False) & ~below.fill_null(False)),
        reportable=by_content_i | (pl.col("annex") == "II").fill_null(False) | pl.col("precursor_annex").is_not_null(),
    )


def _us(value: dt.datetime | None) -> pl.Expr:
    return pl.lit(value, dtype=UTC_US)


class EdgePlanter:
    """Plants the edges of one tenant's rules, recording them through its Planter."""

    def __init__(self, planter: Planter) -> None:
        self.p = planter
        self.ctx, self.t = planter.ctx, planter.t
        self.customers: set[str] = set()  # customers an edge relies on: no other edge may change them

    @property
    def f(self) -> dict[str, pl.DataFrame]:
        return self.p.f

    def rng(self, rule: str) -> np.random.Generator:
        return self.ctx.rng(self.t.tenant_id, "edge", rule)

    def taken(self) -> set[str]:
        """Every entity a break or near miss already names, and the customers behind them."""
        entries: list[Planted] = self.p.planted + self.p.near_misses
        ids = {p.entity_id for p in entries}
        ids |= {str(p.detail["customer_id"]) for p in entries if p.detail.get("customer_id")}
        return ids | self.customers

    def brk(self, rule: str, entity_type: str, entity_id: str, edge: str, unit: str, **detail: Any) -> None:
        self.p.add(rule, entity_type, entity_id, edge=edge, unit=unit, **detail)

    def near(self, rule: str, entity_type: str, entity_id: str, edge: str, unit: str, **detail: Any) -> None:
        self.p.near_miss(rule, entity_type, entity_id, edge, unit=unit, **detail)

    def _update(self, table: str, key: str, changes: pl.DataFrame) -> None:
        self.f[table] = self.f[table].update(changes, on=key, how="left", include_nulls=True)

    # ------------------------------------------------------------------ PSM: sales and certificates

    def _lines(self, predicate: pl.Expr) -> pl.DataFrame:
        """Planter._open_lines for the lines the predicate (on the line's own columns) keeps, with
        their German order day: filtered before the join, which at scale 1 reads a million lines."""
        orders = self.f["sales_orders"].filter(pl.col("status") != "cancelled")
        return (
            self.f["sales_order_lines"]
            .filter(predicate)
            .join(orders.select("order_id", "channel", "sold_by", "status"), on="order_id", maintain_order="left")
            .with_columns(day=berlin_day("ordered_at"))
        )

    def _entitled_lines(self) -> pl.DataFrame:
        """Went-ahead lines of other goods bought by customers with a verified Sachkunde, free to be
        relabelled: no break or near miss names their line, order or customer."""
        taken = list(self.taken())
        # not precursors: a relabelled precursor line would change the quantities EXP-003 compares with
        precursor = self.f["articles"].filter(
            pl.col("precursor_substance").is_not_null() | pl.col("precursor_annex").is_not_null()
        )["article_id"]
        return self._lines(
            (pl.col("_class") == "pro_skn")
            & (pl.col("_category") != "psm")
            & ~pl.col("article_id").is_in(precursor.implode())
            & ~pl.col("line_id").is_in(taken)
            & ~pl.col("order_id").is_in(taken)
            & ~pl.col("customer_id").is_in(taken)
        )

    def sell_out(self) -> None:
        """PSM-002: a product whose register authorisation ended is sold on the last day of its
        six-month sell-out period (clean) and on the day after (a break). Register ends fall on few
        days (the 15th, a month's end), so a catalogue article rarely has sales on both: an article
        takes the BVL number and dates of a product of the same formulation whose sell-out period
        ended on such a day (ERP and register agree), preferably one already delisted and sold out
        before; sales of it after the end, if any, are breaks too."""
        rng = self.rng("PSM-002")
        register = (
            reference.bvl_products()
            .group_by("kennr")
            .agg(until=pl.col("authorised_until").max(), formulation=pl.col("formulation").first())
        )
        products = (
            register.filter(~pl.col("kennr").is_in(self.f["articles"]["psm_reg_no"].drop_nulls().implode()))
            .with_columns(last=pl.col("until").dt.offset_by("6mo"))  # as add_months: 31 Aug + 6 months = 28 Feb
            .filter(pl.col("last").is_between(self.ctx.history_start + 30 * ONE_DAY, self.ctx.as_of - 3 * ONE_DAY))
        )
        lines = self._entitled_lines()
        days = lines["day"].unique().implode()
        fitting = products.filter(pl.col("last").is_in(days) & pl.col("last").dt.offset_by("1d").is_in(days))
        articles = self.p._articles(
            (pl.col("category") == "psm")
            & pl.col("psm_professional_only")
            & pl.col("deleted_at").is_null()
            & (pl.col("psm_withdrawal_kind") != "authority_risk").fill_null(True)
        ).join(register.select(psm_reg_no="kennr", formulation="formulation"), on="psm_reg_no")
        pairs = articles.select("article_id", "formulation", "is_active").join(
            fitting.select("last", "formulation").unique(), on="formulation"
        )  # the same formulation: the article's search document and its queries stay as they were
        if pairs.height == 0:
            return
        sold = self._lines(pl.col("article_id").is_in(pairs["article_id"].implode()))
        counts = (
            pairs.join(sold.select("article_id", "day"), on="article_id", how="left")
            .group_by("article_id", "last", "formulation", "is_active")
            .agg(after=(pl.col("day") > pl.col("last")).sum())
        )
        best = counts.sort("after", "is_active", "last", "article_id").filter(
            (pl.col("after") == pl.col("after").first()) & (pl.col("is_active") == pl.col("is_active").first())
        )
        aid, last, formulation, _, _ = best.row(int(rng.integers(0, best.height)))
        candidates = fitting.filter((pl.col("last") == last) & (pl.col("formulation") == formulation)).sort("kennr")
        product = candidates.row(int(rng.integers(0, candidates.height)), named=True)
        self.p._set_article(aid, psm_reg_no=product["kennr"], psm_authorized_until=product["until"],
                            psm_withdrawal_kind="expired", _sellable_until=last, is_active=False)  # fmt: skip
        for line_id, day in (
            sold.filter((pl.col("article_id") == aid) & (pl.col("day") > pl.lit(last)))
            .select("line_id", "day")
            .sort("line_id")
            .iter_rows()
        ):
            self.p.add("PSM-002", "sales_order_line", line_id, article_id=aid, bvl_no=product["kennr"],
                       authorized_until=product["until"], sellable_until=last, sold_on=day)  # fmt: skip
        target = self.f["articles"].filter(pl.col("article_id") == aid)
        for day, clean in ((last, True), (last + ONE_DAY, False)):
            pool = lines.filter((pl.col("day") == day) & ~pl.col("customer_id").is_in(list(self.customers)))
            if pool.height == 0:  # the day's only buyer bought on the other day too
                continue
            pool = pool.sort("line_id")
            chosen = pool[[int(rng.integers(0, pool.height))]]
            self.p._relabel_lines(chosen, target, rng)
            self.p._qualified_seller(chosen["order_id"], rng)
            self.customers.add(chosen["customer_id"][0])
            edge = "the six-month sell-out period's last day" if clean else "the day after the sell-out period"
            (self.near if clean else self.brk)(
                "PSM-002", "sales_order_line", chosen["line_id"][0], f"sold on {edge}", "day",
                article_id=aid, bvl_no=product["kennr"], authorized_until=product["until"], sellable_until=last,
                sold_on=day,
            )  # fmt: skip

    def sachkunde(self) -> None:
        """PSM-001 at the certificate's edges: valid through the day of the last sale (clean) or
        only through the day before (a break); checked on the day of the first sale (clean) or at
        00:20 the night after it (a break: on a UTC clock that is still the day of the sale)."""
        rng = self.rng("PSM-001")
        certs = self.f["customer_certificates"].filter(pl.col("kind") == "psm_sachkunde")
        single = certs.filter(
            (pl.len().over("customer_id") == 1) & pl.col("verified_at").is_not_null() & pl.col("valid_until").is_null()
        )
        pro_psm = self.f["articles"].filter((pl.col("category") == "psm") & pl.col("psm_professional_only"))
        taken = self.taken()
        lines = self._lines(pl.col("article_id").is_in(pro_psm["article_id"].implode()))
        per_customer = (
            lines.group_by("customer_id")
            .agg(first=pl.col("day").min(), last=pl.col("day").max())
            .join(single.select("customer_id", "certificate_id", "verified_at"), on="customer_id")
            .filter(
                ~pl.col("customer_id").is_in(list(taken))
                & (pl.col("last") <= pl.lit(self.ctx.as_of - 2 * ONE_DAY))
                & (berlin_day("verified_at") < pl.col("first"))
            )
            .sort("customer_id")
        )
        if per_customer.height < 4:
            return
        picked = per_customer[np.sort(rng.choice(per_customer.height, size=4, replace=False)).tolist()]
        rows = list(picked.iter_rows(named=True))
        edges = [
            (rows[0], {"valid_until": rows[0]["last"]}, True, "certificate valid through the day of the sale"),
            (rows[1], {"valid_until": rows[1]["last"] - ONE_DAY}, False,
             "certificate valid only through the day before the sale"),
            (rows[2], {"verified_at": berlin(rows[2]["first"], 7, 40)}, True,
             "certificate checked on the day of the sale"),
            (rows[3], {"verified_at": berlin(rows[3]["first"] + ONE_DAY, 0, 20)}, False,
             "certificate checked at 00:20 the night after the sale (still the sale's day in UTC)"),
        ]  # fmt: skip
        for row, change, clean, edge in edges:
            cid = row["customer_id"]
            self.customers.add(cid)
            verified = change.get("verified_at", row["verified_at"])
            valid = change.get("valid_until")
            changed = max(verified, berlin(valid, 10)) if valid else verified
            self._update("customer_certificates", "certificate_id", pl.DataFrame(
                {"certificate_id": [row["certificate_id"]], "valid_until": [valid], "verified_at": [verified],
                 "updated_at": [changed]},
                schema={"certificate_id": pl.String, "valid_until": pl.Date, "verified_at": UTC_US,
                        "updated_at": UTC_US},
            ))  # fmt: skip
            judged = row["last"] if valid is not None else row["first"]
            on_day = lines.filter((pl.col("customer_id") == cid) & (pl.col("day") == judged)).sort("line_id")
            detail = {"customer_id": cid, "sold_on": judged, **change}
            if clean:
                self.near("PSM-001", "sales_order_line", on_day["line_id"][0], edge, "day", **detail)
            else:
                for line_id in on_day["line_id"]:
                    self.brk("PSM-001", "sales_order_line", line_id, edge, "day", **detail)

    def training(self) -> None:
        """PSM-010: a Sachkunde holder's training due today (clean) and due yesterday (a break)."""
        rng = self.rng("PSM-010")
        taken = self.taken()
        holders = (
            self.f["staff"]
            .filter(pl.col("psm_sachkunde_no").is_not_null() & pl.col("active") & ~pl.col("staff_id").is_in(list(taken)))
            .sort("staff_id")
        )  # fmt: skip
        if holders.height < 2:
            return
        chosen = holders[np.sort(rng.choice(holders.height, size=2, replace=False)).tolist()]
        for sid, (due, clean) in zip(chosen["staff_id"], ((self.ctx.as_of, True), (self.ctx.as_of - ONE_DAY, False)),
                                     strict=True):  # fmt: skip
            self.f["staff"] = self.f["staff"].with_columns(
                psm_training_due_on=pl.when(pl.col("staff_id") == sid)
                .then(pl.lit(due))
                .otherwise("psm_training_due_on")
            )
            if clean:
                self.near("PSM-010", "staff", sid, "training due today", "day", training_due_on=due)
            else:
                self.brk("PSM-010", "staff", sid, "training due yesterday", "day", training_due_on=due)

    # ---------------------------------------------------------------------------- precursors

    def unusual_quantity(self, skip_customers: set[str]) -> None:
        """EXP-003: a customer's last bulk purchase of a precursor at exactly twice its largest of the
        past 365 days (clean), and another's at twice plus one kilogram (a break). Only customers whose
        own history, not their peers' p90, is the baseline, and only where the new quantity leaves
        the peers' p90 as it was."""
        rng = self.rng("EXP-003")
        taken = self.taken() | skip_customers
        lines = self.p._precursor_lines_kg()
        mine = lines.filter((pl.col("_class") != "private") & ~pl.col("customer_id").is_in(list(taken)))
        history = (
            mine.group_by("customer_id", "precursor_substance", "customer_type", maintain_order=True)
            .agg(n=pl.len(), last_line=pl.col("line_id").last(), last_at=pl.col("ordered_at").last(),
                 times=pl.col("ordered_at"), kg=pl.col("quantity_kg"), unit=pl.col("unit").last())
            .filter((pl.col("n") >= 3) & (pl.col("unit") == "t"))  # bulk, weighed to the kilogram
            .sort("last_line")
        )  # fmt: skip
        p90 = lines.group_by("precursor_substance", "customer_type").agg(
            p90=pl.col("quantity_kg").quantile(0.9, interpolation="linear")
        )
        history = history.join(p90, on=["precursor_substance", "customer_type"], how="left")
        done = 0
        for i in rng.permutation(history.height):
            row = history.row(int(i), named=True)
            year_before = row["last_at"] - dt.timedelta(days=365)
            window = [q for t, q in zip(row["times"], row["kg"], strict=True) if year_before <= t < row["last_at"]]
            if not window or max(window) % 1 or row["p90"] > max(window):  # the peers' p90 would be the baseline
                continue
            own = max(window) / 1000  # in tonnes, to the kilogram
            quantity = 2 * own if done == 0 else round(2 * own + 0.001, 3)
            peers = lines.filter(
                (pl.col("precursor_substance") == row["precursor_substance"])
                & (pl.col("customer_type") == row["customer_type"])
            )
            before = peers["quantity_kg"].quantile(0.9, interpolation="linear")
            after = peers.with_columns(
                quantity_kg=pl.when(pl.col("line_id") == row["last_line"])
                .then(quantity * 1000)
                .otherwise("quantity_kg")
            )["quantity_kg"].quantile(0.9, interpolation="linear")
            if after != before or before > own * 1000:
                continue
            self._update("sales_order_lines", "line_id", pl.DataFrame({"line_id": [row["last_line"]],
                                                                       "quantity": [quantity]}))  # fmt: skip
            lines = self.p._precursor_lines_kg()  # the peers' p90 the next edge is checked against
            self.customers.add(row["customer_id"])
            detail = {
                "customer_id": row["customer_id"],
                "own_max_t": own,
                "quantity_t": quantity,
                "peer_p90_kg": before,
            }
            if done == 0:
                self.near("EXP-003", "sales_order_line", row["last_line"],
                          "exactly twice the customer's largest purchase of the past 365 days", "kg", **detail)  # fmt: skip
            else:
                self.brk("EXP-003", "sales_order_line", row["last_line"],
                         "twice the customer's largest purchase of the past 365 days plus one kilogram", "kg", **detail)  # fmt: skip
            done += 1
            if done == 2:
                return

    def customer_statements(self) -> None:
        """EXP-002: a professional's last purchase of a restricted precursor on the day its customer
        statement turns twelve months old (a break: it covers sales before that day only), and
        another's on the day before (clean). The statement covering the sale is re-dated; no other
        statement covers it."""
        rng = self.rng("EXP-002")
        taken = self.taken()
        restricted = precursor_status(self.f["articles"]).filter("restricted")["article_id"]
        statements = self.f["customer_certificates"].filter(pl.col("kind") == "precursor_customer_statement")
        lines = self._lines(pl.col("article_id").is_in(restricted.implode()) & (pl.col("_class") != "private"))
        last = (
            lines.group_by("customer_id")
            .agg(day=pl.col("day").max())
            .filter(~pl.col("customer_id").is_in(list(taken)))
            .sort("customer_id")
        )
        done = 0
        for i in rng.permutation(last.height):
            cid, day = last.row(int(i))
            mine = statements.filter(pl.col("customer_id") == cid).sort("issued_on")
            covering = mine.filter(pl.col("issued_on") <= day)
            if covering.height == 0:
                continue
            chosen = covering.row(covering.height - 1, named=True)
            issued = add_months(day, -12) + (ONE_DAY if done == 0 else dt.timedelta(0))
            if issued > chosen["issued_on"]:
                continue
            others = covering.filter(
                (pl.col("certificate_id") != chosen["certificate_id"]) & (pl.col("issued_on") > add_months(day, -12))
            )
            if others.height:
                continue
            verified = dt.datetime.combine(issued, dt.time(9, 30), tzinfo=dt.UTC)
            self._update("customer_certificates", "certificate_id", pl.DataFrame(
                {"certificate_id": [chosen["certificate_id"]], "issued_on": [issued],
                 "valid_until": [add_months(issued, 12) - ONE_DAY], "verified_at": [verified], "updated_at": [verified]},
                schema={"certificate_id": pl.String, "issued_on": pl.Date, "valid_until": pl.Date,
                        "verified_at": UTC_US, "updated_at": UTC_US},
            ))  # fmt: skip
            self.customers.add(cid)
            on_day = lines.filter((pl.col("customer_id") == cid) & (pl.col("day") == day)).sort("line_id")
            detail = {"customer_id": cid, "sold_on": day, "statement_issued_on": issued}
            if done == 0:
                self.near("EXP-002", "sales_order_line", on_day["line_id"][0],
                          "sold on the last day the customer statement covers (12 months less a day)", "day", **detail)  # fmt: skip
            else:
                for line_id in on_day["line_id"]:
                    self.brk("EXP-002", "sales_order_line", line_id,
                             "sold on the day the customer statement turned 12 months old", "day", **detail)  # fmt: skip
            done += 1
            if done == 2:
                return

    def precursor_reports(self) -> None:
        """EXP-004: refused attempts reported exactly 24 hours after they were flagged (clean) and
        one second later (a break); two more still unreported when the rules judge the day, flagged
        exactly 24 hours before the end of it (clean) and one second earlier (a break)."""
        rng = self.rng("EXP-004")
        customers = self._precursor_buyers()
        if customers.height == 0:
            return
        evaluated = dt.datetime.combine(self.ctx.as_of + ONE_DAY, dt.time(), tzinfo=dt.UTC)
        flagged_day = self.ctx.as_of - dt.timedelta(days=int(rng.integers(8, 40)))
        flagged = berlin(flagged_day, 10, 15)
        cases = [  # (flagged, reported, clean, edge)
            (flagged, flagged + dt.timedelta(hours=24), True, "reported exactly 24 hours after it was flagged"),
            (flagged + dt.timedelta(hours=2), flagged + dt.timedelta(hours=26, seconds=1), False,
             "reported 24 hours and one second after it was flagged"),
            (evaluated - dt.timedelta(hours=24), None, True, "unreported, flagged exactly 24 hours before the day ends"),
            (evaluated - dt.timedelta(hours=24, seconds=1), None, False,
             "unreported, flagged 24 hours and one second before the day ends"),
        ]  # fmt: skip
        who = customers["customer_id"].to_numpy()[rng.integers(0, customers.height, size=len(cases))]
        ids = uuids(rng, len(cases))
        land = next(iter(self.t.lands))
        rows = pl.DataFrame(
            {
                "case_id": ids, "tenant_id": self.t.tenant_id, "order_id": pl.Series([None] * len(cases), dtype=pl.String),
                "customer_id": who.astype(str), "kind": "refused",
                "flagged_at": pl.Series([c[0] for c in cases], dtype=UTC_US),
                "reported_at": pl.Series([c[1] for c in cases], dtype=UTC_US),
                "authority_ref": [f"LKA-{land}-{c[0].year}-{int(rng.integers(1000, 9999))}" if c[1] else None
                                  for c in cases],
            }
        ).with_columns(updated_at=pl.coalesce("reported_at", "flagged_at"))  # fmt: skip
        st = self.f["suspicious_transactions"]
        self.f["suspicious_transactions"] = pl.concat([st, rows.select(st.columns)])
        for cid, (f_at, r_at, clean, edge), customer in zip(ids, cases, who, strict=True):
            detail = {"customer_id": str(customer), "flagged_at": f_at, "reported_at": r_at}
            (self.near if clean else self.brk)("EXP-004", "suspicious_transaction", cid, edge, "second", **detail)

    def _precursor_buyers(self) -> pl.DataFrame:
        """Professionals who buy precursors: those with a customer statement."""
        taken = list(self.taken())
        return (
            self.f["customer_certificates"]
            .filter((pl.col("kind") == "precursor_customer_statement") & ~pl.col("customer_id").is_in(taken))
            .select("customer_id")
            .unique()
            .sort("customer_id")
        )

    def precursor_losses(self) -> None:
        """EXP-006: a precursor stock loss of exactly 100 kg, significant (a break), and one of 99 kg
        (clean), neither with a loss case."""
        rng = self.rng("EXP-006")
        status = precursor_status(self.f["articles"])
        precursor = status.filter(pl.col("reportable") & pl.col("unit").is_in(["t", "kg"])).select("article_id", "unit")
        sites = (
            self.f["stock_levels"]
            .join(precursor, on="article_id")
            .filter(pl.col("on_hand") >= pl.when(pl.col("unit") == "t").then(0.3).otherwise(300))
            .sort("article_id", "warehouse_id")
        )
        if sites.height == 0:
            return
        chosen = sites[np.sort(rng.choice(sites.height, size=min(2, sites.height), replace=False)).tolist()]
        chosen = pl.concat([chosen, chosen]).head(2)
        bulk = (chosen["unit"] == "t").to_list()
        quantity = [-(0.1 if bulk[0] else 100.0), -(0.099 if bulk[1] else 99.0)]
        days = np.datetime64(self.ctx.as_of) - rng.integers(5, 200, size=2).astype("timedelta64[D]")
        moves = pl.DataFrame(
            {
                "article_id": chosen["article_id"], "warehouse_id": chosen["warehouse_id"], "quantity": quantity,
                "kind": "loss", "occurred_at": business_instants(rng, days),
                "reference_id": pl.Series([None, None], dtype=pl.String), "movement_id": uuids(rng, 2),
                "tenant_id": self.t.tenant_id,
            }
        )  # fmt: skip
        self.p.book_movements(moves)
        mids = moves["movement_id"].to_list()
        self.brk("EXP-006", "stock_movement", mids[0], "a loss of exactly 100 kg, without a loss case", "kg",
                 quantity=quantity[0])  # fmt: skip
        self.near("EXP-006", "stock_movement", mids[1], "a loss of 99 kg, below the significance threshold", "kg",
                  quantity=quantity[1])  # fmt: skip

    # ------------------------------------------------------------------ PSM: receipts and stock

    def receipts_after_end(self) -> None:
        """PSM-009: a product whose authorisation ended received on its last authorised day (clean,
        in the afternoon) and on the morning after (a break)."""
        rng = self.rng("PSM-009")
        taken = self.taken()
        ended = self.p._articles(
            (pl.col("category") == "psm")
            & pl.col("psm_authorized_until").is_not_null()
            & (pl.col("psm_withdrawal_kind") != "authority_risk").fill_null(True)
            & (pl.col("psm_authorized_until") < pl.lit(self.ctx.as_of - 3 * ONE_DAY))
            & pl.col("deleted_at").is_null()
        ).sort("article_id")
        ended = ended.filter(
            pl.col("psm_authorized_until").map_elements(
                lambda d: is_workday(d) and is_workday(d + ONE_DAY), return_dtype=pl.Boolean
            )
        )
        psm = self.f["articles"].filter(pl.col("category") == "psm")["article_id"]
        pol = (
            self.f["purchase_order_lines"]
            .filter(
                pl.col("received_at").is_not_null()
                & (pl.col("status") != "cancelled")
                & pl.col("article_id").is_in(psm.implode())
                & ~pl.col("po_line_id").is_in(list(taken))
            )
            .sort("po_line_id")
        )
        if ended.height < 2 or pol.height < 2:
            return
        arts = ended[np.sort(rng.choice(ended.height, size=2, replace=False)).tolist()]
        used_lines: set[str] = set()
        for (aid, until), clean in zip(arts.select("article_id", "psm_authorized_until").iter_rows(), (True, False),
                                       strict=True):  # fmt: skip
            received = berlin(until, 15, 10) if clean else berlin(until + ONE_DAY, 6, 40)
            fits = pol.filter(
                (pl.col("ordered_at") < _us(received - 3 * ONE_DAY)) & ~pl.col("po_line_id").is_in(list(used_lines))
            )
            if fits.height == 0:
                continue
            line = fits.row(int(rng.integers(0, fits.height)), named=True)
            used_lines.add(line["po_line_id"])
            self.p.used_articles.add(aid)
            self._update("purchase_order_lines", "po_line_id", pl.DataFrame(
                {"po_line_id": [line["po_line_id"]], "article_id": [aid], "received_at": [received],
                 "updated_at": [received]},
                schema={"po_line_id": pl.String, "article_id": pl.String, "received_at": UTC_US, "updated_at": UTC_US},
            ))  # fmt: skip
            pos = self.f["purchase_orders"]
            self.f["purchase_orders"] = pos.with_columns(
                updated_at=pl.when(pl.col("po_id") == line["po_id"])
                .then(pl.max_horizontal("updated_at", _us(received)))
                .otherwise("updated_at")
            )
            detail = {"article_id": aid, "authorized_until": until, "received_at": received}
            if clean:
                self.near("PSM-009", "purchase_order_line", line["po_line_id"],
                          "received on the authorisation's last day", "day", **detail)  # fmt: skip
            else:
                self.brk("PSM-009", "purchase_order_line", line["po_line_id"],
                         "received the morning after the authorisation ended", "day", **detail)  # fmt: skip

    def sell_out_stock(self) -> None:
        """PSM-004 and PSM-008 at the edges of the sell-out window, for products in stock withdrawn
        by the authority for risk (no sell-out period: the last sellable day is the withdrawal's):
        sellable until today + 90 days (PSM-004, the window's last day) and + 91 (clean), until today
        (PSM-004, today included; clean for PSM-008) and until yesterday (PSM-008; clean for PSM-004)."""
        rng = self.rng("PSM-004")
        as_of = self.ctx.as_of
        stocked = self.f["stock_levels"].group_by("article_id").agg(on_hand=pl.col("on_hand").sum())
        stocked = stocked.filter(pl.col("on_hand") > 0)["article_id"]
        register = reference.bvl_products().group_by("kennr").agg(register_until=pl.col("authorised_until").max())
        sold_today = self._lines(pl.col("ordered_at") > self.ctx.now_expr - pl.duration(days=2)).filter(
            pl.col("day") >= pl.lit(as_of)
        )["article_id"]
        received_today = self.f["purchase_order_lines"].filter(
            pl.col("received_at").is_not_null() & (berlin_day("received_at") >= pl.lit(as_of))
        )["article_id"]
        candidates = (
            self.p._articles(
                (pl.col("category") == "psm")
                & pl.col("deleted_at").is_null()
                & pl.col("article_id").is_in(stocked.implode())
                & ~pl.col("article_id").is_in(sold_today.implode())
                & ~pl.col("article_id").is_in(received_today.implode())
                & (pl.col("psm_withdrawal_kind") != "authority_risk").fill_null(True)
                & (pl.col("_sellable_until") > pl.lit(as_of + dt.timedelta(days=200)))
            )
            .join(register, left_on="psm_reg_no", right_on="kennr")
            .filter(pl.col("register_until") > pl.lit(as_of + dt.timedelta(days=120)))
            .sort("article_id")
        )
        plan = [  # (last sellable day, PSM-004 finds it, PSM-008 finds it)
            (as_of + dt.timedelta(days=90), True, False),
            (as_of + dt.timedelta(days=91), False, False),
            (as_of, True, False),
            (as_of - ONE_DAY, False, True),
        ]
        if candidates.height < len(plan):
            return
        chosen = candidates[np.sort(rng.choice(candidates.height, size=len(plan), replace=False)).tolist()]
        for aid, (last, warn, held) in zip(chosen["article_id"], plan, strict=True):
            days = (last - as_of).days
            self.p._set_article(aid, psm_withdrawal_kind="authority_risk", psm_authorized_until=last,
                                _sellable_until=last, _keep_stock=True)  # fmt: skip
            detail = {"sellable_until": last, "days_left": days, "withdrawal": "authority_risk"}
            window = f"sellable until {'today' if days == 0 else f'today {days:+d} days'}"
            if warn:
                self.brk("PSM-004", "article", aid, f"{window}: inside the 90-day warning window", "day", **detail)
            elif days > 0:
                self.near("PSM-004", "article", aid, f"{window}: one day beyond the warning window", "day", **detail)
            if held:
                self.brk("PSM-008", "article", aid, f"{window}: in stock the day after its last sellable day", "day",
                         **detail)  # fmt: skip
                self.near("PSM-004", "article", aid, f"{window}: the window starts today", "day", **detail)
            elif days == 0:
                self.near("PSM-008", "article", aid, f"{window}: in stock on its last sellable day", "day", **detail)

    # ----------------------------------------------------------------------------- imports, LkSG

    def ched(self) -> None:
        """TRACES-002: a CHED pre-notified exactly one working day before its arrival (clean) and one
        pre-notified a second later for a consignment arriving on a Monday, whose working day before
        is the Friday (a break: 24 hours before would be Sunday)."""
        rng = self.rng("TRACES-002")
        taken = self.taken()
        docs = (
            self.f["import_documents"]
            .filter(
                (pl.col("kind") != "COI")
                & (pl.col("status") == "validated")
                & (pl.col("arrival_at") <= self.ctx.now_expr - pl.duration(days=2))
                & ~pl.col("document_id").is_in(list(taken))
            )
            .with_columns(local=pl.col("arrival_at").dt.convert_time_zone("Europe/Berlin"))
        )
        docs = docs.with_columns(
            after_gap=pl.col("local")
            .dt.date()
            .map_elements(lambda d: previous_workday(d) < d - ONE_DAY, return_dtype=pl.Boolean)
        ).sort("document_id")
        for clean in (True, False):
            pool = docs.filter(pl.col("after_gap") != clean)
            if pool.height == 0:
                continue
            row = pool.row(int(rng.integers(0, pool.height)), named=True)
            local = row["local"]
            due = dt.datetime.combine(previous_workday(local.date()), local.time(), tzinfo=BERLIN).astimezone(dt.UTC)
            submitted = due if clean else due + ONE_SECOND
            self._update("import_documents", "document_id", pl.DataFrame(
                {"document_id": [row["document_id"]], "submitted_at": [submitted],
                 "updated_at": [max(row["updated_at"], submitted)]},
                schema={"document_id": pl.String, "submitted_at": UTC_US, "updated_at": UTC_US},
            ))  # fmt: skip
            docs = docs.filter(pl.col("document_id") != row["document_id"])
            detail = {"arrival_at": row["arrival_at"], "due_by": due, "submitted_at": submitted}
            if clean:
                self.near("TRACES-002", "import_document", row["document_id"],
                          "CHED submitted exactly one working day before arrival", "second", **detail)  # fmt: skip
            else:
                self.brk("TRACES-002", "import_document", row["document_id"],
                         "CHED submitted one second after its due time, the working day before a Monday arrival",
                         "second", **detail)  # fmt: skip

    def risk_assessments(self) -> None:
        """LKSG-001: a high-risk supplier assessed exactly 12 months ago (clean) and 12 months and a
        day ago (a break); the same for a medium-risk supplier and 24 months."""
        rng = self.rng("LKSG-001")
        taken = self.taken()
        sup = (
            self.f["suppliers"]
            .filter(
                pl.col("deleted_at").is_null()
                & pl.col("code_of_conduct_signed")
                & ~pl.col("supplier_id").is_in(list(taken))
            )
            .sort("supplier_id")
        )
        for level, months in (("high", 12), ("medium", 24)):
            pool = sup.filter(pl.col("lksg_risk_level") == level)
            if pool.height < 2:
                continue
            chosen = pool[np.sort(rng.choice(pool.height, size=2, replace=False)).tolist()]
            review = add_months(self.ctx.as_of, -months)
            for sid, (assessed, clean) in zip(chosen["supplier_id"], ((review, True), (review - ONE_DAY, False)),
                                              strict=True):  # fmt: skip
                self.p._set_supplier(sid, lksg_assessed_on=assessed)
                detail = {"risk_level": level, "assessed_on": assessed}
                if clean:
                    self.near("LKSG-001", "supplier", sid, f"{level} risk, assessed exactly {months} months ago", "day",
                              **detail)  # fmt: skip
                else:
                    self.brk("LKSG-001", "supplier", sid, f"{level} risk, assessed {months} months and a day ago",
                             "day", **detail)  # fmt: skip

    # ------------------------------------------------------------------------- manure, GDPR

    def manure(self) -> None:
        """ENNI-001 reported on its due day, a month after the delivery (clean), and the day after (a
        break); ENNI-001 and ENNI-002: unreported and without its N content, due today (clean for
        both) and due yesterday (a break of both)."""
        rng = self.rng("ENNI")
        md = self.f["manure_deliveries"]
        if md.height == 0:
            return
        taken = self.taken()
        yearly = md.group_by(year=pl.col("delivered_on").dt.year()).agg(t=pl.col("tonnes").sum())
        reportable = set(yearly.filter(pl.col("t") > 200)["year"].to_list())
        free = md.filter(~pl.col("delivery_id").is_in(list(taken)) & pl.col("n_kg_per_t").is_not_null()).sort(
            "delivery_id"
        )
        reported = free.filter(
            pl.col("reported_on").is_not_null()
            & pl.col("delivered_on").dt.year().is_in(list(reportable))
            & (pl.col("delivered_on") < pl.lit(add_months(self.ctx.as_of, -1) - 3 * ONE_DAY))
        )
        used: set[str] = set()
        for clean in (True, False):
            if reported.height == 0:
                break
            row = reported.row(int(rng.integers(0, reported.height)), named=True)
            due = add_months(row["delivered_on"], 1)
            on = due if clean else due + ONE_DAY
            self._update("manure_deliveries", "delivery_id", pl.DataFrame(
                {"delivery_id": [row["delivery_id"]], "reported_on": [on],
                 "updated_at": [dt.datetime.combine(on, dt.time(14), tzinfo=dt.UTC)]},
                schema={"delivery_id": pl.String, "reported_on": pl.Date, "updated_at": UTC_US},
            ))  # fmt: skip
            reported = reported.filter(pl.col("delivery_id") != row["delivery_id"])
            used.add(row["delivery_id"])
            detail = {"delivered_on": row["delivered_on"], "report_due": due, "reported_on": on}
            if clean:
                self.near("ENNI-001", "manure_delivery", row["delivery_id"], "reported on its due day", "day", **detail)
            else:
                self.brk("ENNI-001", "manure_delivery", row["delivery_id"], "reported the day after its due day", "day",
                         **detail)  # fmt: skip
        for due, clean in ((self.ctx.as_of, True), (self.ctx.as_of - ONE_DAY, False)):
            delivered = month_before(due)
            if delivered is None or delivered.year not in reportable:
                continue
            pool = free.filter(
                (pl.col("delivered_on").dt.year() == delivered.year) & ~pl.col("delivery_id").is_in(list(used))
            )
            if pool.height == 0:
                continue
            row = pool.row(int(rng.integers(0, pool.height)), named=True)
            used.add(row["delivery_id"])
            self._update("manure_deliveries", "delivery_id", pl.DataFrame(
                {"delivery_id": [row["delivery_id"]], "delivered_on": [delivered], "report_ref": [None],
                 "reported_on": [None], "n_kg_per_t": [None],
                 "updated_at": [dt.datetime.combine(delivered, dt.time(14), tzinfo=dt.UTC)]},
                schema={"delivery_id": pl.String, "delivered_on": pl.Date, "report_ref": pl.String,
                        "reported_on": pl.Date, "n_kg_per_t": pl.Float64, "updated_at": UTC_US},
            ))  # fmt: skip
            detail = {"delivered_on": delivered, "due": due}
            for rule, what in (("ENNI-001", "not reported"), ("ENNI-002", "N content not recorded")):
                if clean:
                    self.near(rule, "manure_delivery", row["delivery_id"], f"{what}, due today", "day", **detail)
                else:
                    self.brk(rule, "manure_delivery", row["delivery_id"], f"{what}, due yesterday", "day", **detail)

    def gdpr(self) -> None:
        """GDPR-001: access requests still open when the day ends exactly one month after they were
        received (clean) and one second after that (a break). GDPR-002: prospects who never ordered,
        created at 23:30 on New Year's Eve seven years ago (a break: letters are kept to the end of the
        sixth year after, which has ended) and at 00:30 on New Year's Day after it (clean, although it
        is still the old year in UTC)."""
        rng = self.rng("GDPR")
        cust = self.f["customers"].filter(pl.col("deleted_at").is_null()).sort("customer_id")
        taken = list(self.taken())
        received_day = month_before(self.ctx.as_of + ONE_DAY)  # the month counted on the UTC calendar
        free = cust.filter(~pl.col("customer_id").is_in(taken))
        if received_day is not None and free.height >= 2:
            received = dt.datetime.combine(received_day, dt.time(), tzinfo=dt.UTC)
            who = free[np.sort(rng.choice(free.height, size=2, replace=False)).tolist()]["customer_id"]
            instants = [received, received - ONE_SECOND]
            requests = pl.DataFrame(
                {
                    "request_id": uuids(rng, 2), "tenant_id": self.t.tenant_id, "customer_id": who, "kind": "access",
                    "received_at": pl.Series(instants, dtype=UTC_US),
                    "completed_at": pl.Series([None, None], dtype=UTC_US), "status": "open", "legal_hold": False,
                }
            ).with_columns(updated_at=pl.col("received_at"))  # fmt: skip
            self.f["gdpr_requests"] = pl.concat(
                [self.f["gdpr_requests"], requests.select(self.f["gdpr_requests"].columns)]
            )
            for rid, cid, at, clean in zip(requests["request_id"], who, instants, (True, False), strict=True):
                if clean:
                    self.near("GDPR-001", "gdpr_request", rid, "open when the day ends exactly one month after receipt",
                              "second", customer_id=cid, received_at=at)  # fmt: skip
                else:
                    self.brk("GDPR-001", "gdpr_request", rid, "open one month and one second after receipt", "second",
                             customer_id=cid, received_at=at)  # fmt: skip
        # GDPR-002: two prospects who never ordered, their records kept since they were created
        year = self.ctx.as_of.year - 7
        created = [berlin(dt.date(year, 12, 31), 23, 30), berlin(dt.date(year + 1, 1, 1), 0, 30)]
        ordered = self.f["sales_orders"]["customer_id"].unique().implode()
        held = self.f["gdpr_requests"].filter(pl.col("legal_hold"))["customer_id"].unique().implode()
        prospects = cust.filter(
            ~pl.col("customer_id").is_in(ordered)
            & ~pl.col("customer_id").is_in(held)
            & ~pl.col("customer_id").is_in(list(self.taken()))
        )
        if prospects.height < 2:
            return
        who = prospects[np.sort(rng.choice(prospects.height, size=2, replace=False)).tolist()]["customer_id"].to_list()
        self._update("customers", "customer_id", pl.DataFrame(
            {"customer_id": who, "created_at": created}, schema={"customer_id": pl.String, "created_at": UTC_US}
        ))  # fmt: skip
        self.customers.update(who)
        self.brk("GDPR-002", "customer", who[0],
                 "created at 23:30 on New Year's Eve seven years ago: letters kept to the end of last year", "day",
                 created_at=created[0], retain_until=dt.date(year + 6, 12, 31))  # fmt: skip
        self.near("GDPR-002", "customer", who[1],
                  "created at 00:30 on New Year's Day six years ago (still the old year in UTC): kept to the end "
                  "of this year", "day", created_at=created[1], retain_until=dt.date(year + 7, 12, 31))  # fmt: skip

    # --------------------------------------------------------------------------------- finance

    def skonto(self) -> None:
        """FIN-001: Skonto deducted by a payment on its deadline, the Monday a window ending on a
        weekend or holiday moves to (clean, § 193 BGB), and by a payment the workday after its
        deadline (a break)."""
        rng = self.rng("FIN-001")
        taken = self.taken()
        inv = (
            self.f["invoices"]
            .filter(pl.col("kind") == "AR")
            .select("invoice_id", "invoice_date", "skonto_days", "updated_at")
        )
        single = (
            self.f["payments"]
            .filter((pl.col("skonto_amount") > 0) & ~pl.col("payment_id").is_in(list(taken)))
            .filter(pl.len().over("invoice_id") == 1)
            .join(inv, on="invoice_id", suffix="_invoice")
            .filter(pl.col("skonto_days").is_not_null())
            .with_columns(until=pl.col("invoice_date").dt.offset_by(pl.format("{}d", pl.col("skonto_days"))))
            .sort("payment_id")
        )
        deadlines = pl.DataFrame(
            [(d, next_workday(d), next_workday(next_workday(d) + ONE_DAY)) for d in single["until"].unique().to_list()],
            schema={"until": pl.Date, "deadline": pl.Date, "after": pl.Date}, orient="row",
        )  # fmt: skip
        pays = single.join(deadlines, on="until").filter(
            (pl.col("deadline") != pl.col("until")) & (pl.col("after") < pl.lit(self.ctx.as_of))
        )
        if pays.height < 2:
            return
        chosen = pays[np.sort(rng.choice(pays.height, size=2, replace=False)).tolist()]
        for row, clean in zip(chosen.iter_rows(named=True), (True, False), strict=True):
            paid = row["deadline"] if clean else row["after"]
            when = min(berlin(paid, 10, 30), self.ctx.now - dt.timedelta(minutes=5))
            self._update("payments", "payment_id", pl.DataFrame(
                {"payment_id": [row["payment_id"]], "paid_on": [paid], "updated_at": [when]},
                schema={"payment_id": pl.String, "paid_on": pl.Date, "updated_at": UTC_US},
            ))  # fmt: skip
            later = max(row["updated_at_invoice"], when)
            self._update("invoices", "invoice_id", pl.DataFrame(
                {"invoice_id": [row["invoice_id"]], "updated_at": [later], "_audited_at": [later]},
                schema={"invoice_id": pl.String, "updated_at": UTC_US, "_audited_at": UTC_US},
            ))  # fmt: skip
            detail = {"invoice_id": row["invoice_id"], "skonto_until": row["until"], "deadline": row["deadline"],
                      "paid_on": paid}  # fmt: skip
            if clean:
                self.near("FIN-001", "payment", row["payment_id"],
                          "Skonto taken on the workday a weekend deadline moves to (§ 193 BGB)", "day", **detail)  # fmt: skip
            else:
                self.brk("FIN-001", "payment", row["payment_id"], "Skonto taken the workday after its deadline", "day",
                         **detail)  # fmt: skip

    def payment_terms(self) -> None:
        """FIN-003: an agri-food supplier's invoice on 60 days (clean: the longest allowed) and one on
        61 days (a break)."""
        rng = self.rng("FIN-003")
        taken = self.taken()
        grain = self.f["suppliers"].filter(pl.col("_trade") == "grain")["supplier_id"]
        inv = (
            self.f["invoices"]
            .filter(
                (pl.col("kind") == "AP")
                & (pl.col("status") != "cancelled")
                & pl.col("partner_id").is_in(grain.implode())
                & ~pl.col("invoice_id").is_in(list(taken))
            )
            .sort("invoice_id")
        )
        if inv.height < 2:
            return
        chosen = inv[np.sort(rng.choice(inv.height, size=2, replace=False)).tolist()]["invoice_id"]
        for iid, (days, clean) in zip(chosen, ((60, True), (61, False)), strict=True):
            self._update("invoices", "invoice_id", pl.DataFrame({"invoice_id": [iid], "net_days": [days]},
                                                                schema={"invoice_id": pl.String, "net_days": pl.Int32}))  # fmt: skip
            if clean:
                self.near(
                    "FIN-003", "invoice", iid, "payment term of 60 days, the longest allowed", "day", net_days=days
                )
            else:
                self.brk("FIN-003", "invoice", iid, "payment term of 61 days", "day", net_days=days)


def audit_grace(ctx, audit: pl.DataFrame, staff: pl.DataFrame) -> tuple[pl.DataFrame, list[Planted], list[Planted]]:
    """GOBD-002 at its grace period: four staff logins half an hour before the clock, the first and
    the third lost to the sequence. Judged with a grace of GOBD_GRACE_MINUTES (the cut falls on the
    fourth login), the gap before the second is settled (it occurred one second before the cut: a
    break) and the gap before the fourth is not (it occurred at the cut: clean). Returns the log
    renumbered without the two, and the break and the near miss."""
    evaluated = dt.datetime.combine(ctx.as_of + ONE_DAY, dt.time(), tzinfo=dt.UTC)
    cut = evaluated - dt.timedelta(minutes=GOBD_GRACE_MINUTES)
    rng = ctx.rng("edge", "GOBD-002")
    quiet = audit.filter(pl.col("occurred_at").is_between(_us(cut - dt.timedelta(seconds=3)), _us(cut)))
    holders = staff.filter(pl.col("active")).sort("staff_id")
    if quiet.height or holders.height == 0 or cut > ctx.now:
        return audit, [], []
    who = holders.row(int(rng.integers(0, holders.height)), named=True)
    login = who["name"].lower().replace(" ", ".")
    instants = [cut - 2 * ONE_SECOND, cut - ONE_SECOND, cut - dt.timedelta(milliseconds=500), cut]
    template = audit.filter(pl.col("action") == "login").head(1)
    rows = pl.concat([template] * 4).with_columns(
        tenant_id=pl.lit(who["tenant_id"]),
        occurred_at=pl.Series(instants, dtype=UTC_US),
        actor=pl.lit(login),
        entity_id=pl.lit(who["staff_id"]),
        correlation_id=pl.lit(None, pl.String),
        seq=pl.lit(None, pl.Int64),
    )
    log = (
        pl.concat([audit, rows.select(audit.columns)])
        .sort("occurred_at", "seq", nulls_last=True)
        .with_columns(seq=pl.int_range(1, audit.height + 5, dtype=pl.Int64))
    )
    seqs = log.filter(pl.col("occurred_at").is_in(pl.Series(instants, dtype=UTC_US).implode()) & (pl.col("action") == "login")
                      & (pl.col("entity_id") == who["staff_id"]))["seq"].sort().to_list()  # fmt: skip
    gone_break, gone_clean = seqs[0], seqs[2]
    settings = FOUND_WITH["GOBD-002"]
    brk = Planted("GOBD-002", who["tenant_id"], "audit_log", str(gone_break), {
        "missing_seq": gone_break, "edge": "a gap before a row that occurred one second before the grace period's cut",
        "unit": "second", "judged_with": settings})  # fmt: skip
    near = Planted("GOBD-002", who["tenant_id"], "audit_log", str(gone_clean), {
        "missing_seq": gone_clean, "edge": "a gap before a row that occurred at the grace period's cut: may still commit",
        "unit": "second", "judged_with": settings})  # fmt: skip
    return log.filter(~pl.col("seq").is_in([gone_break, gone_clean])), [brk], [near]
