"""Each compliance rule on hand-made rows: a case where it fires and a near miss where it must not.

The warehouse holds empty raw tables, the staging views and the rule views; each test inserts a
few rows inside a transaction that is rolled back afterwards. The rules judge as of Monday
2026-06-15 (evaluated at the end of that day, 2026-06-16 00:00 UTC).
"""

import datetime as dt

import duckdb
import pytest

from neuroerp.compliance.fingerprints import record_fingerprints
from neuroerp.contract import TABLES
from neuroerp.ingest.store import ensure_warehouse
from neuroerp.ingest.types import raw_table_ddl
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.reference.warehouse import load_reference_tables
from neuroerp.sqlmodels import build, load_models

AS_OF = dt.date(2026, 6, 15)  # a Monday
EVALUATED = dt.datetime(2026, 6, 16, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)

DEFAULTS = {
    "customers": {"tenant_id": "t", "customer_no": "K1", "name": "Hof Meyer", "customer_type": "farm",
                  "is_professional": True, "street": "Dorfstraße 1", "postal_code": "49661", "city": "Cloppenburg",
                  "state_code": "NI", "country_code": "DE", "created_at": T0, "updated_at": T0},
    "customer_certificates": {"tenant_id": "t", "reference_no": "R", "issued_on": dt.date(2020, 1, 1),
                              "verified_at": T0, "verified_by": "x", "updated_at": T0},
    "consents": {"tenant_id": "t", "updated_at": T0},
    "gdpr_requests": {"tenant_id": "t", "kind": "erasure", "status": "open", "legal_hold": False, "updated_at": T0},
    "suppliers": {"tenant_id": "t", "supplier_no": "L1", "name": "Lieferant", "country_code": "DE",
                  "lksg_risk_level": "low", "lksg_assessed_on": dt.date(2026, 5, 1), "code_of_conduct_signed": True,
                  "updated_at": T0},
    "articles": {"tenant_id": "t", "article_no": "A1", "name": "Artikel", "description": "", "category": "other",
                 "unit": "t", "pack_size": 1, "unit_cost": 1, "list_price": 1, "lead_time_days": 1,
                 "min_order_qty": 1, "is_active": True, "psm_professional_only": False, "is_organic": False,
                 "updated_at": T0},
    "staff": {"tenant_id": "t", "name": "Verkäufer", "active": True, "updated_at": T0},
    "sales_orders": {"tenant_id": "t", "order_no": "AU1", "channel": "counter", "status": "invoiced", "updated_at": T0},
    "sales_order_lines": {"tenant_id": "t", "warehouse_id": "w1", "quantity": 1, "unit_price": 1, "updated_at": T0},
    "purchase_orders": {"tenant_id": "t", "supplier_id": "s1", "po_no": "BE1", "ordered_at": T0,
                        "expected_on": dt.date(2026, 2, 1), "status": "received", "updated_at": T0},
    "purchase_order_lines": {"tenant_id": "t", "warehouse_id": "w1", "quantity": 1, "unit_price": 1,
                             "origin_country_code": "DE", "updated_at": T0},
    "import_documents": {"tenant_id": "t", "reference_no": "R", "status": "validated", "updated_at": T0},
    "stock_levels": {"tenant_id": "t", "warehouse_id": "w1", "on_hand": 10, "reserved": 0, "updated_at": T0},
    "stock_movements": {"tenant_id": "t", "warehouse_id": "w1", "quantity": -1, "kind": "loss", "occurred_at": T0},
    "manure_deliveries": {"tenant_id": "t", "direction": "out", "partner_id": "c1", "tonnes": 20,
                          "n_kg_per_t": 4, "p2o5_kg_per_t": 2, "state_code": "NI", "updated_at": T0},
    "suspicious_transactions": {"tenant_id": "t", "kind": "suspicious", "updated_at": T0},
    "invoices": {"tenant_id": "t", "invoice_no": "RE1", "kind": "AR", "partner_id": "c1",
                 "invoice_date": dt.date(2026, 1, 10), "net_amount": 100, "tax_amount": 19, "gross_amount": 119,
                 "currency": "EUR", "net_days": 30, "status": "open"},
    "audit_log": {"tenant_id": "t", "actor": "fibu", "action": "update", "entity_type": "invoice"},
}  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    conn = duckdb.connect(str(tmp_path_factory.mktemp("rules") / "warehouse.duckdb"))
    conn.execute("SET VARIABLE as_of = ?", [AS_OF.isoformat()])
    ensure_warehouse(conn)
    for spec in TABLES:
        conn.execute(raw_table_ddl(spec))
    load_reference_tables(conn)
    record_fingerprints(conn, _fingerprints([]), EVALUATED)
    models = load_models(SQL_ROOT, EXTERNAL)
    for model in models:  # staging, the settings and every rule: what the rules read, and the rules
        if model.schema == "staging" or model.rule or model.relation == "compliance.settings":
            build(conn, model)
    assert conn.execute("SELECT evaluated_at FROM compliance.settings").fetchall() == [(EVALUATED,)]
    yield conn
    conn.close()


