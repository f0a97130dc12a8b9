"""A live ERP for demos and the freshness benchmark: keeps writing business changes and their
outbox events into a contract source (the demo's SQLite file or a PostgreSQL database).

Each change is one transaction with its outbox row, as the ERP's transactional outbox does it:
- a sales order (1-3 lines of active articles of the tenant) → `sales_order.created`
- a certificate change (a customer's certificate renewed or expired) → `certificate.updated`
- a payment of an open receivable (part of it) → `payment.received`
The ERP's publisher is simulated too: what the simulator wrote is marked published a moment later.
It needs a seeded source (`neuroerp seed`) to pick customers, articles and invoices from.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from neuroerp.contract import ColumnType, table
from neuroerp.source.database import create_source_engine, dialect_of, qualified_name

ACTIONS = (("sales_order", 6), ("certificate", 2), ("payment", 2))
PUBLISH_AFTER_S = 1.0
CENT = Decimal("0.01")


class SimulatorError(RuntimeError):
    """The source cannot be simulated on (not seeded)."""


def _storage(kind: ColumnType, value, dialect: str):
    """A value as the source stores it: SQLite keeps the seed's text forms, PostgreSQL the objects."""
    if value is None or dialect != "sqlite":
        return value
    match kind:
        case ColumnType.TIMESTAMPTZ:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        case ColumnType.TIMESTAMP:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        case ColumnType.DATE:
            return value.isoformat()
        case ColumnType.BOOL:
            return int(value)
        case ColumnType.MONEY | ColumnType.QUANTITY | ColumnType.PERCENT:
            return str(value)
    return value


@dataclass
class Pools:
    customers: list[tuple[str, str]]  # (tenant, customer)
    articles: dict[str, list[tuple[str, Decimal]]]  # tenant -> (article, list price)
    warehouses: dict[str, list[str]]
    certificates: list[tuple[str, str, str]]  # (tenant, certificate, customer)
    invoices: list[tuple[str, str, Decimal]]  # (tenant, invoice, gross)


