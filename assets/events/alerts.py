"""Alerts for new critical and high compliance cases, kept in compliance.alerts and published to
the event bus (NATS JetStream) when one is configured."""

import datetime as dt

import dagster as dg

from assets.events.resources import NATS_VAR, EventBus
from assets.freshness import HOURLY
from assets.resources import Warehouse
from neuroerp.events.alerts import ALERTS, publish_pending, raise_alerts
from neuroerp.warehouse import scalar

UNPUBLISHED = "no_alert_left_unpublished"


@dg.asset(
    key=["compliance", "alerts"],
    deps=[dg.AssetKey(["compliance", "cases"])],
    group_name="compliance",
    kinds={"duckdb", "nats"},
    owners=["team:compliance"],
    freshness_policy=HOURLY,
    pool="duckdb_warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            UNPUBLISHED,
            asset=dg.AssetKey(["compliance", "alerts"]),
            description=(
                "With an event bus configured, every alert reached it (warn: those that did not are sent by "
                "the next run; the last error says why)."
            ),
        )
    ],
)
def alerts(context: dg.AssetExecutionContext, warehouse: Warehouse, event_bus: EventBus) -> dg.MaterializeResult:
    """One alert per open compliance case of critical or high severity, raised the first time the
    case is seen at that severity (`alert_id` = case id): `tenant_id`, `area`, `severity`,
    `raised_at`, `published_at` (null until the event bus acknowledged it).

    With NEUROERP_NATS_URL set, unpublished alerts go to JetStream, subject
    `neuroerp.alerts.<tenant>.<area>`, message id = alert id (a republish is dropped by the server).
    A publish failure leaves them for the next run.
    """
    now = dt.datetime.now(dt.UTC)
    with warehouse.connect() as conn:
        raised = raise_alerts(conn, now)
        published = publish_pending(conn, event_bus.nats_url, now, event_bus.timeout_s) if event_bus.nats_url else None
        total = scalar(conn, f"SELECT count(*) FROM {ALERTS}")
        waiting = scalar(conn, f"SELECT count(*) FROM {ALERTS} WHERE published_at IS NULL")
        last_error = scalar(conn, f"SELECT max(last_error) FROM {ALERTS} WHERE published_at IS NULL")
    for error in published.errors if published else []:
        context.log.warning(f"alerts not published, kept for the next run: {error}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "raised": raised,
            "published": published.sent if published else 0,
            "republish_dropped_by_server": published.duplicates if published else 0,
            "unpublished": waiting,
            "event_bus": event_bus.nats_url or f"none ({NATS_VAR} unset)",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=UNPUBLISHED,
                passed=not event_bus.nats_url or waiting == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"unpublished": waiting, "last_error": last_error or ""},
            )
        ],
    )
