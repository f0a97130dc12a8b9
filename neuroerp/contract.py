"""The ERP source contract as data.

One declaration of every table of `shared/contract/erp-source.md` serves the PostgreSQL and SQLite
DDL, the warehouse types and the ingest validation, so the three can never disagree.

Version 1.1 added optional columns (lots, dispatch country, precursor concentration, nitrogen of
animal origin, staff training): they are declared with `since="1.1"`; the project's DDL and the demo
generator include them, and a source that lacks them still ingests (read as null, see
`neuroerp.ingest`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ColumnType(enum.Enum):
    """Logical column types of the contract."""

    TEXT = "text"
    UUID = "uuid"
    BOOL = "bool"
    INT = "int"
    BIGINT = "bigint"
    MONEY = "money"  # numeric(14,2), EUR
    QUANTITY = "quantity"  # numeric(14,3)
    PERCENT = "percent"  # numeric(6,3), 2.0 means 2 %
    TIMESTAMPTZ = "timestamptz"
    TIMESTAMP = "timestamp"  # without time zone: only outbox_events.created_at
    DATE = "date"
    JSONB = "jsonb"
    JSON_TEXT = "json_text"  # a text column that must hold JSON (outbox payload)

    @property
    def numeric_precision(self) -> tuple[int, int] | None:
        return {
            ColumnType.MONEY: (14, 2),
            ColumnType.QUANTITY: (14, 3),
            ColumnType.PERCENT: (6, 3),
        }.get(self)

    @property
    def duckdb_type(self) -> str:
        """The type in the warehouse: exact decimals, UTC instants, UUID and JSON as such."""
        return _DUCKDB_TYPES[self]

    @property
    def polars_type(self):
        """The dtype in a typed frame; UUID and JSON travel as text and become UUID/JSON in DuckDB."""
        import polars as pl  # the contract stays importable without polars' start-up cost

        if self.numeric_precision:
            return pl.Decimal(*self.numeric_precision)
        return {
            ColumnType.BOOL: pl.Boolean(),
            ColumnType.INT: pl.Int32(),
            ColumnType.BIGINT: pl.Int64(),
            ColumnType.TIMESTAMPTZ: pl.Datetime("us", "UTC"),
            ColumnType.TIMESTAMP: pl.Datetime("us"),
            ColumnType.DATE: pl.Date(),
        }.get(self, pl.String())


_DUCKDB_TYPES = {
    ColumnType.TEXT: "VARCHAR",
    ColumnType.JSON_TEXT: "VARCHAR",
    ColumnType.UUID: "UUID",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.INT: "INTEGER",
    ColumnType.BIGINT: "BIGINT",
    ColumnType.MONEY: "DECIMAL(14,2)",
    ColumnType.QUANTITY: "DECIMAL(14,3)",
    ColumnType.PERCENT: "DECIMAL(6,3)",
    ColumnType.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
    ColumnType.JSONB: "JSON",
}


class Semantic(enum.Enum):
    """Value domains checked beyond the type."""

    COUNTRY = "iso_country"  # ISO 3166-1 alpha-2
    GERMAN_LAND = "german_land"


class TableKind(enum.Enum):
    MUTABLE = "mutable"  # carries updated_at: extracted by watermark
    APPEND_ONLY = "append_only"  # rows are only ever added
    SNAPSHOT = "snapshot"  # mutable without updated_at: extracted whole


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = False
    values: tuple[str, ...] | None = None
    references: str | None = None  # "table.column" of the parent row
    semantic: Semantic | None = None
    planned: bool = False  # an instant that may lie ahead (expected arrival, lease end)
    since: str = "1.0"  # contract version that added it; columns added after 1.0 are optional

    @property
    def optional(self) -> bool:
        """A source may lack the column (an ERP not yet upgraded): the pipeline reads it as null."""
        return self.since != "1.0"


@dataclass(frozen=True)
class Table:
    domain: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    kind: TableKind = TableKind.MUTABLE
    append_key: str | None = None  # ordered column of append-only tables
    description: str = ""
    column_index: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_index", {c.name: c for c in self.columns})
        missing = [k for k in self.primary_key if k not in self.column_index]
        if missing:
            raise ValueError(f"{self.name}: primary key columns {missing} are not columns")

    @property
    def qualified_name(self) -> str:
        return f"{self.domain}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def optional_columns(self) -> list[str]:
        """Columns added after contract 1.0, which a source may lack."""
        return [c.name for c in self.columns if c.optional]

    def column(self, name: str) -> Column:
        return self.column_index[name]

    @property
    def has_soft_delete(self) -> bool:
        return "deleted_at" in self.column_index

    @property
    def watermark_column(self) -> str | None:
        if self.kind is TableKind.MUTABLE:
            return "updated_at"
        if self.kind is TableKind.APPEND_ONLY:
            return self.append_key
        return None


T = ColumnType


def _c(name: str, type_: ColumnType = T.TEXT, **kw) -> Column:
    return Column(name, type_, **kw)


def _null(name: str, type_: ColumnType = T.TEXT, **kw) -> Column:
    return Column(name, type_, nullable=True, **kw)


def _enum(name: str, values: str, nullable: bool = False) -> Column:
    return Column(name, T.TEXT, nullable=nullable, values=tuple(values.split("|")))


def _v11(name: str, type_: ColumnType = T.TEXT, **kw) -> Column:
    """A column of contract version 1.1: nullable, and a source may lack it altogether."""
    return Column(name, type_, nullable=True, since="1.1", **kw)


CONTRACT_VERSION = "1.1"


TENANT = _c("tenant_id")
UPDATED_AT = _c("updated_at", T.TIMESTAMPTZ)
DELETED_AT = _null("deleted_at", T.TIMESTAMPTZ)


TABLES: tuple[Table, ...] = (
    # ---------------------------------------------------------------- crm
    Table(
        "crm",
        "customers",
        (
            _c("customer_id"),
            TENANT,
            _c("customer_no"),
            _c("name"),
            _enum("customer_type", "farm|contractor|retailer|cooperative|industry|private"),
            _c("is_professional", T.BOOL),
            _null("vat_id"),
            _c("street"),
            _c("postal_code"),
            _c("city"),
            _null("state_code", semantic=Semantic.GERMAN_LAND),
            _c("country_code", semantic=Semantic.COUNTRY),
            _null("email"),
            _null("phone"),
            _c("created_at", T.TIMESTAMPTZ),
            UPDATED_AT,
            DELETED_AT,
        ),
        ("customer_id",),
        description="Customers: farms, contractors, retailers, private buyers.",
    ),
    Table(
        "crm",
        "customer_certificates",
        (
            _c("certificate_id"),
            TENANT,
            _c("customer_id", references="customers.customer_id"),
            _enum("kind", "psm_sachkunde|precursor_customer_statement|id_verification|organic_control"),
            _c("reference_no"),
            _c("issued_on", T.DATE),
            _null("valid_until", T.DATE),
            _null("verified_at", T.TIMESTAMPTZ),
            _null("verified_by"),
            UPDATED_AT,
        ),
        ("certificate_id",),
        description="Certificates a customer has shown: Sachkunde, precursor statements, ID checks.",
    ),
    Table(
        "crm",
        "consents",
        (
            _c("consent_id"),
            TENANT,
            _c("customer_id", references="customers.customer_id"),
            _enum("purpose", "marketing_email|marketing_phone|data_sharing"),
            _c("granted_at", T.TIMESTAMPTZ),
            _null("revoked_at", T.TIMESTAMPTZ),
            _null("evidence"),
            UPDATED_AT,
        ),
        ("consent_id",),
        description="GDPR consents per customer and purpose.",
    ),
    Table(
        "crm",
        "gdpr_requests",
        (
            _c("request_id"),
            TENANT,
            _c("customer_id", references="customers.customer_id"),
            _enum("kind", "access|erasure|rectification|restriction"),
            _c("received_at", T.TIMESTAMPTZ),
            _null("completed_at", T.TIMESTAMPTZ),
            _enum("status", "open|completed|rejected"),
            _c("legal_hold", T.BOOL),
            UPDATED_AT,
        ),
        ("request_id",),
        description="Data-subject requests (GDPR Art. 15-18).",
    ),
    # --------------------------------------------------------- purchasing
    Table(
        "purchasing",
        "suppliers",
        (
            _c("supplier_id"),
            TENANT,
            _c("supplier_no"),
            _c("name"),
            _c("country_code", semantic=Semantic.COUNTRY),
            _null("iban"),
            _null("bic"),
            _enum("lksg_risk_level", "low|medium|high", nullable=True),
            _null("lksg_assessed_on", T.DATE),
            _c("code_of_conduct_signed", T.BOOL),
            UPDATED_AT,
            DELETED_AT,
        ),
        ("supplier_id",),
        description="Suppliers with bank details and LkSG risk assessment.",
    ),
    Table(
        "purchasing",
        "purchase_orders",
        (
            _c("po_id"),
            TENANT,
            _c("supplier_id", references="suppliers.supplier_id"),
            _c("po_no"),
            _c("ordered_at", T.TIMESTAMPTZ),
            _c("expected_on", T.DATE),
            _enum("status", "open|received|cancelled"),
            UPDATED_AT,
        ),
        ("po_id",),
        description="Purchase orders to suppliers.",
    ),
    Table(
        "purchasing",
        "purchase_order_lines",
        (
            _c("po_line_id"),
            TENANT,
            _c("po_id", references="purchase_orders.po_id"),
            _c("article_id", references="articles.article_id"),
            _c("warehouse_id", references="warehouses.warehouse_id"),
            _c("quantity", T.QUANTITY),
            _c("unit_price", T.MONEY),
            _null("received_at", T.TIMESTAMPTZ),
            _c("origin_country_code", semantic=Semantic.COUNTRY),
            _null("dds_reference"),
            _v11("batch_no"),
            _v11("dispatch_country_code", semantic=Semantic.COUNTRY),
            UPDATED_AT,
        ),
        ("po_line_id",),
        description="Purchase order lines with origin and EUDR due-diligence reference.",
    ),
    Table(
        "purchasing",
        "import_documents",
        (
            _c("document_id"),
            TENANT,
            _c("po_id", references="purchase_orders.po_id"),
            _enum("kind", "CHED-P|CHED-PP|CHED-D|COI"),
            _c("reference_no"),
            _null("submitted_at", T.TIMESTAMPTZ),
            _c("arrival_at", T.TIMESTAMPTZ, planned=True),
            _enum("status", "draft|submitted|validated|endorsed|rejected"),
            UPDATED_AT,
        ),
        ("document_id",),
        description="TRACES NT import documents (CHED, certificates of inspection).",
    ),
    # ---------------------------------------------------------- inventory
    Table(
        "inventory",
        "articles",
        (
            _c("article_id"),
            TENANT,
            _c("article_no"),
            _c("name"),
            _c("description"),
            _enum("category", "psm|fertilizer|seed|feed|grain|biostimulant|other"),
            _enum("unit", "kg|t|l|piece|bag"),
            _c("pack_size", T.QUANTITY),
            _null("supplier_id", references="suppliers.supplier_id"),
            _c("unit_cost", T.MONEY),
            _c("list_price", T.MONEY),
            _c("lead_time_days", T.INT),
            _c("min_order_qty", T.QUANTITY),
            _c("is_active", T.BOOL),
            _null("psm_reg_no"),
            _null("psm_authorized_until", T.DATE),
            _enum("psm_withdrawal_kind", "expired|holder_request|authority_risk", nullable=True),
            _c("psm_professional_only", T.BOOL),
            _null("n_total_pct", T.PERCENT),
            _null("n_from_an_pct", T.PERCENT),
            _enum("precursor_annex", "I|II", nullable=True),
            _null("precursor_substance"),
            _null("detonation_test_ref"),
            _c("is_organic", T.BOOL),
            _enum("import_control", "CHED-P|CHED-PP|CHED-D", nullable=True),
            _enum("eudr_commodity", "soya|palm|cattle|cocoa|coffee|rubber|wood", nullable=True),
            _v11("precursor_concentration_pct", T.PERCENT),
            UPDATED_AT,
            DELETED_AT,
        ),
        ("article_id",),
        description="Articles: plant protection, fertiliser, seed, feed, grain.",
    ),
    Table(
        "inventory",
        "warehouses",
        (
            _c("warehouse_id"),
            TENANT,
            _c("name"),
            _c("state_code", semantic=Semantic.GERMAN_LAND),
            _null("capacity_t", T.QUANTITY),
            UPDATED_AT,
        ),
        ("warehouse_id",),
        description="Warehouses and sales sites.",
    ),
    Table(
        "inventory",
        "stock_levels",
        (
            _c("article_id", references="articles.article_id"),
            _c("warehouse_id", references="warehouses.warehouse_id"),
            TENANT,
            _c("on_hand", T.QUANTITY),
            _c("reserved", T.QUANTITY),
            UPDATED_AT,
        ),
        ("article_id", "warehouse_id"),
        description="Current stock per article and warehouse.",
    ),
    Table(
        "inventory",
        "stock_movements",
        (
            _c("movement_id"),
            TENANT,
            _c("article_id", references="articles.article_id"),
            _c("warehouse_id", references="warehouses.warehouse_id"),
            _c("quantity", T.QUANTITY),
            _enum("kind", "receipt|sale|transfer_in|transfer_out|adjustment|loss"),
            _c("occurred_at", T.TIMESTAMPTZ),
            _null("reference_id"),
        ),
        ("movement_id",),
        kind=TableKind.APPEND_ONLY,
        append_key="occurred_at",
        description="Stock movements (append-only, signed quantities).",
    ),
    # -------------------------------------------------------------- sales
    Table(
        "sales",
        "staff",
        (
            _c("staff_id"),
            TENANT,
            _c("name"),
            _null("psm_sachkunde_no"),
            _c("active", T.BOOL),
            _v11("psm_training_due_on", T.DATE),
            UPDATED_AT,
        ),
        ("staff_id",),
        description="Sales staff with their own PSM Sachkunde.",
    ),
    Table(
        "sales",
        "sales_orders",
        (
            _c("order_id"),
            TENANT,
            _c("order_no"),
            _c("customer_id", references="customers.customer_id"),
            _c("ordered_at", T.TIMESTAMPTZ),
            _enum("channel", "counter|field|webshop|phone"),
            _enum("status", "open|delivered|invoiced|cancelled"),
            _null("sold_by", references="staff.staff_id"),
            UPDATED_AT,
        ),
        ("order_id",),
        description="Sales orders.",
    ),
    Table(
        "sales",
        "sales_order_lines",
        (
            _c("line_id"),
            TENANT,
            _c("order_id", references="sales_orders.order_id"),
            _c("article_id", references="articles.article_id"),
            _c("warehouse_id", references="warehouses.warehouse_id"),
            _c("quantity", T.QUANTITY),
            _c("unit_price", T.MONEY),
            _null("delivered_at", T.TIMESTAMPTZ),
            _null("delivery_state_code", semantic=Semantic.GERMAN_LAND),
            _v11("batch_no"),
            UPDATED_AT,
        ),
        ("line_id",),
        description="Sales order lines.",
    ),
    # --------------------------------------------------------- compliance
    Table(
        "compliance",
        "manure_deliveries",
        (
            _c("delivery_id"),
            TENANT,
            _enum("direction", "out|in"),
            _c("partner_id"),
            _c("delivered_on", T.DATE),
            _c("tonnes", T.QUANTITY),
            _null("n_kg_per_t", T.QUANTITY),
            _null("p2o5_kg_per_t", T.QUANTITY),
            _c("state_code", semantic=Semantic.GERMAN_LAND),
            _null("report_ref"),
            _null("reported_on", T.DATE),
            _v11("n_animal_kg_per_t", T.QUANTITY),
            UPDATED_AT,
        ),
        ("delivery_id",),
        description="Manure and digestate deliveries (WDüngV).",
    ),
    Table(
        "compliance",
        "suspicious_transactions",
        (
            _c("case_id"),
            TENANT,
            _null("order_id", references="sales_orders.order_id"),
            _null("customer_id", references="customers.customer_id"),
            _enum("kind", "suspicious|refused|loss|theft"),
            _c("flagged_at", T.TIMESTAMPTZ),
            _null("reported_at", T.TIMESTAMPTZ),
            _null("authority_ref"),
            UPDATED_AT,
        ),
        ("case_id",),
        description="Explosives-precursor cases (EU 2019/1148 Art. 9).",
    ),
    # ------------------------------------------------------------ finance
    Table(
        "finance",
        "invoices",
        (
            _c("invoice_id"),
            TENANT,
            _c("invoice_no"),
            _enum("kind", "AP|AR"),
            _c("partner_id"),
            _c("invoice_date", T.DATE),
            _c("net_amount", T.MONEY),
            _c("tax_amount", T.MONEY),
            _c("gross_amount", T.MONEY),
            _enum("currency", "EUR"),
            _null("skonto_pct", T.PERCENT),
            _null("skonto_days", T.INT),
            _c("net_days", T.INT),
            _enum("status", "open|partially_paid|paid|cancelled"),
            _null("posted_at", T.TIMESTAMPTZ),
            UPDATED_AT,
        ),
        ("invoice_id",),
        description="Invoices payable (AP) and receivable (AR).",
    ),
    Table(
        "finance",
        "payments",
        (
            _c("payment_id"),
            TENANT,
            _c("invoice_id", references="invoices.invoice_id"),
            _c("paid_on", T.DATE),
            _c("amount", T.MONEY),
            _c("skonto_amount", T.MONEY),
            UPDATED_AT,
        ),
        ("payment_id",),
        description="Payments against invoices, with the cash discount deducted.",
    ),
    Table(
        "finance",
        "cash_positions",
        (
            TENANT,
            _c("as_of", T.DATE),
            _c("bank_balance", T.MONEY),
            _c("credit_line_limit", T.MONEY),
            _c("credit_line_rate_pct", T.PERCENT),
            UPDATED_AT,
        ),
        ("tenant_id", "as_of"),
        description="Daily bank balance and credit line.",
    ),
    Table(
        "finance",
        "cash_forecast",
        (
            TENANT,
            _c("day", T.DATE),
            _c("expected_inflow", T.MONEY),
            _c("expected_outflow", T.MONEY),
            UPDATED_AT,
        ),
        ("tenant_id", "day"),
        description="Expected daily cash flows other than AP invoices.",
    ),
    # -------------------------------------------------------------- audit
    Table(
        "audit",
        "audit_log",
        (
            _c("seq", T.BIGINT),
            TENANT,
            _c("occurred_at", T.TIMESTAMPTZ),
            _c("actor"),
            _enum("action", "create|update|delete|export|login"),
            _c("entity_type"),
            _c("entity_id"),
            _null("correlation_id"),
            _null("ip"),
            _null("user_agent"),
            _null("before", T.JSONB),
            _null("after", T.JSONB),
        ),
        ("seq",),
        kind=TableKind.APPEND_ONLY,
        append_key="seq",
        description="Audit trail (append-only by contract, strictly increasing seq).",
    ),
    # ----------------------------------------------------------- eventbus
    Table(
        "eventbus",
        "outbox_events",
        (
            _c("id", T.UUID),
            _c("event_type"),
            _c("aggregate_type"),
            _c("aggregate_id"),
            _c("payload", T.JSON_TEXT),
            _null("metadata", T.JSONB),
            TENANT,
            _c("created_at", T.TIMESTAMP),
            _null("published_at", T.TIMESTAMPTZ),
            _c("retry_count", T.INT),
            _null("last_error"),
        ),
        ("id",),
        kind=TableKind.SNAPSHOT,
        description="Transactional outbox of the ERP's event bus (ids unordered).",
    ),
    Table(
        "eventbus",
        "saga_state",
        (
            _c("saga_id", T.UUID),
            _c("saga_type"),
            _c("current_step"),
            _enum("status", "STARTED|COMPLETED|COMPENSATING|FAILED"),
            _c("payload", T.JSONB),
            _null("compensation_data", T.JSONB),
            _c("started_at", T.TIMESTAMPTZ),
            UPDATED_AT,
            _null("completed_at", T.TIMESTAMPTZ),
            _null("error"),
        ),
        ("saga_id",),
        description="Saga instances of the ERP's distributed transactions.",
    ),
    Table(
        "eventbus",
        "saga_steps",
        (
            _c("id", T.UUID),
            _c("saga_id", T.UUID, references="saga_state.saga_id"),
            _c("step_name"),
            _enum("status", "PENDING|SUCCESS|FAILED|COMPENSATED"),
            _c("execution_order", T.INT),
            _null("input_data", T.JSONB),
            _null("output_data", T.JSONB),
            _null("error"),
            _null("started_at", T.TIMESTAMPTZ),
            _null("completed_at", T.TIMESTAMPTZ),
            _null("compensated_at", T.TIMESTAMPTZ),
        ),
        ("id",),
        kind=TableKind.SNAPSHOT,
        description="Steps of each saga.",
    ),
    Table(
        "eventbus",
        "event_locks",
        (
            _c("lock_id"),
            _c("locked_by"),
            _c("locked_at", T.TIMESTAMPTZ),
            _c("expires_at", T.TIMESTAMPTZ, planned=True),
        ),
        ("lock_id",),
        kind=TableKind.SNAPSHOT,
        description="Consumer locks of the event bus.",
    ),
    Table(
        "eventbus",
        "idempotency_keys",
        (
            _c("key"),
            _c("event_id", T.UUID),
            _c("processed_at", T.TIMESTAMPTZ),
            _null("result", T.JSONB),
        ),
        ("key",),
        kind=TableKind.SNAPSHOT,
        description="Idempotency keys of processed events.",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
DOMAINS: tuple[str, ...] = tuple(dict.fromkeys(t.domain for t in TABLES))

GERMAN_LANDS: dict[str, str] = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}


def parents(spec: Table) -> list[Table]:
    """The tables this one references."""
    names = dict.fromkeys(c.references.split(".")[0] for c in spec.columns if c.references)
    return [TABLES_BY_NAME[n] for n in names]


def load_order() -> list[Table]:
    """Every table after the tables it references (the contract has no reference cycles)."""
    done: dict[str, Table] = {}

    def visit(spec: Table, path: tuple[str, ...]) -> None:
        if spec.name in done:
            return
        if spec.name in path:
            raise ValueError(f"reference cycle: {' -> '.join(path + (spec.name,))}")
        for parent in parents(spec):
            visit(parent, path + (spec.name,))
        done[spec.name] = spec

    for spec in TABLES:
        visit(spec, ())
    return list(done.values())


def table(name: str) -> Table:
    """The contract table of that name (`customers` or `crm.customers`)."""
    key = name.split(".")[-1]
    try:
        return TABLES_BY_NAME[key]
    except KeyError:
        raise KeyError(f"{name!r} is not a table of the ERP source contract") from None
