"""The generated demo ERP: determinism, sizes, consistency across tables, realism, planted violations.

Keys, required values, references and the clock, for many seeds, scales and as-of days:
tests/test_seed_invariants.py."""

import datetime as dt
from collections import defaultdict

import polars as pl
import pytest

from neuroerp import reference
from neuroerp.contract import TABLES, TABLES_BY_NAME
from neuroerp.seed.edges import EDGE_RULES
from neuroerp.seed.generator import generate
from neuroerp.seed.violations import FOUND_WITH, PLANTED_AT_SCALE_1
from tests import seed_rules
from tests.conftest import AS_OF, SEED


def _fingerprint(df: pl.DataFrame) -> int:
    return int(df.hash_rows(seed=1).sum())


def test_same_seed_same_data(dataset):
    again = generate(seed=SEED, scale=0.01, as_of=AS_OF)
    for spec in TABLES:
        assert _fingerprint(dataset.table(spec.name)) == _fingerprint(again.table(spec.name)), spec.name
    assert dataset.manifest() == again.manifest()


def test_other_seed_other_data(dataset):
    other = generate(seed=SEED + 1, scale=0.01, as_of=AS_OF)
    assert _fingerprint(dataset.table("customers")) != _fingerprint(other.table("customers"))


# rows at scale 0.01 (floors per tenant keep every kind of entity present)
EXPECTED_ROWS = {
    "customers": (200, 260), "articles": (200, 240), "suppliers": (28, 28), "warehouses": (4, 4),
    "sales_orders": (2_000, 2_100), "sales_order_lines": (7_000, 12_000), "purchase_orders": (200, 400),
    "invoices": (1_500, 3_000), "stock_movements": (8_000, 20_000), "audit_log": (4_000, 8_000),
    "outbox_events": (2_000, 5_000), "saga_state": (80, 300),
}  # fmt: skip


def test_row_counts_at_small_scale(dataset):
    for spec in TABLES:
        assert dataset.frames[spec.name].height > 0, f"{spec.name} is empty"
    for name, (low, high) in EXPECTED_ROWS.items():
        assert low <= dataset.frames[name].height <= high, (name, dataset.frames[name].height)


def test_tables_carry_exactly_the_contract_columns(dataset):
    for spec in TABLES:
        assert dataset.table(spec.name).columns == spec.column_names


def test_polymorphic_references_resolve(dataset):
    customers = set(dataset.table("customers")["customer_id"])
    suppliers = set(dataset.table("suppliers")["supplier_id"])
    inv = dataset.table("invoices")
    assert set(inv.filter(pl.col("kind") == "AR")["partner_id"]) <= customers
    assert set(inv.filter(pl.col("kind") == "AP")["partner_id"]) <= suppliers
    assert set(dataset.table("manure_deliveries")["partner_id"]) <= customers | suppliers
    events = set(dataset.table("outbox_events")["id"])
    assert set(dataset.table("idempotency_keys")["event_id"]) <= events


def test_rows_of_a_tenant_reference_rows_of_that_tenant(dataset):
    tenant_of = {
        r: t for name, key in (("customers", "customer_id"), ("articles", "article_id"), ("warehouses", "warehouse_id"))
        for r, t in dataset.table(name).select(key, "tenant_id").iter_rows()
    }  # fmt: skip
    lines = dataset.table("sales_order_lines")
    orders = dict(dataset.table("sales_orders").select("order_id", "customer_id").iter_rows())
    for tenant, article, warehouse, order in lines.select(
        "tenant_id", "article_id", "warehouse_id", "order_id"
    ).iter_rows():
        assert tenant_of[article] == tenant_of[warehouse] == tenant_of[orders[order]] == tenant


def test_stock_levels_are_the_sum_of_movements(dataset):
    sums = dataset.table("stock_movements").group_by("article_id", "warehouse_id").agg(total=pl.col("quantity").sum())
    joined = dataset.table("stock_levels").join(sums, on=["article_id", "warehouse_id"])
    assert joined.height == dataset.table("stock_levels").height
    assert (joined["on_hand"] - joined["total"]).abs().max() < 1e-6


def test_money_adds_up(dataset):
    inv = dataset.table("invoices")
    assert ((inv["net_amount"] + inv["tax_amount"] - inv["gross_amount"]).abs() < 0.005).all()
    paid = (
        dataset.table("payments").group_by("invoice_id").agg(total=(pl.col("amount") + pl.col("skonto_amount")).sum())
    )
    full = inv.filter(pl.col("status") == "paid").join(paid, on="invoice_id")
    off = full.filter((pl.col("total") - pl.col("gross_amount")).abs() > 0.02)
    # invoices changed after posting (planted GoBD breaks) no longer match their payment
    planted = {p.entity_id for p in dataset.planted if p.rule == "GOBD-001"}
    assert set(off["invoice_id"]) <= planted


