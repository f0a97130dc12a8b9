"""What the officer reads, in German: areas, statuses, rules, and a case's evidence in words.

The evidence of a case is JSON (what the rule saw). `evidence_in_words` turns it into one line of
labelled German facts ("Bestellt am 27.05.2025; Artikel D100029 YaraBela …; Menge 2 t"): dates as
dd.mm.yyyy, numbers with a decimal comma, internal ids replaced by the numbers people use, and
personal data left out where the subject may only appear by customer number.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from neuroerp.search.documents import COUNTRY_DE, SUBSTANCE_DE

AREAS = ("psm", "explosives", "enni", "traces", "lksg", "gdpr", "gobd", "finance")
AREA_LABELS = {
    "psm": "Pflanzenschutzmittel (PSM)",
    "explosives": "Ausgangsstoffe für Explosivstoffe",
    "enni": "Wirtschaftsdünger (ENNI)",
    "traces": "Einfuhr und Öko-Kontrolle (TRACES)",
    "lksg": "Lieferkette (LkSG, EUDR)",
    "gdpr": "Datenschutz (DSGVO)",
    "gobd": "Ordnungsmäßige Buchführung (GoBD)",
    "finance": "Zahlungsverkehr und Sanktionen",
}
STATUS_LABELS = {
    "compliant": "konform",
    "warning": "Warnung",
    "critical": "kritisch",
    "not_applicable": "nicht anwendbar",
}
# what an area's exposure counts (compliance.exposure.measured_as says it in English)
MEASURED_AS = {
    "psm": "PSM-Verkaufspositionen im Zeitraum und geführte PSM-Artikel",
    "explosives": "Verkaufspositionen mit Ausgangsstoffen im Zeitraum und geführte Ausgangsstoff-Artikel",
    "enni": "Wirtschaftsdüngerlieferungen im Zeitraum",
    "traces": "Einkaufspositionen mit Einfuhr-, Kontroll- oder Öko-Ware im Zeitraum",
    "lksg": "Einkaufspositionen mit EUDR-Rohstoffen im Zeitraum und Lieferanten (LkSG)",
    "gdpr": "Kunden, deren personenbezogene Daten gespeichert sind",
    "gobd": "im Zeitraum gebuchte Rechnungen",
    "finance": "Rechnungen im Zeitraum oder noch offen (Forderungen und Verbindlichkeiten)",
}
LKSG_NOT_BOUND = "Einkaufspositionen mit EUDR-Rohstoffen im Zeitraum (das LkSG bindet den Betrieb nicht)"
SEVERITIES = ("critical", "high", "medium", "info")
SEVERITY_LABELS = {"critical": "kritisch", "high": "hoch", "medium": "mittel", "info": "Hinweis"}
CASE_STATUS_LABELS = {
    "open": "offen",
    "acknowledged": "in Bearbeitung",
    "resolved": "erledigt",
    "dismissed": "verworfen",
}
SUBJECT_TYPE_LABELS = {
    "customer": "Kunde",
    "supplier": "Lieferant",
    "article": "Artikel",
    "psm_product": "PSM-Produkt",
    "warehouse": "Niederlassung",
    "staff": "Mitarbeiter",
    "invoice": "Rechnung",
    "purchase_order": "Bestellung",
    "tenant": "Betrieb",
    "audit_log": "Prüfprotokoll",
}

# What each rule checks, in German (the SQL headers say it in English for the analysts); a test
# keeps this complete for every rule model of dbt_like_sql/compliance/.
RULE_TEXTS = {
    "PSM-001": "Berufliches PSM an einen Abnehmer ohne geprüften Sachkundenachweis abgegeben (jeder Vertriebsweg).",
    "PSM-002": "PSM nach Zulassungsende und sechsmonatiger Abverkaufsfrist verkauft, oder nach Widerruf aus Risikogründen.",
    "PSM-003": "BVL-Zulassungsnummer fehlt, ist fehlerhaft oder dem BVL-Register ohne Erklärung unbekannt.",
    "PSM-004": "Bestand, dessen Abverkaufsfrist in den nächsten 90 Tagen endet.",
    "PSM-005": "PSM-Verkauf durch Personal ohne Sachkunde oder ohne benannten Sachkundigen.",
    "PSM-007": "Zulassungsende im ERP weicht vom BVL-Register ab.",
    "PSM-008": "Bestand oder aktive Listung nach Ende der Abverkaufsfrist.",
    "PSM-009": "PSM nach Zulassungsende eingekauft oder eingelagert.",
    "PSM-010": "Fortbildung des Sachkundigen überfällig.",
    "EXP-001": "Ausgangsstoff nach Anhang I über dem Grenzwert an ein Mitglied der Allgemeinheit abgegeben.",
    "EXP-002": "Ausgangsstoff nach Anhang I an einen gewerblichen Abnehmer ohne geprüfte Kundenerklärung der letzten 12 Monate.",
    "EXP-003": "Mehr als das Doppelte der üblichen Menge (eigenes Jahr des Kunden und 90. Perzentil vergleichbarer Kunden).",
    "EXP-004": "Verdächtige Transaktion nicht binnen 24 Stunden gemeldet (Verkäufer oder Niederlassung).",
    "EXP-005": "Ammoniumnitrat mit mindestens 28 % N ohne Nachweis der Detonationsfestigkeit.",
    "EXP-006": "Erheblicher Schwund oder Fehlbestand eines Ausgangsstoffs ohne Meldung.",
    "EXP-007": "Einstufung als Ausgangsstoff fehlt oder ist falsch, oder der Gehalt zur Beurteilung fehlt.",
    "ENNI-001": "Wirtschaftsdüngerlieferung nicht binnen eines Monats gemeldet oder verspätet gemeldet (Betrieb über 200 t im Jahr).",
    "ENNI-002": "N, P2O5 oder N aus tierischer Herkunft nach Ablauf der Aufzeichnungsfrist nicht erfasst.",
    "ENNI-003": "Jahresmenge des Betriebs über 200 t: meldepflichtig.",
    "TRACES-001": "Eingetroffene Einfuhr kontrollierter oder ökologischer Ware ohne GGED/CHED bzw. Kontrollbescheinigung (COI).",
    "TRACES-002": "GGED/CHED weniger als einen Arbeitstag vor Ankunft eingereicht.",
    "TRACES-003": "Öko-Ware aus einer Partie verkauft, deren Kontrollbescheinigung nicht bestätigt ist.",
    "LKSG-001": "Risikoanalyse des Lieferanten fehlt oder ist für seine Risikostufe veraltet.",
    "LKSG-002": "Lieferant mit hohem Risiko ohne unterzeichneten Verhaltenskodex.",
    "LKSG-003": "Eigene Einfuhr eines EUDR-Rohstoffs ohne Referenz der Sorgfaltserklärung (DDS) ab Geltungsbeginn.",
    "GDPR-001": "Betroffenenanfrage länger als einen Monat offen.",
    "GDPR-002": "Personenbezogene Daten nach Ablauf jeder Aufbewahrungsfrist ohne Sperrvermerk gespeichert.",
    "GDPR-003": "Werbung ohne die für Kanal und Empfänger nötige Einwilligung.",
    "GOBD-001": "Geschütztes Feld einer gebuchten Rechnung weicht vom Prüfprotokoll ab.",
    "GOBD-002": "Lücke in der Nummernfolge des Prüfprotokolls, wo das ERP lückenlose Nummern zusichert.",
    "GOBD-003": "Eintrag des Prüfprotokolls nachträglich geändert oder innerhalb der Aufbewahrungsfrist gelöscht.",
    "FIN-001": "Skonto nach Ablauf der Skontofrist abgezogen (Forderungen und Verbindlichkeiten).",
    "FIN-002": "Ungültige IBAN eines Lieferanten.",
    "FIN-003": "Lieferant von Agrar- und Lebensmittelerzeugnissen mit Zahlungsziel über 60 Tagen.",
    "FIN-004": "Kunde oder Lieferant auf der EU-Sanktionsliste.",
}

LABELS = {
    "problem": "Befund", "kind": "Art", "reason": "Grund", "change": "Änderung",
    "article": "Artikel", "article_no": "Artikelnr.", "bvl_no": "BVL-Nr.", "substance": "Stoff",
    "annex": "Anhang", "annex_by_content": "Anhang nach Gehalt", "recorded_annex": "erfasster Anhang",
    "n_from_an_pct": "N aus Ammoniumnitrat %", "n_total_pct": "N gesamt %", "concentration_pct": "Konzentration %",
    "quantity": "Menge", "unit": "Einheit", "quantity_kg": "Menge kg", "on_hand": "Bestand",
    "customer_no": "Kundennr.", "customer_type": "Kundentyp", "customer": "Kunde", "partner": "Partner",
    "supplier": "Lieferant", "supplier_no": "Lieferantennr.", "staff": "Mitarbeiter", "warehouse": "Niederlassung",
    "ordered_on": "bestellt am", "sold_on": "verkauft am", "delivered_on": "geliefert am",
    "received_at": "eingegangen am", "arrival_at": "Ankunft", "expected_on": "erwartet am",
    "booked_on": "gebucht am", "created_on": "angelegt am", "posted_at": "gebucht am",
    "invoice_date": "Rechnungsdatum", "paid_on": "bezahlt am", "due_on": "fällig am", "due_by": "fällig bis",
    "submitted_at": "eingereicht am", "flagged_at": "als verdächtig markiert am", "reported_at": "gemeldet am",
    "reported_on": "gemeldet am", "report_due": "Meldefrist", "record_due": "Aufzeichnungsfrist",
    "answer_due": "Antwortfrist", "review_due": "Überprüfung fällig", "assessed_on": "bewertet am",
    "training_due_on": "Fortbildung fällig am", "retain_until": "aufzubewahren bis",
    "authorized_until": "zugelassen bis", "erp_authorized_until": "zugelassen bis (ERP)",
    "register_authorized_until": "zugelassen bis (BVL-Register)", "sellable_until": "Abverkauf bis",
    "date_source": "Quelle des Datums", "withdrawal": "Ende durch", "days_left": "Tage verbleibend",
    "days_late": "Tage verspätet", "days_overdue": "Tage überfällig", "days_after_window": "Tage nach Frist",
    "hours_to_report": "Stunden bis zur Meldung", "open_days": "Tage offen", "legal_hold": "Sperrvermerk",
    "last_statement_on": "letzte Kundenerklärung", "last_order_on": "letzte Bestellung",
    "last_invoice_on": "letzte Rechnung", "last_psm_sale_on": "letzter PSM-Verkauf", "last_sent_at": "zuletzt gesendet",
    "own_max_12_months_kg": "eigenes Maximum 12 Monate kg", "peer_p90_kg": "Vergleichsgruppe P90 kg",
    "channel": "Vertriebsweg", "channels": "Kanäle", "campaigns": "Kampagnen", "business": "gewerblich",
    "existing_customer": "Bestandskunde", "objected": "Widerspruch", "psm_lines": "PSM-Positionen",
    "sachkunde_no": "Sachkunde-Nr.", "direction": "Richtung", "tonnes": "Tonnen", "state_code": "Bundesland",
    "n_kg_per_t": "N kg/t", "p2o5_kg_per_t": "P2O5 kg/t", "n_animal_kg_per_t": "N tierisch kg/t",
    "missing": "fehlt", "year": "Jahr", "deliveries": "Lieferungen", "partners": "Partner (Anzahl)",
    "batch_no": "Charge", "origin": "Herkunft", "dispatched_from": "versandt aus", "documents_missing": "fehlende Dokumente",
    "reference_no": "Referenz", "reference": "Referenz", "coi_status": "Status der Kontrollbescheinigung",
    "traced_by": "rückverfolgt über", "lot_quantity": "Partiemenge", "sold_quantity": "verkaufte Menge",
    "country": "Land", "risk_level": "Risikostufe", "iban": "IBAN", "invoice_no": "Rechnungsnr.",
    "gross_amount": "Bruttobetrag", "net_days": "Zahlungsziel Tage", "max_days": "höchstens Tage",
    "skonto_pct": "Skonto %", "skonto_amount": "Skontobetrag", "skonto_deadline": "Skontofrist",
    "changed_fields": "geänderte Felder", "last_changed_at": "zuletzt geändert", "listed_name": "gelisteter Name",
    "name": "Name", "programme": "Sanktionsprogramm", "list_source": "Liste", "partner_type": "Partnerart",
    "sites": "Standorte", "active_for_sale": "im Verkauf", "parallel_trade": "Parallelhandel",
    "seq": "Protokollnr.", "field": "Feld", "audited": "laut Protokoll", "current": "aktuell",
}  # fmt: skip
VALUE_WORDS = {
    "not reported": "nicht gemeldet", "reported late": "verspätet gemeldet", "malformed": "fehlerhaft",
    "classification differs": "Einstufung weicht ab", "no Sachkunde holder named": "kein Sachkundiger benannt",
    "seller without Sachkunde": "Verkäufer ohne Sachkunde", "in": "Eingang", "out": "Ausgang",
    "counter": "Theke", "field": "Außendienst", "phone": "Telefon", "webshop": "Webshop",
    "private": "Privatperson", "farm": "Landwirt", "contractor": "Lohnunternehmer", "retailer": "Händler",
    "cooperative": "Genossenschaft", "industry": "Industrie", "register": "BVL-Register", "erp": "ERP",
    "authority_risk": "Widerruf aus Risikogründen", "expired": "Ablauf der Zulassung", "erasure": "Löschung",
    "access": "Auskunft", "rectification": "Berichtigung", "restriction": "Einschränkung", "loss": "Schwund",
    "refused": "abgelehnter Verkauf", "suspicious": "verdächtige Transaktion", "AR": "Forderung", "AP": "Verbindlichkeit",
    "rejected": "abgelehnt", "lot": "Partie", "high": "hoch", "medium": "mittel", "low": "niedrig",
    "after_window": "nach Ablauf der Frist", "supplier": "Lieferant", "customer": "Kunde", "changed": "geändert",
    "deleted": "gelöscht", "marketing_email": "Werbe-E-Mail", "marketing_phone": "Werbeanruf",
    "packaged sample excerpt (not a screening list)": "mitgelieferter Auszug (keine Prüfliste)",
}  # fmt: skip
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# ids the report replaces by what people use (a customer's number, an article's number), or drops
ID_KEYS = {"customer_id": "customer", "partner_id": "partner", "supplier_id": "supplier",
           "warehouse_id": "warehouse"}  # fmt: skip
PERSONAL_KEYS = {"name", "customer", "email", "phone", "street", "city"}  # left out for a minimised subject


def number(value: float | int | Decimal, decimals: int | None = None) -> str:
    """German number format: 1.234,5."""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if decimals is None:
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float | Decimal) else f"{value:,}"
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def date(value: dt.date | dt.datetime | str | None, with_time: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if _TIMESTAMP.match(value) else dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%d.%m.%Y %H:%M UTC" if with_time else "%d.%m.%Y")
    return value.strftime("%d.%m.%Y")


def value_in_words(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int | float | Decimal):
        return number(value)
    if isinstance(value, list):
        return ", ".join(value_in_words(v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{LABELS.get(k, k)} {value_in_words(v)}" for k, v in value.items())
    text = str(value)
    if _DATE.match(text):
        return date(text)
    if _TIMESTAMP.match(text):
        return date(text, with_time=True)
    if text in LABELS and text not in VALUE_WORDS:
        return LABELS[text]
    return VALUE_WORDS.get(text) or SUBSTANCE_DE.get(text) or COUNTRY_DE.get(text) or text


def area_label(area: str) -> str:
    """The area's German name; an area without one yet (a new rule's) by its code."""
    return AREA_LABELS.get(area, area)


def exposure_in_words(area: str, exposure: dict) -> tuple[str, str]:
    """What the area's exposure counts, and why the area applies or not, in German."""
    measured = MEASURED_AS.get(area, exposure.get("measured_as") or "")
    if area == "lksg" and exposure.get("lksg_bound") is False:
        measured = LKSG_NOT_BOUND
    if exposure.get("excluded_by_settings"):
        why = "durch die Einstellung not_applicable ausgenommen"
    elif not exposure.get("exposure"):
        why = f"nichts zu prüfen: keine {measured}" if exposure else "keine Bezugsgröße für diesen Bereich"
    else:
        why = "anwendbar"
    return measured, why


def evidence_in_words(evidence: str | dict | None, names: dict[str, str] | None = None, minimised: bool = False) -> str:
    """One line of labelled German facts. `names` maps internal ids (customers, suppliers,
    branches) to how the report names them; `minimised`: the subject is a person who appears by
    customer number only, so names and contact data are left out."""
    if not evidence:
        return ""
    data = json.loads(evidence) if isinstance(evidence, str) else evidence
    names = names or {}
    parts = []
    for key, value in data.items():
        if value is None or value == [] or (minimised and key in PERSONAL_KEYS):
            continue
        if key in ID_KEYS or (isinstance(value, str) and _UUID.match(value)):
            if key in ID_KEYS and value in names:
                parts.append(f"{LABELS.get(ID_KEYS[key], ID_KEYS[key])}: {names[value]}")
            continue  # an internal id nobody outside the database reads
        if key == "missing":
            value = [LABELS.get(v, v) for v in value]
        parts.append(f"{LABELS.get(key, key.replace('_', ' '))}: {value_in_words(value)}")
    return "; ".join(parts)
