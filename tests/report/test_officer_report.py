"""The compliance officer's report on the demo ERP: the PDF's text holds the planted cases with
their legal bases, page 1 renders to an image, the HTML opens in headless Chromium without console
errors, reports are never overwritten, `neuroerp report verify` names a changed and a removed file,
and a tenant with no findings gets a clean report.

One demo warehouse per module (seeded, ingested, evaluated once) with a third tenant, lh-west, that
has one clean supplier and nothing else: the tenant without findings. Bad inputs tried: an unknown
tenant (refused, nothing written), a report file edited, deleted or added by hand, a manifest line
that is no JSON, a private customer or one with an erasure request in a case or the audit log (only
the customer number appears)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from neuroerp.archive import MANIFEST, verify_archive
from neuroerp.compliance.engine import run_compliance
from neuroerp.project import EXTERNAL, SQL_ROOT, project_models
from neuroerp.report import write_reports
from neuroerp.report.data import Names, gather, summary
from neuroerp.report.render import _pct
from neuroerp.report.words import (
    AREA_LABELS,
    AREAS,
    RULE_TEXTS,
    SEVERITIES,
    area_label,
    evidence_in_words,
    exposure_in_words,
    value_in_words,
)
from neuroerp.seed import seed_source
from neuroerp.sqlmodels import load_models
from pipelines.cli import main
from tests.conftest import AS_OF, SEED
from tests.ingest.conftest import ingest_all

CLEAN = "lh-west"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOW = dt.datetime(2026, 11, 21, 7, 0, tzinfo=dt.UTC)


def _text(pdf: Path) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _bare(text: str) -> str:
    """Without any whitespace: a line may break after a hyphen inside a table cell."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """NEUROERP_HOME with the evaluated demo warehouse and the first report of every tenant."""
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'erp.sqlite'}"
    seeded = seed_source(url, scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
    planted_ids = json.dumps(seeded.manifest)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as conn:
        conn.execute("SET VARIABLE as_of = ?", [AS_OF.isoformat()])
        ingest_all(url, conn)
        # the clean tenant: a copy of a low-risk domestic supplier with a code of conduct, nothing planted on it
        candidates = conn.execute(
            "SELECT supplier_id FROM raw.suppliers WHERE lksg_risk_level = 'low' AND country_code = 'DE' "
            "AND code_of_conduct_signed ORDER BY supplier_no"
        ).fetchall()
        clean = next(s for (s,) in candidates if s not in planted_ids)
        conn.execute(
            "INSERT INTO raw.suppliers SELECT * REPLACE (? AS tenant_id, 'west-' || supplier_id AS supplier_id) "
            "FROM raw.suppliers WHERE supplier_id = ?",
            [CLEAN, clean],
        )
        run_compliance(conn, url, load_models(SQL_ROOT, EXTERNAL))
        reports = write_reports(conn, folder / "reports", now=NOW)
    return folder, seeded.manifest, {r.tenant: r for r in reports}


def _cases(home_dir: Path, tenant: str) -> list[dict]:
    with duckdb.connect(str(home_dir / "warehouse.duckdb"), read_only=True) as conn:
        cursor = conn.execute(
            "SELECT * FROM compliance.cases WHERE tenant_id = ? AND status IN ('open', 'acknowledged')", [tenant]
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_one_report_per_tenant_with_every_file_in_the_manifest(home):
    folder, _, reports = home
    assert sorted(reports) == ["lh-nord", "lh-sued", CLEAN]
    for tenant, report in reports.items():
        assert report.folder == folder / "reports" / "compliance" / tenant / "20261121T070000Z"
        assert {f.path.name for f in report.files} == {"report.html", "report.pdf", "cases.xlsx", "summary.json"}
    entries = [json.loads(line) for line in (folder / "reports" / MANIFEST).read_text().splitlines()]
    assert {e["path"] for e in entries} == {
        f"compliance/{t}/20261121T070000Z/{name}"
        for t in reports
        for name in ("report.html", "report.pdf", "cases.xlsx", "summary.json")
    }
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["sha256"]) and e["kind"] == "compliance" for e in entries)


@pytest.mark.parametrize("tenant", ["lh-nord", "lh-sued"])
def test_pdf_holds_every_planted_case_with_its_legal_basis(home, tenant):
    folder, manifest, reports = home
    text = _text(reports[tenant].folder / "report.pdf")
    bare = _bare(text)
    planted = {p["rule"] for p in manifest["planted"] if p["tenant_id"] == tenant}
    cases = _cases(folder, tenant)
    assert planted and len(cases) > 20
    # every planted rule that has an open case (the others are found only under other settings)
    found_rules = {c["rule_id"] for c in cases}
    assert len(planted & found_rules) >= len(planted) - 2
    for case in cases:
        assert case["case_id"][:8] in text, case["rule_id"]
        assert _bare(case["legal_basis"]) in bare, (case["rule_id"], case["legal_basis"])
    for rule in planted & found_rules:
        assert f"{rule} ·" in text or f"{rule} " in text
    # the cover: tenant, data as of, score with its weakest area, badges, the change
    first_page = _squash(text[:1500])
    assert f"Mandant {tenant}" in first_page and "Datenstand 20.11.2026" in first_page
    assert "Schwächster Bereich" in first_page and "Seite 1 von" in first_page
    assert "kritisch" in first_page
    # the appendix lists every rule with its German text
    for model in project_models():
        if model.rule is not None:
            assert model.rule.id in text and _bare(RULE_TEXTS[model.rule.id]) in bare


def test_evidence_is_in_words_and_private_customers_appear_by_number_only(home):
    folder, _, reports = home
    text = _text(reports["lh-nord"].folder / "report.pdf")
    html = (reports["lh-nord"].folder / "report.html").read_text()
    assert '{"' not in html and '":' not in html  # no JSON
    assert "Bestellt am".lower() in text.lower() and re.search(r"\d{2}\.\d{2}\.\d{4}", text)
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        hidden = conn.execute(
            "SELECT customer_no, name FROM raw.customers WHERE tenant_id = 'lh-nord' AND (customer_type = 'private' "
            "OR customer_id IN (SELECT customer_id FROM raw.gdpr_requests WHERE kind = 'erasure'))"
        ).fetchall()
        shown = conn.execute(
            "SELECT customer_no, name FROM raw.customers c JOIN compliance.cases k ON k.subject_id = c.customer_id "
            "WHERE k.tenant_id = 'lh-nord' AND k.status = 'open' AND c.customer_type = 'farm' LIMIT 1"
        ).fetchone()
    assert hidden and shown
    for number, name in hidden:
        assert name not in html and name not in text, number
    assert any(f"Kunde {number}" in text for number, _ in hidden)  # a private buyer's case, by number
    assert f"{shown[0]} {shown[1]}" in text  # a business customer by number and name


def test_evidence_in_words_formats_and_leaves_out_names():
    evidence = {"problem": "not reported", "delivered_on": "2026-09-03", "tonnes": 26.313, "legal_hold": False,
                "customer_id": "c1", "name": "Erika Muster", "missing": ["n_kg_per_t"]}  # fmt: skip
    words = evidence_in_words(evidence, {"c1": "Kunde K1"}, minimised=True)
    assert (
        words
        == "Befund: nicht gemeldet; geliefert am: 03.09.2026; Tonnen: 26,313; Sperrvermerk: nein; Kunde: Kunde K1; fehlt: N kg/t"
    )
    assert "Erika" in evidence_in_words(evidence)  # only a minimised subject loses the name


def test_page_one_renders_to_a_png(home, tmp_path):
    from PIL import Image

    _, _, reports = home
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("poppler's pdftoppm is missing: apt-get install poppler-utils (as .ci/run does)")
    subprocess.run([pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile",
                    str(reports["lh-nord"].folder / "report.pdf"), str(tmp_path / "page1")], check=True)  # fmt: skip
    png = tmp_path / "page1.png"
    assert png.stat().st_size > 1000
    with Image.open(png) as image:
        assert image.size[1] > image.size[0]  # portrait A4
        assert len(image.convert("L").getcolors(maxcolors=100_000)) > 10  # not a blank page


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found: apt-get install chromium (as .ci/run does)")
def test_html_opens_in_headless_chromium_without_console_errors(home):
    from playwright.sync_api import sync_playwright

    from tests.test_ui_browser import CHROMIUM_ARGS

    _, _, reports = home
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto((reports["lh-nord"].folder / "report.html").as_uri())
            page.wait_for_load_state("load")
            assert page.title().startswith("Compliance-Bericht lh-nord")
            assert page.locator("section.area").count() == 8
            loaded = page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
            assert loaded and page.locator("img").count() >= 7
        finally:
            browser.close()
    assert errors == []


def test_clean_tenant_gets_a_clean_report(home):
    folder, _, reports = home
    report = reports[CLEAN]
    assert report.open_cases == 0 and report.status == "compliant" and report.score_pct == 100
    text = _text(report.folder / "report.pdf")
    assert "Keine offenen Fälle" in text and "konform" in text and "nicht anwendbar" in text
    from openpyxl import load_workbook

    sheet = load_workbook(report.folder / "cases.xlsx")["Offene Fälle"]
    assert sheet.max_row == 1  # the header only


def test_cases_xlsx_has_one_filterable_row_per_open_case(home):
    from openpyxl import load_workbook

    folder, _, reports = home
    sheet = load_workbook(reports["lh-sued"].folder / "cases.xlsx")["Offene Fälle"]
    cases = _cases(folder, "lh-sued")
    ids = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(c["case_id"] for c in cases)
    assert sheet.auto_filter.ref == sheet.dimensions
    header = [c.value for c in sheet[1]]
    assert {"Schwere", "Regel", "Gegenstand", "Befund", "Empfehlung", "Rechtsgrundlage"} <= set(header)


def test_two_runs_make_two_reports_and_the_second_compares(home, monkeypatch):
    folder, _, reports = home
    monkeypatch.setenv("NEUROERP_HOME", str(folder))
    monkeypatch.setenv("NEUROERP_SOURCE_URL", f"sqlite:///{folder / 'erp.sqlite'}")
    before = (folder / "reports" / MANIFEST).read_text()
    first_pdf = (reports["lh-nord"].folder / "report.pdf").read_bytes()
    result = CliRunner().invoke(main, ["report", "--tenant", "lh-nord"])
    assert result.exit_code == 0, result.output
    folders = sorted((folder / "reports" / "compliance" / "lh-nord").iterdir())
    assert len(folders) == 2 and folders[0] == reports["lh-nord"].folder
    assert (folders[0] / "report.pdf").read_bytes() == first_pdf  # the first is untouched
    after = (folder / "reports" / MANIFEST).read_text()
    assert after.startswith(before) and len(after.splitlines()) == len(before.splitlines()) + 4
    text = _text(folders[1] / "report.pdf")
    assert "Vorheriger Bericht 21.11.2026 07:00 UTC" in text and "unverändert" in text
    cited = next(f.sha256 for f in reports["lh-nord"].files if f.path.name == "report.pdf")
    assert f"PDFSHA-256{cited}" in _bare(text)  # each report cites its predecessor's PDF
    # an unknown tenant is refused and writes nothing
    refused = CliRunner().invoke(main, ["report", "--tenant", "nobody"])
    assert refused.exit_code != 0 and "unknown tenant 'nobody'" in refused.output
    assert (folder / "reports" / MANIFEST).read_text() == after


def test_verify_names_every_changed_removed_and_unlisted_file(home, tmp_path, monkeypatch):
    folder, _, reports = home
    copy = tmp_path / "home"
    shutil.copytree(folder / "reports", copy / "reports")
    monkeypatch.setenv("NEUROERP_HOME", str(copy))
    intact = CliRunner().invoke(main, ["report", "verify"])
    assert intact.exit_code == 0 and "report archive intact" in intact.output
    run = reports["lh-sued"].folder.relative_to(folder / "reports")
    changed, removed = copy / "reports" / run / "report.pdf", copy / "reports" / run / "cases.xlsx"
    changed.chmod(0o644)
    changed.write_bytes(changed.read_bytes().replace(b"%%EOF", b"%%EOF ", 1))
    removed.unlink()
    (copy / "reports" / run / "extra.txt").write_text("added by hand")
    with (copy / "reports" / MANIFEST).open("a") as fh:
        fh.write("not json\n")
    result = verify_archive(copy / "reports")
    assert result.changed == [f"{run.as_posix()}/report.pdf"]
    assert result.removed == [f"{run.as_posix()}/cases.xlsx"]
    assert result.unlisted == [f"{run.as_posix()}/extra.txt"]
    assert result.malformed and not result.ok
    failed = CliRunner().invoke(main, ["report", "verify"])
    assert failed.exit_code == 1
    for path in (*result.changed, *result.removed, *result.unlisted):
        assert path in failed.output


def test_decisions_show_who_and_why_and_closed_cases_since_the_previous_report(home, tmp_path, monkeypatch):
    """An officer dismisses one case and acknowledges another (the real ledger, through the CLI); after
    the cases step the next report lists the dismissed case under the cases closed since the previous
    report with who and why, and the acknowledged one as open with its last decision."""
    from openpyxl import load_workbook

    from neuroerp.compliance.cases import ledger_folder, record_cases

    folder, _, _ = home
    copy = tmp_path / "home"
    shutil.copytree(folder, copy)
    monkeypatch.setenv("NEUROERP_HOME", str(copy))
    monkeypatch.setenv("NEUROERP_SOURCE_URL", f"sqlite:///{copy / 'erp.sqlite'}")
    dismissed, acknowledged = [c["case_id"] for c in sorted(_cases(copy, "lh-sued"), key=lambda c: c["case_id"])[:2]]
    for case_id, status, note in (
        (dismissed, "dismissed", "Kein Verstoß: Nachweis liegt in Papierform vor"),
        (acknowledged, "acknowledged", "Lieferant angeschrieben, Antwort bis Freitag"),
    ):
        result = CliRunner().invoke(main, ["case", "decide", case_id, "--status", status, "--by", "Erika Muster",
                                           "--note", note])  # fmt: skip
        assert result.exit_code == 0, result.output
    with duckdb.connect(str(copy / "warehouse.duckdb")) as conn:
        record_cases(conn, ledger_folder(copy))
        (report,) = write_reports(conn, copy / "reports", "lh-sued", now=NOW + dt.timedelta(days=7))
    text = _text(report.folder / "report.pdf")
    closed = text[text.index("Seit dem letzten Bericht erledigt oder verworfen") :]
    assert (
        "verworfen" in closed
        and "Erika Muster" in closed
        and "Kein Verstoß: Nachweis liegt in Papierform vor" in closed
    )
    assert "in Bearbeitung durch Erika Muster" in text and "Antwort bis Freitag" in text
    ids = [
        row[-1]
        for row in load_workbook(report.folder / "cases.xlsx")["Offene Fälle"].iter_rows(min_row=2, values_only=True)
    ]
    assert acknowledged in ids and dismissed not in ids
    assert "Vorheriger Bericht 21.11.2026 07:00 UTC" in text


def test_what_the_report_gathers_for_one_tenant(home, tmp_path):
    """The report's data, gathered here on a copy of the warehouse (so that mutation testing sees
    this test reach it; the fixture's own reports are made before any test runs): the counts per
    severity, every rule in area order, cases closed since the last report newest first, a stale
    area with its reason, the as-of day in summary.json, and minimised customers by number only."""
    folder, _, _ = home
    shutil.copy(folder / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        open_ids = [c["case_id"] for c in _cases(folder, "lh-nord")]
        for i, case_id in enumerate(open_ids[:2]):  # closed an hour and two hours before the report
            conn.execute("UPDATE compliance.cases SET status = 'resolved', resolved_at = ? WHERE case_id = ?",
                         [NOW - dt.timedelta(hours=1 + i), case_id])  # fmt: skip
        conn.execute("UPDATE compliance.area_scores SET freshness = 'stale', stale_reason = 'rules failed' "
                     "WHERE tenant_id = 'lh-nord' AND area = 'psm'")  # fmt: skip
        data = gather(conn, "lh-nord", now=NOW)
        names = Names(conn, "lh-nord")
        private = conn.execute("SELECT customer_id, customer_no FROM raw.customers WHERE tenant_id = 'lh-nord' "
                               "AND customer_type = 'private' AND deleted_at IS NULL LIMIT 1").fetchone()  # fmt: skip
    still_open = [c for c in _cases(folder, "lh-nord") if c["case_id"] not in open_ids[:2]]
    assert data["counts"] == {s: sum(c["severity"] == s for c in still_open) for s in SEVERITIES}
    assert [c["case_id"] for c in data["closed"]] == open_ids[:2]  # newest first
    psm = next(a for a in data["areas"] if a["area"] == "psm")
    assert psm["stale"] and psm["stale_reason"] == "rules failed"
    rules = data["rules"]
    assert len(rules) == sum(1 for m in project_models() if m.rule is not None)
    assert [AREAS.index(r["area"]) for r in rules] == sorted(AREAS.index(r["area"]) for r in rules)
    assert all(r["area_label"] == AREA_LABELS[r["area"]] for r in rules)
    assert summary(data)["as_of"] == AS_OF.isoformat() and summary(data)["open_cases"] == data["counts"]
    customer_id, customer_no = private
    assert names.subject("customer", customer_id) == f"Kunde {customer_no}"
    assert names.is_minimised("customer", customer_id) and not names.is_minimised("supplier", customer_id)


def test_percentages_measures_and_instants_in_german_words():
    assert _pct(None) == "–" and _pct(87.26) == "87,3 %"
    assert area_label("psm") == AREA_LABELS["psm"] and area_label("neu") == "neu"
    assert exposure_in_words("enni", {"exposure": 0, "measured_as": "ignored"}) == (
        "Wirtschaftsdüngerlieferungen im Zeitraum", "nichts zu prüfen: keine Wirtschaftsdüngerlieferungen im Zeitraum"
    )  # fmt: skip
    assert exposure_in_words("unknown", {"exposure": 3, "measured_as": "Positionen"}) == ("Positionen", "anwendbar")
    assert value_in_words("2026-11-20T23:30:00+00:00") == "20.11.2026 23:30 UTC"