@pytest.fixture
def db(warehouse):
    warehouse.execute("BEGIN TRANSACTION")
    yield warehouse
    warehouse.execute("ROLLBACK")


def _fingerprints(rows):
    import polars as pl

    schema = {
        "seq": pl.Int64,
        "tenant_id": pl.String,
        "occurred_at": pl.Datetime("us", "UTC"),
        "fingerprint": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def add(db, table: str, **values) -> None:
    row = {**DEFAULTS.get(table, {}), **values}
    cols = ", ".join(f'"{c}"' for c in row)
    db.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def fired(db, view: str) -> set[str]:
    return {r[0] for r in db.execute(f"SELECT entity_id FROM compliance.{view}").fetchall()}


def sale(db, line: str, customer: str, article: str, on: dt.date, channel="counter", sold_by=None, quantity=1.0,
         status="invoiced"):  # fmt: skip
    ordered = dt.datetime.combine(on, dt.time(10), tzinfo=dt.UTC)
    add(db, "sales_orders", order_id=f"o-{line}", customer_id=customer, ordered_at=ordered, channel=channel,
        sold_by=sold_by, status=status)  # fmt: skip
    add(db, "sales_order_lines", line_id=line, order_id=f"o-{line}", article_id=article, quantity=quantity)


PRO_PSM = dict(category="psm", unit="l", psm_reg_no="004329-00", psm_authorized_until=dt.date(2027, 12, 31),
               psm_professional_only=True)  # fmt: skip


# ------------------------------------------------------------------------------------------ PSM


def test_psm_001_sachkunde_must_be_verified_and_valid_on_the_day(db):
    add(db, "articles", article_id="psm", **PRO_PSM)
    add(db, "articles", article_id="huk", **{**PRO_PSM, "psm_professional_only": False})
    for c in ("none", "verified", "unverified", "later", "same_day", "checked_late"):
        add(db, "customers", customer_id=c)
    add(db, "customer_certificates", certificate_id="1", customer_id="verified", kind="psm_sachkunde")
    add(db, "customer_certificates", certificate_id="2", customer_id="unverified", kind="psm_sachkunde",
        verified_at=None)  # fmt: skip
    add(db, "customer_certificates", certificate_id="3", customer_id="later", kind="psm_sachkunde",
        issued_on=dt.date(2026, 3, 2))  # fmt: skip
    add(db, "customer_certificates", certificate_id="4", customer_id="same_day", kind="psm_sachkunde",
        issued_on=dt.date(2026, 3, 1))  # fmt: skip
    # shown before the sale but only checked a month after it: no checked proof at the time
    add(db, "customer_certificates", certificate_id="5", customer_id="checked_late", kind="psm_sachkunde",
        verified_at=dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))  # fmt: skip
    for c in ("none", "verified", "unverified", "later", "same_day", "checked_late"):
        sale(db, f"l-{c}", c, "psm", dt.date(2026, 3, 1))
    sale(db, "l-huk", "none", "huk", dt.date(2026, 3, 1))  # home-and-garden product: no Sachkunde needed
    sale(db, "l-cancelled", "none", "psm", dt.date(2026, 3, 1), status="cancelled")
    assert fired(db, "psm_001_no_sachkunde") == {"l-none", "l-unverified", "l-later", "l-checked_late"}