def test_addresses_are_real_german_places(dataset):
    postal = reference.postal_codes().select("postal_code", "place", "state_code")
    german = dataset.table("customers").filter(pl.col("country_code") == "DE")
    joined = german.join(postal, left_on=["postal_code", "city"], right_on=["postal_code", "place"])
    assert joined.height == german.height
    assert (joined["state_code"] == joined["state_code_right"]).all()
    by_land = german["state_code"].value_counts().sort("count", descending=True)["state_code"].to_list()
    assert by_land[:2] == ["NI", "BY"]


def test_psm_articles_carry_real_bvl_numbers(dataset):
    planted = {p.entity_id for p in dataset.planted if p.rule == "PSM-003"}
    known = set(reference.bvl_products()["kennr"])
    psm = dataset.table("articles").filter((pl.col("category") == "psm") & ~pl.col("article_id").is_in(list(planted)))
    assert psm.height > 50
    assert set(psm["psm_reg_no"]) <= known
    assert psm["psm_reg_no"].str.len_chars().unique().to_list() == [9]


def test_sales_are_seasonal(dataset):
    lines = dataset.table("sales_order_lines").join(
        dataset.table("articles").select("article_id", "category"), on="article_id"
    )
    by_month = lines.group_by("category", month=pl.col("updated_at").dt.month()).agg(n=pl.len())

    def share(category: str, months: list[int]) -> float:
        rows = by_month.filter(pl.col("category") == category)
        return rows.filter(pl.col("month").is_in(months))["n"].sum() / rows["n"].sum()

    assert share("fertilizer", [2, 3, 4, 5]) > 0.5  # spring spreading
    assert share("seed", [3, 4, 8, 9, 10]) > 0.6  # spring and autumn sowing
    assert share("grain", [7, 8, 9]) > 0.3  # harvest


def test_skonto_terms_and_late_payments_exist(dataset):
    inv = dataset.table("invoices")
    terms = inv.filter(pl.col("skonto_pct").is_not_null()).group_by("skonto_pct", "skonto_days", "net_days").len()
    assert terms.filter((pl.col("skonto_pct") == 2) & (pl.col("skonto_days") == 10) & (pl.col("net_days") == 30)).height
    late = (
        dataset.table("payments")
        .join(inv, on="invoice_id")
        .filter(pl.col("paid_on") > pl.col("invoice_date") + pl.duration(days=pl.col("net_days")))
    )
    assert late.height > 10


def test_outbox_ids_are_unordered_and_commit_out_of_order(dataset):
    ev = dataset.table("outbox_events").sort("created_at")
    assert not ev["id"].is_sorted()
    published = ev.filter(pl.col("published_at").is_not_null())
    assert (published["published_at"].dt.replace_time_zone(None) >= published["created_at"]).all()
    assert ev.filter(pl.col("published_at").is_null()).height > 0  # fresh or dead-lettered
    assert ev.filter(pl.col("retry_count") > 0).height > 0


def test_sagas_include_stuck_and_compensated(dataset):
    state = dataset.table("saga_state")
    steps = dataset.table("saga_steps")
    assert dataset.sagas["stuck"] and dataset.sagas["compensated"]
    stuck = state.filter(pl.col("saga_id").is_in(dataset.sagas["stuck"]))
    assert set(stuck["status"]) <= {"STARTED", "COMPENSATING"}
    compensated = steps.filter(pl.col("saga_id").is_in(dataset.sagas["compensated"]))
    assert "COMPENSATED" in set(compensated["status"]) and "FAILED" in set(compensated["status"])


def test_audit_sequence_increases_with_time(dataset):
    log = dataset.table("audit_log").sort("seq")
    assert log["occurred_at"].is_sorted()


# ------------------------------------------------------------------------- planted violations


def _planted(dataset) -> dict[str, set[str]]:
    out = defaultdict(set)
    for p in dataset.planted:
        out[p.rule].add(p.entity_id)
    return out


def test_every_rule_has_planted_violations(dataset):
    planted = _planted(dataset)
    assert set(planted) == set(PLANTED_AT_SCALE_1)
    assert all(planted[rule] for rule in PLANTED_AT_SCALE_1)


@pytest.mark.parametrize("rule", sorted(seed_rules.RULES))
def test_planted_violations_are_in_the_data(dataset, rule):
    settings = seed_rules.typed(FOUND_WITH.get(rule, {}))  # e.g. a gap is evidence only under a gapless guarantee
    found = seed_rules.RULES[rule](dataset.table, AS_OF, **settings)
    missing = _planted(dataset)[rule] - found
    assert not missing, f"{rule}: planted but not in the data: {sorted(missing)[:5]}"


def test_near_misses_sit_on_the_clean_side_of_their_rule(dataset):
    """Each corrected edge has an entity right at it that the rule must not find."""
    edges = {p.rule for p in dataset.near_misses}
    assert {"EXP-002", "ENNI-001", "ENNI-002", "GOBD-002", "LKSG-001", "LKSG-003", "PSM-002"} <= edges
    for p in dataset.near_misses:
        settings = seed_rules.typed(p.detail.get("judged_with", {}))  # GOBD-002's grace edge: under its settings
        assert p.entity_id not in seed_rules.RULES[p.rule](dataset.table, AS_OF, **settings), (p.rule, p.detail["edge"])


