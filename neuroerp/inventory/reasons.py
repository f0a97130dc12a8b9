"""The reason of each plan row, in German, for the buyer: what the stock covers, when to order,
what limited the quantity, and which duties come with the article."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from neuroerp.inventory.policy import (
    CAPACITY,
    EXCLUDED,
    MASTER_DATA_ERROR,
    NO_HISTORY,
    ORDER,
    PSM_BLOCKED,
    SUFFICIENT,
    PairPlan,
)

UNIT_LABELS = {"t": "t", "kg": "kg", "l": "l", "bag": "Sack", "piece": "Stk."}
CATEGORY_LABELS = {
    "psm": "Pflanzenschutz",
    "fertilizer": "Dünger",
    "seed": "Saatgut",
    "feed": "Futtermittel",
    "grain": "Getreide",
    "biostimulant": "Biostimulanzien",
    "other": "Sonstiges",
}
STATUS_LABELS = {
    ORDER: "bestellen",
    SUFFICIENT: "Bestand reicht",
    PSM_BLOCKED: "nicht bestellen (PSM-Zulassung)",
    CAPACITY: "nicht bestellen (Lagerkapazität)",
    NO_HISTORY: "manuell planen",
    EXCLUDED: "ausgeschlossen",
    MASTER_DATA_ERROR: "Stammdaten prüfen",
}
PRECURSOR_DUTY = {
    "I": (
        "Ausgangsstoff für Explosivstoffe, Anhang I VO (EU) 2019/1148: Abgabe nur an berufliche Verwender "
        "mit Kundenerklärung (Anhang IV), nicht an Privatkunden."
    ),
    "II": (
        "Ausgangsstoff für Explosivstoffe, Anhang II VO (EU) 2019/1148: Kundenerklärung einholen, "
        "verdächtige Transaktionen binnen 24 h melden."
    ),
}


def day(d: dt.date) -> str:
    """12.03. (dates within the planning horizon)"""
    return f"{d.day:02d}.{d.month:02d}."


def full_day(d: dt.date) -> str:
    """12.03.2027 (authorisation dates, which may lie years ahead)"""
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def number(x: float, decimals: int = 3) -> str:
    """German number: 1.234,5 (up to `decimals` decimals, no trailing zeros)."""
    text = f"{x:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return "0" if text in ("-0", "") else text


def amount(x: float, unit: str, exact: bool = True) -> str:
    """A quantity with its unit: exact (quantities to order) or rounded for reading (forecasts)."""
    decimals = 3 if exact else 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    return f"{number(x, decimals)} {UNIT_LABELS.get(unit, unit)}"


def days(n: int) -> str:
    return "1 Tag" if n == 1 else f"{n} Tage"


def in_days(n: int) -> str:
    return "in 1 Tag" if n == 1 else f"in {n} Tagen"


@dataclass(frozen=True)
class ReasonContext:
    """What the reason mentions beyond the plan's numbers."""

    unit: str
    lead_time_days: int
    lead_time_assumed: bool = False
    review_period_days: int = 7
    pack_size: float = 1.0
    min_order_qty: float = 0.0
    sales_weeks: int = 0
    history_weeks: int = 0
    precursor_annex: str | None = None
    psm_authorized_until: dt.date | None = None
    psm_sellable_until: dt.date | None = None
    psm_withdrawn_for_risk: bool = False
    psm_end_near: bool = False  # the sell-out period ends within a year: say so on every order
    sporadic: bool = False  # too few sales weeks for a safety stock
    has_supplier: bool = True
    inactive: bool = False
    deleted: bool = False
    capacity_free_t: float | None = None
    capacity_cut: bool = False


def _coverage(plan: PairPlan, ctx: ReasonContext) -> str:
    if plan.available <= 0:
        return f"kein verfügbarer Bestand ({amount(plan.available, ctx.unit)})"
    if plan.stock_lasts_until is None:
        return "Bestand reicht über den Prognosezeitraum hinaus"
    return f"Bestand reicht bis {day(plan.stock_lasts_until)}"


def _lead(ctx: ReasonContext) -> str:
    text = f"Lieferzeit {days(ctx.lead_time_days)}"
    return text + " (angenommen, fehlt im Artikelstamm)" if ctx.lead_time_assumed else text


def _numbers(plan: PairPlan, ctx: ReasonContext) -> str:
    unit = ctx.unit
    return (
        f"Bedarf {in_days(ctx.lead_time_days + ctx.review_period_days)} (Lieferzeit + Bestellrhythmus): "
        f"{amount(plan.demand_protection, unit, False)}; Sicherheitsbestand {amount(plan.safety_stock, unit, False)}; "
        f"Meldebestand {amount(plan.reorder_point, unit, False)}; Bestellniveau {amount(plan.order_up_to, unit, False)}; "
        f"verfügbar {amount(plan.available, unit)}"
        + (f" (inkl. {amount(plan.open_po_in_time, unit)} offene Bestellungen)" if plan.open_po_in_time else "")
    )


def _psm_limits(ctx: ReasonContext) -> str:
    if ctx.psm_withdrawn_for_risk:
        return f"Zulassung widerrufen (Risiko) zum {full_day(ctx.psm_authorized_until)}, keine Abverkaufsfrist"
    return f"Zulassung bis {full_day(ctx.psm_authorized_until)}, Abverkaufsfrist bis {full_day(ctx.psm_sellable_until)}"