@pytest.mark.parametrize(
    "withdrawal, sold_on, fires",
    [
        ("expired", dt.date(2026, 6, 30), False),  # last day of the six-month sell-out
        ("expired", dt.date(2026, 7, 1), True),
        ("holder_request", dt.date(2026, 7, 1), True),
        ("authority_risk", dt.date(2025, 12, 31), False),  # the authorisation's last day
        ("authority_risk", dt.date(2026, 1, 1), True),  # no grace period when withdrawn for risk
    ],
)
def test_psm_002_sell_out_period_edges(db, withdrawal, sold_on, fires):
    add(db, "articles", article_id="a", **{**PRO_PSM, "psm_authorized_until": dt.date(2025, 12, 31),
                                            "psm_withdrawal_kind": withdrawal})  # fmt: skip
    add(db, "customers", customer_id="c")
    sale(db, "l", "c", "a", sold_on)
    assert fired(db, "psm_002_sold_after_authorisation") == ({"l"} if fires else set())


def test_psm_002_still_judges_sales_of_articles_deleted_since(db):
    add(db, "articles", article_id="gone", **{**PRO_PSM, "psm_authorized_until": dt.date(2025, 12, 31)},
        deleted_at=T0)  # fmt: skip
    add(db, "customers", customer_id="c")
    sale(db, "l", "c", "gone", dt.date(2026, 7, 1))
    assert fired(db, "psm_002_sold_after_authorisation") == {"l"}


def test_psm_003_bvl_numbers(db):
    for aid, reg in (("missing", None), ("short", "24395-00"), ("slash", "024395/00"), ("unknown", "099999-99"),
                     ("known", "004329-00"), ("known_letters", "00A271-61")):  # fmt: skip
        add(db, "articles", article_id=aid, **{**PRO_PSM, "psm_reg_no": reg})
    add(db, "articles", article_id="not_psm", psm_reg_no=None)
    db.execute("INSERT INTO reference.bvl_products (kennr, name) VALUES (NULL, 'blank line of an export')")
    assert fired(db, "psm_003_bvl_number") == {"missing", "short", "slash", "unknown"}


@pytest.mark.parametrize(
    "until, on_hand, fires",
    [
        (AS_OF, 5, True),  # expiry exactly today
        (AS_OF + dt.timedelta(days=90), 5, True),
        (AS_OF + dt.timedelta(days=91), 5, False),
        (AS_OF - dt.timedelta(days=1), 5, False),  # already expired: PSM-002's business
        (AS_OF + dt.timedelta(days=10), 0, False),  # nothing in stock
    ],
)
def test_psm_004_expiry_horizon(db, until, on_hand, fires):
    add(db, "articles", article_id="a", **{**PRO_PSM, "psm_authorized_until": until})
    add(db, "stock_levels", article_id="a", on_hand=on_hand)
    assert fired(db, "psm_004_expiring_stock") == ({"a"} if fires else set())


def test_psm_005_seller_needs_sachkunde(db):
    add(db, "articles", article_id="psm", **PRO_PSM)
    add(db, "articles", article_id="seed", category="seed")
    add(db, "customers", customer_id="c")
    add(db, "staff", staff_id="trained", psm_sachkunde_no="NI-SKN-1")
    add(db, "staff", staff_id="untrained")
    sale(db, "a", "c", "psm", AS_OF, sold_by="untrained")
    sale(db, "b", "c", "psm", AS_OF, sold_by="trained")
    sale(db, "c", "c", "seed", AS_OF, sold_by="untrained")
    sale(db, "d", "c", "psm", AS_OF, channel="webshop")
    assert fired(db, "psm_005_staff_without_sachkunde") == {"o-a"}