@dataclass
class Simulator:
    url: str
    seed: int | None = None
    written: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.dialect = dialect_of(self.url)
        self.engine = create_source_engine(self.url)
        self.rng = random.Random(self.seed)
        self.unpublished: list[tuple[float, str]] = []
        self.pools = self._load_pools()

    def _name(self, name: str) -> str:
        return qualified_name(self.dialect, table(name))

    def _load_pools(self) -> Pools:
        with self.engine.connect() as conn:

            def rows(sql: str) -> list[tuple]:
                return [tuple(r) for r in conn.execute(sa.text(sql)).fetchall()]

            customers = rows(f"SELECT tenant_id, customer_id FROM {self._name('customers')} WHERE deleted_at IS NULL")
            articles: dict[str, list] = {}
            for tenant, article, price in rows(
                f"SELECT tenant_id, article_id, list_price FROM {self._name('articles')} WHERE is_active"
            ):
                articles.setdefault(tenant, []).append((article, Decimal(str(price))))
            warehouses: dict[str, list] = {}
            for tenant, warehouse in rows(f"SELECT tenant_id, warehouse_id FROM {self._name('warehouses')}"):
                warehouses.setdefault(tenant, []).append(warehouse)
            certificates = rows(
                f"SELECT tenant_id, certificate_id, customer_id FROM {self._name('customer_certificates')}"
            )
            invoices = [
                (t, i, Decimal(str(g)))
                for t, i, g in rows(
                    f"SELECT tenant_id, invoice_id, gross_amount FROM {self._name('invoices')} "
                    "WHERE kind = 'AR' AND status IN ('open', 'partially_paid')"
                )
            ]
        customers = [c for c in customers if articles.get(c[0]) and warehouses.get(c[0])]
        if not customers:
            raise SimulatorError("the source has no customers with articles and warehouses: seed it first")
        return Pools(customers, articles, warehouses, certificates, invoices)

    def _insert(self, conn: sa.Connection, name: str, row: dict) -> None:
        spec = table(name)
        kinds = {c.name: c.type for c in spec.columns}
        cols = list(row)
        conn.execute(
            sa.text(f"INSERT INTO {self._name(name)} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
            {c: _storage(kinds[c], row[c], self.dialect) for c in cols},
        )

    def _outbox(
        self, conn: sa.Connection, event_type: str, aggregate: tuple[str, str], tenant: str, payload: dict
    ) -> str:
        event_id = str(uuid.uuid4())
        now = dt.datetime.now(dt.UTC)
        self._insert(conn, "outbox_events", {
            "id": event_id, "event_type": event_type, "aggregate_type": aggregate[0], "aggregate_id": aggregate[1],
            "payload": json.dumps(payload, default=str),
            "metadata": json.dumps({"correlation_id": str(uuid.uuid4()), "idempotency_key": event_id}),
            "tenant_id": tenant, "created_at": now.replace(tzinfo=None), "published_at": None, "retry_count": 0,
            "last_error": None,
        })  # fmt: skip
        self.unpublished.append((time.monotonic(), event_id))
        return event_type

    def sales_order(self, conn: sa.Connection, now: dt.datetime) -> str:
        tenant, customer = self.rng.choice(self.pools.customers)
        order_id = str(uuid.uuid4())
        self._insert(conn, "sales_orders", {
            "order_id": order_id, "tenant_id": tenant, "order_no": f"SIM-{order_id[:8].upper()}",
            "customer_id": customer, "ordered_at": now, "channel": self.rng.choice(["counter", "field", "phone"]),
            "status": "open", "sold_by": None, "updated_at": now,
        })  # fmt: skip
        lines = []
        for article, price in self.rng.sample(self.pools.articles[tenant], k=min(3, self.rng.randint(1, 3))):
            line = {
                "line_id": str(uuid.uuid4()), "tenant_id": tenant, "order_id": order_id, "article_id": article,
                "warehouse_id": self.rng.choice(self.pools.warehouses[tenant]),
                "quantity": Decimal(self.rng.randint(1, 20)).quantize(Decimal("0.001")), "unit_price": price,
                "delivered_at": None, "delivery_state_code": None, "updated_at": now,
            }  # fmt: skip
            self._insert(conn, "sales_order_lines", line)
            lines.append({"article_id": article, "quantity": line["quantity"]})
        return self._outbox(conn, "sales_order.created", ("sales_order", order_id), tenant,
                     {"order_id": order_id, "customer_id": customer, "lines": lines})  # fmt: skip

    def certificate(self, conn: sa.Connection, now: dt.datetime) -> str:
        tenant, certificate, customer = self.rng.choice(self.pools.certificates)
        valid_until = now.date() + dt.timedelta(days=self.rng.choice([-30, -1, 365, 730]))
        conn.execute(
            sa.text(
                f"UPDATE {self._name('customer_certificates')} SET valid_until = :v, verified_at = :t, "
                "updated_at = :t WHERE certificate_id = :c"
            ),
            {"v": _storage(ColumnType.DATE, valid_until, self.dialect),
             "t": _storage(ColumnType.TIMESTAMPTZ, now, self.dialect), "c": certificate},
        )  # fmt: skip
        return self._outbox(conn, "certificate.updated", ("customer", customer), tenant,
                     {"certificate_id": certificate, "customer_id": customer, "valid_until": valid_until})  # fmt: skip

    def payment(self, conn: sa.Connection, now: dt.datetime) -> str:
        tenant, invoice, gross = self.rng.choice(self.pools.invoices)
        amount = (gross * Decimal(self.rng.choice([10, 25, 50])) / 100).quantize(CENT)
        payment_id = str(uuid.uuid4())
        self._insert(conn, "payments", {
            "payment_id": payment_id, "tenant_id": tenant, "invoice_id": invoice, "paid_on": now.date(),
            "amount": amount, "skonto_amount": Decimal("0.00"), "updated_at": now,
        })  # fmt: skip
        return self._outbox(conn, "payment.received", ("payment", payment_id), tenant,
                     {"payment_id": payment_id, "invoice_id": invoice, "amount": amount})  # fmt: skip

    def step(self) -> str:
        """One business change with its outbox event, in one transaction; its event type."""
        available = {"sales_order": True, "certificate": bool(self.pools.certificates),
                     "payment": bool(self.pools.invoices)}  # fmt: skip
        names, weights = zip(*[(n, w) for n, w in ACTIONS if available[n]], strict=True)
        action = getattr(self, self.rng.choices(names, weights)[0])
        with self.engine.begin() as conn:
            event_type = action(conn, dt.datetime.now(dt.UTC))
        self.written[event_type] += 1
        self.publish()
        return event_type

    def publish(self, older_than_s: float = PUBLISH_AFTER_S) -> int:
        """The ERP's publisher: mark what the simulator wrote as published once it is a moment old."""
        due = [e for at, e in self.unpublished if time.monotonic() - at >= older_than_s]
        if not due:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(f"UPDATE {self._name('outbox_events')} SET published_at = :t WHERE id = :id"),
                [{"t": _storage(ColumnType.TIMESTAMPTZ, dt.datetime.now(dt.UTC), self.dialect), "id": e} for e in due],
            )
        done = set(due)
        self.unpublished = [(at, e) for at, e in self.unpublished if e not in done]
        return len(due)

    def run(
        self,
        rate: float,
        max_events: int | None = None,
        on_event: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Counter:
        """Write `rate` changes a second until stopped (Ctrl-C raises KeyboardInterrupt out of the
        sleep; every change is committed whole or not at all) or `max_events` are written."""
        interval = 1.0 / rate
        next_at = time.monotonic()
        try:
            while not should_stop() and (max_events is None or sum(self.written.values()) < max_events):
                event_type = self.step()
                if on_event:
                    on_event(event_type)
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            self.publish(older_than_s=0)
            self.engine.dispose()
        return self.written