def _history(ctx: ReasonContext) -> str | None:
    if not ctx.sporadic:
        return None
    weeks = "1 Verkaufswoche" if ctx.sales_weeks == 1 else f"{ctx.sales_weeks} Verkaufswochen"
    return (
        f"nur {weeks} in {ctx.history_weeks} Wochen: sporadischer Bedarf, kein Sicherheitsbestand, "
        "bei Kundenauftrag bestellen"
    )


def reason(plan: PairPlan, ctx: ReasonContext, status: str | None = None) -> str:
    """One German sentence group: the decision first, then why, then duties."""
    status = status or plan.status
    parts: list[str] = []
    if status == EXCLUDED:
        parts.append("Artikel gelöscht: kein Vorschlag" if ctx.deleted else "Artikel inaktiv: kein Vorschlag")
    elif status == NO_HISTORY:
        parts.append(
            f"Keine Verkäufe in den letzten {ctx.history_weeks} Wochen (neuer Artikel?): keine Prognose möglich, "
            f"Erstbestellung bitte manuell planen; verfügbar {amount(plan.available, ctx.unit)}, "
            f"Gebinde {amount(ctx.pack_size, ctx.unit)}, Mindestmenge {amount(ctx.min_order_qty, ctx.unit)}"
        )
    else:
        head = [_coverage(plan, ctx), _lead(ctx)]
        if plan.season_peak_from:
            head.append(f"Saisonspitze ab {day(plan.season_peak_from)}")
        if status == ORDER:
            below = plan.below_safety_from
            if below and (plan.stock_lasts_until is None or below <= plan.stock_lasts_until):
                head.insert(1, f"unter Sicherheitsbestand ab {day(below)}")
            when = "sofort bestellen" if "overdue" in plan.notes else f"bestellen bis {day(plan.order_by)}"
            parts.append(f"{', '.join(head)}: {when}, {amount(plan.proposed_qty, ctx.unit)}")
            parts.append(_numbers(plan, ctx))
            rounding = [f"Gebinde {amount(ctx.pack_size, ctx.unit)}"]
            if ctx.min_order_qty > ctx.pack_size:
                rounding.append(f"Mindestmenge {amount(ctx.min_order_qty, ctx.unit)}")
            if plan.proposed_qty > plan.required_qty + 1e-9:
                parts.append(f"aufgerundet von {amount(plan.required_qty, ctx.unit)} auf " + ", ".join(rounding))
            if "psm_limited" in plan.notes:
                parts.append(
                    f"{_psm_limits(ctx)}: Menge auf den erwarteten Absatz bis dahin begrenzt "
                    f"({amount(plan.sellable_limit or 0.0, ctx.unit)})"
                )
            elif ctx.psm_end_near and ctx.psm_sellable_until:
                parts.append(f"{_psm_limits(ctx)}: bis dahin absetzbar, Menge passt")
            if ctx.capacity_cut:
                parts.append(f"wegen Lagerkapazität gekürzt (bei Anlieferung frei: {number(ctx.capacity_free_t)} t)")
            if not ctx.has_supplier:
                parts.append("kein Lieferant im Artikelstamm")
        elif status == SUFFICIENT:
            nxt = f"; nächste Bestellung bis {day(plan.order_by)}" if plan.order_by else ""
            parts.append(f"{', '.join(head)}: keine Bestellung vor der nächsten Disposition nötig{nxt}")
        elif status == PSM_BLOCKED:
            parts.append(_psm_blocked(plan, ctx, head))
        elif status == CAPACITY:
            parts.append(
                f"{', '.join(head)}: Bedarf {amount(plan.proposed_qty or plan.required_qty, ctx.unit)}, "
                f"aber bei Anlieferung kein Platz im Lager (frei: {number(ctx.capacity_free_t or 0.0)} t): "
                f"nicht bestellen, Umlagerung oder Kapazität prüfen"
            )
        history = _history(ctx)
        if history:
            parts.append(history)
    if ctx.precursor_annex in PRECURSOR_DUTY and status != EXCLUDED:
        parts.append(PRECURSOR_DUTY[ctx.precursor_annex])
    return " ".join(_sentence(p) for p in parts)


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _psm_blocked(plan: PairPlan, ctx: ReasonContext, head: list[str]) -> str:
    lead = ", ".join(head)
    if "psm_unknown" in plan.notes:
        return f"{lead}: PSM ohne Zulassungsende im Artikelstamm: nicht bestellen, Zulassung prüfen"
    arrival = ctx.lead_time_days
    limits = _psm_limits(ctx)
    if "psm_late" in plan.notes:
        return f"{limits}; Lieferung frühestens {in_days(arrival)}: nicht bestellen (§ 28 Abs. 4 PflSchG)"
    if "psm_stock_covers" in plan.notes:
        return f"{lead}; {limits}: der Bestand deckt den erwarteten Absatz bis dahin, nicht nachbestellen"
    return (
        f"{lead}; {limits}: bis dahin absetzbar {amount(plan.sellable_limit or 0.0, ctx.unit)}, "
        f"weniger als die Mindestmenge {amount(max(ctx.min_order_qty, ctx.pack_size), ctx.unit)}: nicht bestellen"
    )