def test_psm_006_webshop_to_private(db):
    add(db, "articles", article_id="pro", **PRO_PSM)
    add(db, "articles", article_id="huk", **{**PRO_PSM, "psm_professional_only": False})
    add(db, "customers", customer_id="private", customer_type="private", is_professional=False)
    add(db, "customers", customer_id="farm")
    sale(db, "a", "private", "pro", AS_OF, channel="webshop")
    sale(db, "b", "private", "huk", AS_OF, channel="webshop")
    sale(db, "c", "farm", "pro", AS_OF, channel="webshop")
    sale(db, "d", "private", "pro", AS_OF, channel="counter")
    assert fired(db, "psm_006_webshop_private") == {"a"}


# ----------------------------------------------------------------------------------- precursors


def test_exp_001_threshold_of_16_percent(db):
    add(
        db,
        "articles",
        article_id="an16",
        category="fertilizer",
        n_from_an_pct=16.0,
        precursor_substance="Ammonium nitrate",
    )
    add(db, "articles", article_id="an159", category="fertilizer", n_from_an_pct=15.9)
    add(db, "articles", article_id="annex_i", category="fertilizer", precursor_annex="I")
    add(db, "customers", customer_id="private", customer_type="private", is_professional=False)
    add(db, "customers", customer_id="farm")
    sale(db, "a", "private", "an16", AS_OF)
    sale(db, "b", "private", "an159", AS_OF)
    sale(db, "c", "private", "annex_i", AS_OF)
    sale(db, "d", "farm", "an16", AS_OF)
    assert fired(db, "exp_001_annex_i_to_private") == {"a", "c"}


def test_exp_002_statement_from_the_last_12_months(db):
    add(db, "articles", article_id="kas", category="fertilizer", n_from_an_pct=27, precursor_annex="I",
        precursor_substance="Ammonium nitrate")  # fmt: skip
    order_day = dt.date(2026, 6, 1)
    for c, kind, issued in (("fresh", "precursor_customer_statement", dt.date(2025, 6, 2)),
                            ("stale", "precursor_customer_statement", dt.date(2025, 6, 1)),
                            ("id_checked", "id_verification", dt.date(2026, 1, 1)),
                            ("none", None, None)):  # fmt: skip
        add(db, "customers", customer_id=c)
        if kind:
            add(db, "customer_certificates", certificate_id=c, customer_id=c, kind=kind, issued_on=issued)
        sale(db, c, c, "kas", order_day)
    assert fired(db, "exp_002_no_customer_statement") == {"stale", "none"}


def test_exp_003_more_than_twice_the_previous_maximum(db):
    add(
        db,
        "articles",
        article_id="kas",
        category="fertilizer",
        n_from_an_pct=27,
        precursor_substance="Ammonium nitrate",
    )
    add(db, "customers", customer_id="c")
    for i, (qty, day) in enumerate(((1.0, 1), (2.0, 2), (4.0, 3), (8.1, 4))):
        sale(db, f"l{i}", "c", "kas", dt.date(2026, 5, day), quantity=qty)
    # 4 t is exactly twice the previous 2 t (no alarm); 8.1 t is more than twice 4 t
    assert fired(db, "exp_003_unusual_quantity") == {"l3"}


@pytest.mark.parametrize(
    "flagged, reported, fires",
    [
        (T0, T0 + dt.timedelta(hours=24), False),
        (T0, T0 + dt.timedelta(hours=24, seconds=1), True),
        (EVALUATED - dt.timedelta(hours=23), None, False),  # still within the 24 hours
        (EVALUATED - dt.timedelta(hours=25), None, True),
    ],
)
def test_exp_004_report_within_24_hours(db, flagged, reported, fires):
    add(db, "suspicious_transactions", case_id="k", flagged_at=flagged, reported_at=reported)
    assert fired(db, "exp_004_late_report") == ({"k"} if fires else set())