def test_each_threshold_has_a_break_at_its_edge_and_a_near_miss_one_unit_inside(dataset):
    """Breaks far from their threshold let a rule off by one unit pass: for every rule with a date or a
    threshold the demo data holds the first entity past the edge and the last one before it
    (edges.py), in the manifest with the unit they are one apart in."""
    at_edge = {(p.rule, p.detail["unit"]) for p in dataset.planted if "unit" in p.detail}
    inside = {(p.rule, p.detail["unit"]) for p in dataset.near_misses if "unit" in p.detail}
    assert {rule for rule, _ in at_edge} >= set(EDGE_RULES)
    assert {rule for rule, _ in inside} >= set(EDGE_RULES)
    assert {unit for _, unit in at_edge | inside} == {"day", "second", "kg"}
    manifest = dataset.manifest()
    assert sum("unit" in p["detail"] for p in manifest["planted"] + manifest["near_misses"]) >= 2 * len(EDGE_RULES)


def test_the_reference_statement_takes_the_ched_deadline_on_the_wall_clock():
    """The night the clocks go back a day has 25 hours: a CHED for a Sunday 07:00 (CET) arrival is due
    on Friday at 07:00 (CEST), as the SQL rule says, not eight elapsed hours after Friday's midnight."""
    arrival = dt.datetime(2026, 10, 25, 6, tzinfo=dt.UTC)
    docs = pl.DataFrame(
        {"document_id": ["on_time", "late"], "kind": "CHED-P", "arrival_at": [arrival, arrival],
         "submitted_at": [dt.datetime(2026, 10, 23, 5, tzinfo=dt.UTC), dt.datetime(2026, 10, 23, 5, 0, 1, tzinfo=dt.UTC)]}
    )  # fmt: skip
    assert seed_rules.traces_002(lambda _: docs, dt.date(2026, 10, 26)) == {"late"}


@pytest.mark.parametrize("rule", sorted(seed_rules.ONLY_PLANTED))
def test_clean_data_does_not_break_the_rule(dataset, rule):
    found = seed_rules.RULES[rule](dataset.table, AS_OF)
    unplanned = found - _planted(dataset)[rule]
    assert not unplanned, f"{rule}: {len(unplanned)} violations nobody planted, e.g. {sorted(unplanned)[:3]}"


def test_violations_are_a_few_per_mille(dataset):
    lines = dataset.table("sales_order_lines").height
    line_rules = {"PSM-001", "PSM-002", "EXP-001", "EXP-002", "EXP-003", "TRACES-003"}
    planted_lines = sum(len(v) for r, v in _planted(dataset).items() if r in line_rules)
    assert 0.001 < planted_lines / lines < 0.05


def test_manifest_names_real_entities(dataset):
    ids = {
        "sales_order_line": set(dataset.table("sales_order_lines")["line_id"]),
        "sales_order": set(dataset.table("sales_orders")["order_id"]),
        "article": set(dataset.table("articles")["article_id"]),
        "customer": set(dataset.table("customers")["customer_id"]),
        "supplier": set(dataset.table("suppliers")["supplier_id"]),
        "invoice": set(dataset.table("invoices")["invoice_id"]),
        "payment": set(dataset.table("payments")["payment_id"]),
        "manure_delivery": set(dataset.table("manure_deliveries")["delivery_id"]),
        "suspicious_transaction": set(dataset.table("suspicious_transactions")["case_id"]),
        "import_document": set(dataset.table("import_documents")["document_id"]),
        "purchase_order": set(dataset.table("purchase_orders")["po_id"]),
        "purchase_order_line": set(dataset.table("purchase_order_lines")["po_line_id"]),
        "stock_movement": set(dataset.table("stock_movements")["movement_id"]),
        "gdpr_request": set(dataset.table("gdpr_requests")["request_id"]),
        "staff": set(dataset.table("staff")["staff_id"]),
        "business_partner": set(dataset.table("customers")["customer_id"])
        | set(dataset.table("suppliers")["supplier_id"]),
    }
    for p in dataset.planted + dataset.near_misses:
        if p.entity_type == "audit_log":
            continue  # a gap: the row is what is missing
        assert p.entity_id in ids[p.entity_type], (p.rule, p.entity_type)
        assert p.tenant_id in {"lh-nord", "lh-sued"}


def test_as_of_moves_the_data_with_it():
    later = generate(seed=SEED, scale=0.01, as_of=dt.date(2027, 3, 1))
    assert later.table("sales_orders")["ordered_at"].max().date() <= dt.date(2027, 3, 1)
    assert later.table("sales_orders")["ordered_at"].min().date() >= dt.date(2025, 3, 1)
    assert TABLES_BY_NAME  # the contract is importable alongside
