"""What the officer report says, read from the warehouse (read-only) for one tenant.

Personal data is minimised: a customer who is a private person, or who ever asked for erasure, or
who was deleted, is named by customer number only, everywhere in the report (subjects, evidence,
risk lists, audit actions). Suppliers, articles, branches and staff appear by number and name.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from neuroerp.archive import manifest_entries
from neuroerp.report.words import (
    AREA_LABELS,
    AREAS,
    CASE_STATUS_LABELS,
    RULE_TEXTS,
    SEVERITIES,
    SEVERITY_LABELS,
    STATUS_LABELS,
    SUBJECT_TYPE_LABELS,
    area_label,
    evidence_in_words,
    exposure_in_words,
)

READS = (  # what the report reads (the asset's dependencies)
    "compliance.settings", "compliance.cases", "compliance.overall_scores", "compliance.area_scores",
    "compliance.exposure", "compliance.score_history", "compliance.entity_scores", "raw.customers",
    "raw.gdpr_requests", "raw.customer_certificates", "raw.suppliers", "raw.articles", "raw.warehouses",
    "raw.staff", "raw.invoices", "raw.purchase_orders", "raw.audit_log",
)  # fmt: skip
SUMMARY = "summary.json"  # beside each report: what the next report compares with
FIRST_REPORT_LOOKBACK_DAYS = 30  # without a previous report: closed cases and audit actions of the last 30 days
OPEN_STATUSES = ("open", "acknowledged")
AUDIT_ACTIONS = ("export", "delete", "erase", "anonymize")  # plus every change of a certificate or data request
AUDIT_ENTITIES = ("customer_certificate", "gdpr_request", "consent")
AUDIT_LIMIT = 40
RISK_LIMIT = 5
RISK_GROUPS = {  # the report's list: the entity types of compliance.entity_scores in it
    "Kunden": ("customer",),
    "Lieferanten": ("supplier",),
    "Artikel": ("article", "psm_product"),
    "Niederlassungen": ("warehouse",),
}


@dataclass(frozen=True)
class PreviousReport:
    folder: Path
    generated_at: dt.datetime
    summary: dict
    pdf_sha256: str | None = None  # as the manifest recorded it: each report cites its predecessor


def tenants(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Every tenant the compliance engine judged (exposure has a row per tenant and area)."""
    rows = conn.execute(
        "SELECT tenant_id FROM compliance.exposure UNION SELECT tenant_id FROM compliance.cases ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def previous_report(reports_root: Path, tenant: str) -> PreviousReport | None:
    """The tenant's latest report folder with its summary (folders sort by their UTC timestamp)."""
    base = Path(reports_root) / "compliance" / tenant
    if not base.is_dir():
        return None
    for folder in sorted(base.iterdir(), key=lambda p: _folder_key(p.name), reverse=True):
        summary = folder / SUMMARY
        if summary.is_file():
            data = json.loads(summary.read_text(encoding="utf-8"))
            pdf = (folder / "report.pdf").relative_to(reports_root).as_posix()
            digest = next((e["sha256"] for e in manifest_entries(reports_root) if e.get("path") == pdf), None)
            return PreviousReport(folder, dt.datetime.fromisoformat(data["generated_at"]), data, digest)
    return None


def _folder_key(name: str) -> tuple[str, int]:
    stem, _, n = name.partition("-")
    return stem, int(n) if n.isdigit() else 0


class Names:
    """How the report names a subject: by the numbers and names people use, a minimised customer by
    customer number only."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, tenant: str):
        rows = conn.execute(
            """
            SELECT c.customer_id, c.customer_no, c.name,
                   c.customer_type = 'private' OR c.deleted_at IS NOT NULL
                   OR c.customer_id IN (SELECT customer_id FROM raw.gdpr_requests WHERE kind = 'erasure')
            FROM raw.customers c WHERE c.tenant_id = ?
            """,
            [tenant],
        ).fetchall()
        self.minimised = {cid for cid, _, _, minimised in rows if minimised}
        self.customer_no = {cid: no for cid, no, _, _ in rows}
        self.by_id: dict[str, str] = {}
        for cid, no, name, minimised in rows:
            self.by_id[cid] = f"Kunde {no}" if minimised else f"{no} {name}"
        queries = {
            "supplier": "SELECT supplier_id, supplier_no || ' ' || name FROM raw.suppliers WHERE tenant_id = ?",
            "article": "SELECT article_id, article_no || ' ' || name FROM raw.articles WHERE tenant_id = ?",
            "warehouse": "SELECT warehouse_id, name FROM raw.warehouses WHERE tenant_id = ?",
            "staff": "SELECT staff_id, name FROM raw.staff WHERE tenant_id = ?",
            "invoice": "SELECT invoice_id, 'Rechnung ' || invoice_no FROM raw.invoices WHERE tenant_id = ?",
            "purchase_order": "SELECT po_id, 'Bestellung ' || po_no FROM raw.purchase_orders WHERE tenant_id = ?",
            "psm_product": "SELECT psm_reg_no, 'BVL ' || psm_reg_no || ' ' || min(name) FROM raw.articles "
            "WHERE tenant_id = ? AND psm_reg_no IS NOT NULL GROUP BY psm_reg_no",
        }
        self.typed: dict[str, dict[str, str]] = {"customer": dict(self.by_id)}
        for kind, sql in queries.items():
            self.typed[kind] = dict(conn.execute(sql, [tenant]).fetchall())
            if kind not in ("psm_product",):
                self.by_id |= self.typed[kind]

    def subject(self, subject_type: str, subject_id: str | None) -> str:
        if subject_type == "tenant":
            return "Betrieb insgesamt"
        if subject_type == "audit_log":
            return "Prüfprotokoll des ERP"
        known = self.typed.get(subject_type, {}).get(subject_id or "")
        return known or f"{SUBJECT_TYPE_LABELS.get(subject_type, subject_type)} {subject_id}"

    def is_minimised(self, subject_type: str, subject_id: str | None) -> bool:
        return subject_type == "customer" and subject_id in self.minimised


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = conn.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _rules() -> dict[str, dict]:
    from neuroerp.project import project_models  # the project's declarations, read once per report

    out = {}
    for model in project_models():
        rule = model.rule
        if rule is not None and model.schema == "compliance":
            out[rule.id] = {
                "id": rule.id,
                "area": rule.area,
                "area_label": area_label(rule.area),
                "severity": rule.severity,
                "severity_label": SEVERITY_LABELS.get(rule.severity, rule.severity),
                "legal_basis": rule.legal_basis,
                "text": RULE_TEXTS.get(rule.id, ""),
                "recommendation": rule.recommendation,
            }
    return dict(sorted(out.items(), key=lambda kv: (AREAS.index(kv[1]["area"]), _rule_number(kv[0]))))


def _rule_number(rule_id: str) -> tuple[str, int]:
    prefix, _, n = rule_id.rpartition("-")
    return prefix, int(n) if n.isdigit() else 0


def _case(row: dict, names: Names) -> dict:
    minimised = names.is_minimised(row["subject_type"], row["subject_id"])
    return {
        "case_id": row["case_id"],
        "short_id": row["case_id"][:8],
        "rule_id": row["rule_id"],
        "area": row["area"],
        "area_label": area_label(row["area"]),
        "severity": row["severity"],
        "severity_label": SEVERITY_LABELS.get(row["severity"], row["severity"]),
        "status": row["status"],
        "status_label": CASE_STATUS_LABELS.get(row["status"], row["status"]),
        "subject_type_label": SUBJECT_TYPE_LABELS.get(row["subject_type"], row["subject_type"]),
        "subject": names.subject(row["subject_type"], row["subject_id"]),
        "opened_at": row["opened_at"],
        "since": row["first_event_at"] or row["opened_at"],  # the business event behind it, else when found
        "standing": row["standing"],
        "first_seen_at": row["first_seen_at"],
        "last_seen_at": row["last_seen_at"],
        "resolved_at": row["resolved_at"],
        "occurrences": row["occurrences"],
        "open_occurrences": row["open_occurrences"],
        "evidence": evidence_in_words(row["evidence"], names.by_id, minimised),
        "recommendation": row["recommendation"],
        "legal_basis": row["legal_basis"],
        "resolution": row["resolution"],
        "decided_status": row["decided_status"],
        "decided_status_label": CASE_STATUS_LABELS.get(row["decided_status"] or "", row["decided_status"]),
        "decided_by": row["decided_by"],
        "decided_at": row["decided_at"],
        "decision_note": row["decision_note"],
        "reopened": row["reopened"],
    }


def gather(
    conn: duckdb.DuckDBPyConnection, tenant: str, now: dt.datetime, previous: PreviousReport | None = None
) -> dict:
    """Everything the report shows for one tenant, as plain values for the template."""
    as_of, evaluated_at = conn.execute("SELECT as_of, evaluated_at FROM compliance.settings").fetchone()
    names = Names(conn, tenant)
    rules = _rules()
    overall = _rows(conn, "SELECT * FROM compliance.overall_scores WHERE tenant_id = ?", [tenant])
    scores = {r["area"]: r for r in _rows(conn, "SELECT * FROM compliance.area_scores WHERE tenant_id = ?", [tenant])}
    exposure = {r["area"]: r for r in _rows(conn, "SELECT * FROM compliance.exposure WHERE tenant_id = ?", [tenant])}
    history = _rows(
        conn,
        "SELECT day, area, score_pct, status FROM compliance.score_history WHERE tenant_id = ? ORDER BY day",
        [tenant],
    )
    since = previous.generated_at if previous else now - dt.timedelta(days=FIRST_REPORT_LOOKBACK_DAYS)
    cases = [
        _case(r, names)
        for r in _rows(conn, "SELECT * FROM compliance.cases WHERE tenant_id = ? ORDER BY opened_at", [tenant])
    ]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    open_cases = sorted(
        (c for c in cases if c["status"] in OPEN_STATUSES),
        key=lambda c: (rank.get(c["severity"], 9), c["rule_id"], c["subject"]),
    )
    closed = sorted(
        (
            c
            for c in cases
            if c["status"] in ("resolved", "dismissed") and c["resolved_at"] and c["resolved_at"] > since
        ),
        key=lambda c: c["resolved_at"],
        reverse=True,
    )
    previous_areas = (previous.summary.get("areas") or {}) if previous else {}
    areas = []
    for area in AREAS:
        score = scores.get(area)
        exp = exposure.get(area) or {}
        status = score["status"] if score else "not_applicable"
        before = previous_areas.get(area)
        area_cases = [c for c in open_cases if c["area"] == area]
        measured, applicability = exposure_in_words(area, exp)
        areas.append(
            {
                "area": area,
                "label": AREA_LABELS[area],
                "status": status,
                "status_label": STATUS_LABELS[status],
                "score_pct": score["score_pct"] if score else None,
                "change": (score["score_pct"] - before) if score and before is not None else None,
                "stale": bool(score and score["freshness"] != "fresh"),
                "stale_reason": score.get("stale_reason") if score else None,
                "exposure": exp.get("exposure"),
                "measured_as": measured,
                "applicability": applicability,
                "window": (exp.get("window_start"), exp.get("window_end")),
                "rules": [r for r in rules.values() if r["area"] == area],
                "cases_by_severity": [
                    (SEVERITY_LABELS[s], s, [c for c in area_cases if c["severity"] == s])
                    for s in SEVERITIES
                    if any(c["severity"] == s for c in area_cases)
                ],
                "open_cases": len(area_cases),
                "closed": [c for c in closed if c["area"] == area],
                "history": [(h["day"], h["score_pct"]) for h in history if h["area"] == area],
            }
        )
    top = overall[0] if overall else None
    previous_score = previous.summary.get("overall_score_pct") if previous else None
    return {
        "tenant": tenant,
        "as_of": as_of,
        "evaluated_at": evaluated_at,
        "generated_at": now,
        "since": since,
        "previous": {
            "generated_at": previous.generated_at,
            "folder": previous.folder.name,
            "pdf_sha256": previous.pdf_sha256,
        }
        if previous
        else None,
        "overall": {
            "score_pct": top["score_pct"] if top else None,
            "status": top["status"] if top else "not_applicable",
            "status_label": STATUS_LABELS[top["status"] if top else "not_applicable"],
            "weakest_area": top["weakest_area"] if top else None,
            "weakest_label": AREA_LABELS.get(top["weakest_area"], "") if top and top["weakest_area"] else None,
            "weakest_score_pct": top["weakest_score_pct"] if top else None,
            "change": (top["score_pct"] - previous_score) if top and previous_score is not None else None,
            "freshness": top["freshness"] if top else None,
        },
        "areas": areas,
        "open_cases": open_cases,
        "counts": {s: sum(1 for c in open_cases if c["severity"] == s) for s in SEVERITIES},
        "closed": closed,
        "risks": _risks(conn, tenant, names),
        "audit": _audit(conn, tenant, names, since),
        "rules": list(rules.values()),
    }


def _risks(conn: duckdb.DuckDBPyConnection, tenant: str, names: Names) -> list[dict]:
    rows = _rows(
        conn,
        """
        SELECT entity_type, entity_id, max(risk_score) AS risk, sum(cases) AS cases,
               list(DISTINCT area ORDER BY area) AS areas, flatten(list(rules)) AS rules
        FROM compliance.entity_scores WHERE tenant_id = ? AND risk_score > 0
        GROUP BY ALL ORDER BY risk DESC, cases DESC, entity_id
        """,
        [tenant],
    )
    out = []
    for title, types in RISK_GROUPS.items():
        items = [r for r in rows if r["entity_type"] in types][:RISK_LIMIT]
        out.append(
            {
                "title": title,
                "items": [
                    {
                        "name": names.subject(r["entity_type"], r["entity_id"]),
                        "risk": r["risk"],
                        "cases": r["cases"],
                        "areas": ", ".join(area_label(a) for a in r["areas"]),
                        "rules": ", ".join(sorted(set(r["rules"] or []))),
                    }
                    for r in items
                ],
            }
        )
    return out


AUDIT_WORDS = {
    "export": "Export",
    "delete": "Löschung",
    "erase": "Löschung",
    "anonymize": "Anonymisierung",
    "create": "Anlage",
    "update": "Änderung",
}
AUDIT_ENTITY_WORDS = {
    "customer": "Kundendaten",
    "customer_certificate": "Nachweis (Sachkunde, Kundenerklärung)",
    "gdpr_request": "Betroffenenanfrage",
    "consent": "Einwilligung",
    "invoice": "Rechnung",
    "article": "Artikel",
    "supplier": "Lieferant",
}


def _audit(conn: duckdb.DuckDBPyConnection, tenant: str, names: Names, since: dt.datetime) -> dict:
    """Certificate and data-request changes, exports and deletions from the ERP's audit log since
    the previous report (the newest first, at most AUDIT_LIMIT, with the count of all)."""
    where = (
        "tenant_id = ? AND occurred_at > ? AND (action IN (SELECT unnest(?)) OR entity_type IN (SELECT unnest(?)) "
        "OR action ILIKE '%delete%')"
    )
    params = [tenant, since, list(AUDIT_ACTIONS), list(AUDIT_ENTITIES)]
    total = conn.execute(f"SELECT count(*) FROM raw.audit_log WHERE {where}", params).fetchone()[0]
    rows = _rows(
        conn,
        f"SELECT seq, occurred_at, actor, action, entity_type, entity_id FROM raw.audit_log WHERE {where} "
        f"ORDER BY occurred_at DESC, seq DESC LIMIT {AUDIT_LIMIT}",
        params,
    )
    certificate_owner = dict(
        conn.execute(
            "SELECT certificate_id, customer_id FROM raw.customer_certificates WHERE tenant_id = ?", [tenant]
        ).fetchall()
    )
    request_owner = dict(
        conn.execute("SELECT request_id, customer_id FROM raw.gdpr_requests WHERE tenant_id = ?", [tenant]).fetchall()
    )
    items = []
    for r in rows:
        entity = r["entity_id"]
        owner = certificate_owner.get(entity) or request_owner.get(entity)
        if r["entity_type"] == "customer" or owner:
            about = names.by_id.get(owner or entity, f"Kunde {names.customer_no.get(owner or entity, '?')}")
        else:
            about = names.by_id.get(entity, "")
        items.append(
            {
                "seq": r["seq"],
                "occurred_at": r["occurred_at"],
                "actor": r["actor"],
                "action": AUDIT_WORDS.get(r["action"], r["action"]),
                "entity": AUDIT_ENTITY_WORDS.get(r["entity_type"], r["entity_type"]),
                "about": about,
            }
        )
    return {"total": total, "items": items}


def summary(data: dict) -> dict:
    """What the next report compares with (written beside the report as summary.json)."""
    return {
        "tenant": data["tenant"],
        "generated_at": data["generated_at"].astimezone(dt.UTC).isoformat(),
        "as_of": data["as_of"].isoformat(),
        "overall_score_pct": data["overall"]["score_pct"],
        "overall_status": data["overall"]["status"],
        "areas": {a["area"]: a["score_pct"] for a in data["areas"] if a["score_pct"] is not None},
        "open_cases": {s: n for s, n in data["counts"].items()},
    }