def test_exp_005_detonation_test_from_28_percent(db):
    add(db, "articles", article_id="an28", n_from_an_pct=28.0)
    add(db, "articles", article_id="an279", n_from_an_pct=27.9)
    add(db, "articles", article_id="tested", n_from_an_pct=34.4, detonation_test_ref="BAM-DT-1")
    assert fired(db, "exp_005_detonation_test") == {"an28"}


def test_exp_006_precursor_losses_need_a_reported_case(db):
    add(db, "articles", article_id="kas", n_from_an_pct=27, precursor_substance="Ammonium nitrate")
    add(db, "articles", article_id="seed", category="seed")
    add(db, "suspicious_transactions", case_id="reported", kind="loss", flagged_at=T0, reported_at=T0)
    add(db, "suspicious_transactions", case_id="silent", kind="theft", flagged_at=T0, reported_at=None)
    add(db, "stock_movements", movement_id="explained", article_id="kas", reference_id="reported")
    add(db, "stock_movements", movement_id="unreported_case", article_id="kas", reference_id="silent")
    add(db, "stock_movements", movement_id="no_case", article_id="kas")
    add(db, "stock_movements", movement_id="breakage", article_id="seed")
    assert fired(db, "exp_006_precursor_loss") == {"unreported_case", "no_case"}


def test_exp_007_classification_by_content(db):
    add(db, "articles", article_id="kas_missing", n_from_an_pct=27, precursor_substance="Ammonium nitrate")
    add(
        db,
        "articles",
        article_id="kas_ok",
        n_from_an_pct=27,
        precursor_annex="I",
        precursor_substance="Ammonium nitrate",
    )
    add(db, "articles", article_id="cn_ok", precursor_annex="II", precursor_substance="Calcium nitrate")
    add(db, "articles", article_id="cn_wrong", precursor_annex="I", precursor_substance="Calcium nitrate")
    add(db, "articles", article_id="urea", n_total_pct=46, n_from_an_pct=0)
    assert fired(db, "exp_007_precursor_classification") == {"kas_missing", "cn_wrong"}


# --------------------------------------------------------------------------------------- manure


def test_enni_001_report_within_30_days(db):
    add(db, "manure_deliveries", delivery_id="d31", delivered_on=AS_OF - dt.timedelta(days=31))
    add(db, "manure_deliveries", delivery_id="d30", delivered_on=AS_OF - dt.timedelta(days=30))
    add(db, "manure_deliveries", delivery_id="reported", delivered_on=AS_OF - dt.timedelta(days=90), report_ref="WD-1")
    assert fired(db, "enni_001_unreported_delivery") == {"d31"}


def test_enni_002_nutrients_required(db):
    add(db, "manure_deliveries", delivery_id="no_n", delivered_on=AS_OF, n_kg_per_t=None)
    add(db, "manure_deliveries", delivery_id="no_p", delivered_on=AS_OF, p2o5_kg_per_t=None)
    add(db, "manure_deliveries", delivery_id="ok", delivered_on=AS_OF)
    assert fired(db, "enni_002_missing_nutrients") == {"no_n", "no_p"}


def test_enni_003_above_200_tonnes_a_year(db):
    for i in range(10):
        add(db, "manure_deliveries", delivery_id=f"a{i}", partner_id="exactly200", delivered_on=dt.date(2026, 3, i + 1))
        add(db, "manure_deliveries", delivery_id=f"b{i}", partner_id="above", delivered_on=dt.date(2026, 3, i + 1),
            tonnes=20.05)  # fmt: skip
    assert fired(db, "enni_003_reportable_partner") == {"above/2026"}


# --------------------------------------------------------------------------------------- TRACES


