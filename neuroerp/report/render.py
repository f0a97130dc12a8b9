"""The officer report of one tenant: one Jinja2 template (package data, templates/report.html.j2)
for the HTML and the A4 PDF (WeasyPrint renders the same HTML with its print rules: running
header, "Seite x von y"), the trend charts as PNGs inside, and cases.xlsx with one row per open
case. Written into a new folder of the report archive, never over an earlier report:

    NEUROERP_HOME/reports/compliance/<tenant>/<UTC timestamp>/report.html, report.pdf, cases.xlsx, summary.json
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2

from neuroerp.archive import ArchivedFile, archive_files, new_folder
from neuroerp.report.charts import data_uri, trend_png
from neuroerp.report.data import SUMMARY, gather, previous_report, summary, tenants
from neuroerp.report.words import date, number
from neuroerp.xlsx import add_sheet

KIND = "compliance"
HTML, PDF, XLSX = "report.html", "report.pdf", "cases.xlsx"


@dataclass(frozen=True)
class Report:
    tenant: str
    folder: Path
    files: list[ArchivedFile]
    open_cases: int
    score_pct: float | None
    status: str


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{number(value, 1)} %"


def _delta(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) < 0.05:
        return "unverändert"
    return f"{'+' if value > 0 else '−'}{number(abs(value), 1)} Punkte"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("neuroerp.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {
        "d": date,
        "dt": lambda v: date(v, with_time=True),
        "pct": _pct,
        "delta": _delta,
        "num": lambda v, n=None: "–" if v is None else number(v, n),
    }
    return env


def render_html(data: dict) -> str:
    charts = {a["area"]: data_uri(trend_png(a["history"], "")) for a in data["areas"] if a["history"]}
    return _environment().get_template("report.html.j2").render(r=data, charts=charts)


def render_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


CASE_COLUMNS = [
    ("Fall", "short_id", 10, None),
    ("Schwere", "severity_label", 9, None),
    ("Bereich", "area_label", 24, None),
    ("Regel", "rule_id", 11, None),
    ("Status", "status_label", 13, None),
    ("Betroffen", "subject_type_label", 12, None),
    ("Gegenstand", "subject", 36, None),
    ("seit", "since", 12, "DD.MM.YYYY"),
    ("erkannt", "opened_at", 12, "DD.MM.YYYY"),
    ("zuletzt gefunden", "last_seen_at", 12, "DD.MM.YYYY"),
    ("Vorkommen", "occurrences", 10, "0"),
    ("davon offen", "open_occurrences", 10, "0"),
    ("Befund", "evidence", 70, None),
    ("Empfehlung", "recommendation", 60, None),
    ("Rechtsgrundlage", "legal_basis", 40, None),
    ("letzte Entscheidung", lambda c: c["decided_status_label"] or "", 14, None),
    ("entschieden von", "decided_by", 18, None),
    ("entschieden am", "decided_at", 12, "DD.MM.YYYY"),
    ("Begründung", "decision_note", 40, None),
    ("Fall-ID", "case_id", 34, None),
]


def cases_xlsx(data: dict) -> bytes:
    """One row per open (or acknowledged) case, with autofilter, for the follow-up work."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    add_sheet(wb, "Offene Fälle", CASE_COLUMNS, data["open_cases"], wrap=True)
    ws = wb.create_sheet("Bericht")
    for key, value in (
        ("Mandant", data["tenant"]),
        ("Datenstand", date(data["as_of"])),
        ("Auswertung", date(data["evaluated_at"], with_time=True)),
        ("erstellt", date(data["generated_at"], with_time=True)),
        ("Gesamtwert", _pct(data["overall"]["score_pct"])),
        ("offene Fälle", len(data["open_cases"])),
    ):
        ws.append([key, value])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 30
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_report(conn: duckdb.DuckDBPyConnection, reports_root: Path, tenant: str, now: dt.datetime) -> Report:
    """Render one tenant's report and archive it in a new folder."""
    reports_root = Path(reports_root)
    reports_root.mkdir(parents=True, exist_ok=True)
    data = gather(conn, tenant, now, previous_report(reports_root, tenant))
    html = render_html(data)
    files = {
        HTML: html.encode("utf-8"),
        PDF: render_pdf(html),
        XLSX: cases_xlsx(data),
        SUMMARY: json.dumps(summary(data), ensure_ascii=False, indent=1).encode("utf-8"),
    }
    folder = new_folder(reports_root, KIND, tenant, now)
    archived = archive_files(reports_root, folder, files, KIND, now)
    overall = data["overall"]
    return Report(tenant, folder, archived, len(data["open_cases"]), overall["score_pct"], overall["status"])


def write_reports(
    conn: duckdb.DuckDBPyConnection, reports_root: Path, tenant: str | None = None, now: dt.datetime | None = None
) -> list[Report]:
    """The report of `tenant`, or of every tenant the compliance engine judged."""
    now = now or dt.datetime.now(dt.UTC)
    known = tenants(conn)
    if tenant is not None and tenant not in known:
        raise ValueError(f"unknown tenant {tenant!r}: the warehouse knows {', '.join(known) or 'none'}")
    return [write_report(conn, reports_root, t, now) for t in ([tenant] if tenant else known)]
