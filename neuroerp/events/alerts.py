"""Alerts: each compliance case of critical or high severity, raised once, kept in
`compliance.alerts` and published to NATS JetStream when an event bus is configured.

- Raising: an open case of critical or high severity gets one alert per episode: `alert_id` = the
  case id when it first opens, `<case id>:<n>` when it reopens the n-th time (something its last
  decision did not cover was found, or it came back after resolving itself). A case whose severity
  rises to high alerts then. What earlier runs raised is never raised again.
- Publishing: every alert with `published_at` null is sent to the subject
  `neuroerp.alerts.<tenant>.<area>` with the header `Nats-Msg-Id` = alert id. The stream keeps
  message ids for `DUPLICATE_WINDOW_S`, so a republish (a run that died between the server's ack
  and the warehouse update) is dropped by the server. Only acknowledged alerts are marked
  published; a failed publish leaves the rest for the next run with the error and attempt count.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass, field

import duckdb

from neuroerp.warehouse import transaction

ALERTS = "compliance.alerts"
CASES = "compliance.cases"
SEVERITIES = ("critical", "high")
STREAM = "NEUROERP_ALERTS"
SUBJECT_ROOT = "neuroerp.alerts"
DUPLICATE_WINDOW_S = 7 * 24 * 3600.0
PUBLISH_TIMEOUT_S = 5.0

ALERTS_DDL = f"""CREATE TABLE IF NOT EXISTS {ALERTS} (
    alert_id VARCHAR PRIMARY KEY, tenant_id VARCHAR NOT NULL, area VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    rule_id VARCHAR, subject_type VARCHAR, subject_id VARCHAR, raised_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ, subject VARCHAR NOT NULL, payload VARCHAR NOT NULL,
    publish_attempts INTEGER NOT NULL DEFAULT 0, last_error VARCHAR
)"""


def subject_for(tenant_id: str, area: str) -> str:
    """The NATS subject of a tenant's alerts of one area (tokens cleaned of `.`, `*`, `>`, spaces)."""

    def token(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "_", text or "_")

    return f"{SUBJECT_ROOT}.{token(tenant_id)}.{token(area)}"


def raise_alerts(conn: duckdb.DuckDBPyConnection, now: dt.datetime) -> int:
    """Record an alert for each open critical/high case that has none; how many were raised."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS compliance")
    conn.execute(ALERTS_DDL)
    rows = conn.execute(
        f"""SELECT * FROM (
                SELECT CASE WHEN c.reopened > 0 THEN c.case_id || ':' || c.reopened ELSE c.case_id END AS alert_id,
                       c.case_id, c.reopened, c.tenant_id, c.area, c.severity, c.rule_id, c.subject_type,
                       c.subject_id, c.opened_at, c.recommendation, c.legal_basis
                FROM {CASES} AS c
                WHERE c.status = 'open' AND c.severity IN {SEVERITIES}
            ) AS episode
            WHERE NOT EXISTS (SELECT 1 FROM {ALERTS} AS a WHERE a.alert_id = episode.alert_id)
            ORDER BY tenant_id, area, alert_id"""
    ).fetchall()
    records = []
    for (alert_id, case_id, reopened, tenant, area, severity, rule_id, subject_type, subject_id, opened_at,
         recommendation, basis) in rows:  # fmt: skip
        payload = {
            "alert_id": alert_id, "case_id": case_id, "reopened": reopened, "tenant_id": tenant, "area": area,
            "severity": severity, "rule_id": rule_id, "subject_type": subject_type, "subject_id": subject_id,
            "opened_at": opened_at.isoformat() if opened_at else None, "raised_at": now.isoformat(),
            "recommendation": recommendation, "legal_basis": basis,
        }  # fmt: skip
        records.append(
            (alert_id, tenant, area, severity, rule_id, subject_type, subject_id, now, subject_for(tenant, area),
             json.dumps(payload, ensure_ascii=False, sort_keys=True))
        )  # fmt: skip
    if records:
        with transaction(conn):
            conn.executemany(
                f"INSERT INTO {ALERTS} (alert_id, tenant_id, area, severity, rule_id, subject_type, subject_id, "
                "raised_at, subject, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                records,
            )
    return len(records)


@dataclass
class Published:
    sent: int = 0
    duplicates: int = 0  # acknowledged by the server as already stored (a republish it dropped)
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def _quiet(_exc: Exception) -> None:
    """nats-py's error callback; the failure is reported once by `_publish`."""


async def _publish(url: str, pending: list[tuple[str, str, str]], timeout_s: float) -> tuple[dict[str, bool], str]:
    """Publish (alert_id, subject, payload); {alert_id: duplicate} for those the server acknowledged."""
    import nats
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    acked: dict[str, bool] = {}
    try:
        # nats-py keeps retrying a refused first connection when reconnects are off: one retry, bounded
        nc = await asyncio.wait_for(
            nats.connect(
                url, connect_timeout=timeout_s, allow_reconnect=False, max_reconnect_attempts=1, error_cb=_quiet
            ),
            timeout=4 * timeout_s,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to connect leaves everything for the next run
        return acked, f"cannot connect to NATS at {url}: {type(exc).__name__}: {exc}"
    error = ""
    try:
        js = nc.jetstream(timeout=timeout_s)
        config = StreamConfig(name=STREAM, subjects=[f"{SUBJECT_ROOT}.>"], duplicate_window=DUPLICATE_WINDOW_S)
        try:
            await js.stream_info(STREAM)
        except NotFoundError:
            await js.add_stream(config)
        for alert_id, subject, payload in pending:
            ack = await js.publish(subject, payload.encode(), timeout=timeout_s, headers={"Nats-Msg-Id": alert_id})
            acked[alert_id] = bool(ack.duplicate)
    except Exception as exc:  # noqa: BLE001 - what was acknowledged stays acknowledged
        error = f"publishing to NATS at {url} failed: {type(exc).__name__}: {exc}"
    finally:
        await nc.close()
    return acked, error


def publish_pending(
    conn: duckdb.DuckDBPyConnection, url: str, now: dt.datetime, timeout_s: float = PUBLISH_TIMEOUT_S
) -> Published:
    """Send every unpublished alert; mark those the server acknowledged. Raises nothing on a NATS
    failure: the result says what failed and the alerts wait for the next run."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS compliance")
    conn.execute(ALERTS_DDL)
    pending = conn.execute(
        f"SELECT alert_id, subject, payload FROM {ALERTS} WHERE published_at IS NULL ORDER BY raised_at, alert_id"
    ).fetchall()
    if not pending:
        return Published()
    acked, error = asyncio.run(_publish(url, pending, timeout_s))
    with transaction(conn):
        if acked:
            conn.executemany(
                f"UPDATE {ALERTS} SET published_at = ?, publish_attempts = publish_attempts + 1, last_error = NULL "
                "WHERE alert_id = ?",
                [(now, a) for a in acked],
            )
        failed = [a for a, _, _ in pending if a not in acked]
        if failed:
            conn.executemany(
                f"UPDATE {ALERTS} SET publish_attempts = publish_attempts + 1, last_error = ? WHERE alert_id = ?",
                [(error, a) for a in failed],
            )
    return Published(
        sent=sum(1 for d in acked.values() if not d),
        duplicates=sum(1 for d in acked.values() if d),
        failed=len(pending) - len(acked),
        errors=[error] if error else [],
    )