def test_traces_001_documents_by_kind_for_non_eu_imports(db):
    add(db, "articles", article_id="bio", is_organic=True)
    add(db, "articles", article_id="fish", import_control="CHED-P")
    add(db, "articles", article_id="plain")
    for po, art, origin, doc in (("p1", "bio", "UA", None), ("p2", "bio", "UA", "COI"), ("p3", "bio", "AT", None),
                                 ("p4", "fish", "PE", "CHED-PP"), ("p5", "fish", "PE", "CHED-P"),
                                 ("p6", "plain", "UA", None)):  # fmt: skip
        add(db, "purchase_orders", po_id=po)
        add(db, "purchase_order_lines", po_line_id=f"l-{po}", po_id=po, article_id=art, origin_country_code=origin)
        if doc:
            add(db, "import_documents", document_id=f"d-{po}", po_id=po, kind=doc, arrival_at=T0, submitted_at=T0)
    assert fired(db, "traces_001_missing_document") == {"l-p1", "l-p4"}


def test_traces_001_organic_goods_under_import_control_need_both_documents(db):
    add(db, "articles", article_id="bio_peanut", is_organic=True, import_control="CHED-D")
    for po, docs in (("only_coi", ["COI"]), ("both", ["COI", "CHED-D"])):
        add(db, "purchase_orders", po_id=po)
        add(db, "purchase_order_lines", po_line_id=po, po_id=po, article_id="bio_peanut", origin_country_code="AR")
        for kind in docs:
            add(db, "import_documents", document_id=f"{po}-{kind}", po_id=po, kind=kind, arrival_at=T0, submitted_at=T0)
    assert fired(db, "traces_001_missing_document") == {"only_coi"}
    (evidence,) = db.execute("SELECT evidence FROM compliance.traces_001_missing_document").fetchall()[0]
    assert '"documents_missing":["CHED-D"]' in evidence


MONDAY_6 = dt.datetime(2026, 6, 8, 6, tzinfo=dt.UTC)
WEDNESDAY_6 = dt.datetime(2026, 6, 10, 6, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "arrival, submitted, fires",
    [
        (MONDAY_6, MONDAY_6 - dt.timedelta(days=3), False),  # Friday 06:00 for a Monday arrival
        (MONDAY_6, MONDAY_6 - dt.timedelta(days=3) + dt.timedelta(minutes=1), True),  # Friday 06:01
        (WEDNESDAY_6, WEDNESDAY_6 - dt.timedelta(days=1, minutes=1), False),
        (WEDNESDAY_6, WEDNESDAY_6 - dt.timedelta(hours=23), True),
        (WEDNESDAY_6, None, True),  # never submitted, and the day has passed
    ],
)
def test_traces_002_one_working_day_before_arrival(db, arrival, submitted, fires):
    add(db, "purchase_orders", po_id="p")
    add(db, "import_documents", document_id="d", po_id="p", kind="CHED-P", arrival_at=arrival, submitted_at=submitted)
    assert fired(db, "traces_002_late_ched") == ({"d"} if fires else set())


def test_traces_003_organic_goods_sold_without_endorsed_coi(db):
    add(db, "articles", article_id="bio", is_organic=True)
    add(db, "customers", customer_id="c")
    arrival = dt.datetime(2026, 3, 1, 6, tzinfo=dt.UTC)
    for po, status in (("rejected", "rejected"), ("endorsed", "endorsed")):
        add(db, "purchase_orders", po_id=po)
        add(db, "purchase_order_lines", po_line_id=f"l-{po}", po_id=po, article_id="bio", origin_country_code="UA")
        add(db, "import_documents", document_id=f"d-{po}", po_id=po, kind="COI", arrival_at=arrival, status=status)
    # a rejected COI replaced by an endorsed one is fine; no COI at all is not
    add(db, "purchase_orders", po_id="replaced")
    add(
        db,
        "purchase_order_lines",
        po_line_id="l-replaced",
        po_id="replaced",
        article_id="bio",
        origin_country_code="UA",
    )
    for status in ("rejected", "endorsed"):
        add(db, "import_documents", document_id=f"r-{status}", po_id="replaced", kind="COI", arrival_at=arrival,
            status=status)  # fmt: skip
    add(db, "purchase_orders", po_id="no_coi")
    add(db, "purchase_order_lines", po_line_id="l-no_coi", po_id="no_coi", article_id="bio", origin_country_code="UA",
        received_at=arrival)  # fmt: skip
    sale(db, "after", "c", "bio", dt.date(2026, 3, 5))
    assert fired(db, "traces_003_organic_without_coi") == {"rejected", "no_coi"}


def test_traces_003_sales_before_arrival_do_not_count(db):
    add(db, "articles", article_id="bio", is_organic=True)
    add(db, "customers", customer_id="c")
    add(db, "purchase_orders", po_id="p")
    add(db, "purchase_order_lines", po_line_id="l", po_id="p", article_id="bio", origin_country_code="UA")
    add(db, "import_documents", document_id="d", po_id="p", kind="COI", status="rejected",
        arrival_at=dt.datetime(2026, 3, 1, 6, tzinfo=dt.UTC))  # fmt: skip
    sale(db, "before", "c", "bio", dt.date(2026, 2, 20))
    assert fired(db, "traces_003_organic_without_coi") == set()


# ------------------------------------------------------------------------------------ LkSG/EUDR


def test_lksg_001_assessment_within_12_months(db):
    add(db, "suppliers", supplier_id="edge", lksg_assessed_on=dt.date(2025, 6, 15))
    add(db, "suppliers", supplier_id="stale", lksg_assessed_on=dt.date(2025, 6, 14))
    add(db, "suppliers", supplier_id="never", lksg_assessed_on=None)
    add(db, "suppliers", supplier_id="gone", lksg_assessed_on=None, deleted_at=T0)
    assert fired(db, "lksg_001_no_risk_assessment") == {"stale", "never"}


def test_lksg_002_high_risk_needs_code_of_conduct(db):
    add(db, "suppliers", supplier_id="high", lksg_risk_level="high", code_of_conduct_signed=False)
    add(db, "suppliers", supplier_id="high_signed", lksg_risk_level="high", code_of_conduct_signed=True)
    add(db, "suppliers", supplier_id="medium", lksg_risk_level="medium", code_of_conduct_signed=False)
    assert fired(db, "lksg_002_high_risk_without_coc") == {"high"}


def test_lksg_003_eudr_from_its_application_date(db):
    add(db, "articles", article_id="soya", eudr_commodity="soya")
    add(db, "articles", article_id="seed")
    for po, day, dds, art in (("on", dt.date(2026, 12, 30), None, "soya"), ("before", dt.date(2026, 12, 29), None, "soya"),
                              ("with_dds", dt.date(2027, 1, 5), "DDS-1", "soya"), ("other", dt.date(2027, 1, 5), None, "seed")):  # fmt: skip
        add(db, "purchase_orders", po_id=po, ordered_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC))
        add(db, "purchase_order_lines", po_line_id=po, po_id=po, article_id=art, dds_reference=dds)
    assert fired(db, "lksg_003_eudr_without_dds") == {"on"}


# ---------------------------------------------------------------------------------------- GDPR


@pytest.mark.parametrize(
    "received, status, hold, fires",
    [
        (EVALUATED - dt.timedelta(days=30, hours=1), "open", False, True),
        (EVALUATED - dt.timedelta(days=29), "open", False, False),
        (EVALUATED - dt.timedelta(days=60), "open", True, False),  # a retention duty blocks erasure
        (EVALUATED - dt.timedelta(days=60), "completed", False, False),
    ],
)
def test_gdpr_001_erasure_within_30_days(db, received, status, hold, fires):
    add(db, "gdpr_requests", request_id="r", customer_id="c", received_at=received, status=status, legal_hold=hold)
    assert fired(db, "gdpr_001_overdue_erasure") == ({"r"} if fires else set())


def test_gdpr_002_retention_of_ten_years(db):
    old = dt.datetime(2016, 6, 14, 9, tzinfo=dt.UTC)  # ten years and a day before AS_OF
    edge = dt.datetime(2016, 6, 15, 9, tzinfo=dt.UTC)
    add(db, "customers", customer_id="dormant", created_at=old, updated_at=old)
    add(db, "customers", customer_id="edge", created_at=edge, updated_at=edge)
    add(db, "customers", customer_id="held", created_at=old, updated_at=old)
    add(db, "gdpr_requests", request_id="h", customer_id="held", received_at=old, legal_hold=True)
    add(db, "customers", customer_id="buyer", created_at=old, updated_at=old)
    sale(db, "recent", "buyer", "x", dt.date(2024, 5, 1))
    assert fired(db, "gdpr_002_retention_exceeded") == {"dormant"}


def test_gdpr_003_marketing_needs_consent_at_send_time(db):
    sent = dt.datetime(2026, 2, 3, 8, tzinfo=dt.UTC)
    for i, c in enumerate(("no_consent", "consented", "revoked_before", "revoked_after")):
        add(db, "audit_log", seq=i, occurred_at=sent, action="export", entity_type="customer", entity_id=c,
            after='{"purpose":"marketing_email","campaign":"Frühjahr"}')  # fmt: skip
    add(
        db,
        "consents",
        consent_id="1",
        customer_id="consented",
        purpose="marketing_email",
        granted_at=T0 - dt.timedelta(days=90),
    )
    add(db, "consents", consent_id="2", customer_id="revoked_before", purpose="marketing_email",
        granted_at=T0 - dt.timedelta(days=90), revoked_at=T0)  # fmt: skip
    add(db, "consents", consent_id="3", customer_id="revoked_after", purpose="marketing_email",
        granted_at=T0 - dt.timedelta(days=90), revoked_at=sent + dt.timedelta(days=1))  # fmt: skip
    add(db, "consents", consent_id="4", customer_id="no_consent", purpose="marketing_phone", granted_at=T0)
    assert fired(db, "gdpr_003_marketing_without_consent") == {"no_consent", "revoked_before"}


# ---------------------------------------------------------------------------------------- GoBD


def test_gobd_001_changes_after_posting_need_an_audit_entry(db):
    posted = dt.datetime(2026, 1, 10, 17, tzinfo=dt.UTC)
    changed = posted + dt.timedelta(hours=2)
    add(db, "invoices", invoice_id="silent", posted_at=posted, updated_at=changed)
    add(db, "invoices", invoice_id="logged", posted_at=posted, updated_at=changed)
    add(db, "audit_log", seq=1, occurred_at=changed, entity_id="logged")
    add(db, "invoices", invoice_id="same_minute", posted_at=posted, updated_at=posted + dt.timedelta(seconds=30))
    add(db, "invoices", invoice_id="draft", posted_at=None, updated_at=changed)
    assert fired(db, "gobd_001_invoice_changed_silently") == {"silent"}


def test_gobd_002_and_003_from_fingerprints(warehouse):
    """Two runs of the fingerprinting (it commits its own transactions): seq 3 was never seen, seq 2
    changed and seq 5 vanished between them. Seq 7 is missing too, but the rows after it are only
    minutes old: maybe a transaction still committing, not yet a gap."""
    fresh = EVALUATED - dt.timedelta(minutes=5)
    rows = [(1, "t", T0, "a"), (2, "t", T0, "b"), (4, "t", T0, "d"), (5, "t", T0, "e"), (6, "t", T0, "f"),
            (8, "t", fresh, "h")]  # fmt: skip
    try:
        record_fingerprints(warehouse, _fingerprints(rows), T0)
        changed = [(1, "t", T0, "a"), (2, "t", T0, "B!"), (4, "t", T0, "d"), (6, "t", T0, "f"), (8, "t", fresh, "h")]
        record_fingerprints(warehouse, _fingerprints(changed), EVALUATED)
        assert fired(warehouse, "gobd_002_audit_sequence_gap") == {"3"}
        assert fired(warehouse, "gobd_003_audit_row_altered") == {"2", "5"}
        first = warehouse.execute("SELECT first_seen_at FROM compliance.audit_fingerprints WHERE seq = 2").fetchall()
        assert first == [(T0,)]
    finally:
        warehouse.execute("DELETE FROM compliance.audit_fingerprints")
