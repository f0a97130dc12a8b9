"""The buyer's reason in German: the issue's example sentence from real numbers, German number
and date formats, and one reason per status."""

import datetime as dt
from dataclasses import replace

import numpy as np

from neuroerp.inventory.policy import NO_HISTORY, ORDER, PSM_BLOCKED, PairInput, PairPlan, plan_pair
from neuroerp.inventory.reasons import ReasonContext, amount, day, days, in_days, number, reason

AS_OF = dt.date(2027, 2, 7)


def season(review: int) -> PairInput:
    """1 a day for three weeks, then 3 a day from 01.03. (the season); 58 available, which lasts
    until 12.03. (21 + 12 * 3 = 57); no forecast error, so no safety stock."""
    weekly = np.array([7.0] * 3 + [21.0] * 10)
    return PairInput(
        as_of=AS_OF, daily_forecast=np.repeat(weekly / 7, 7), sigma_daily=0.0, lead_time_days=14,
        sigma_lead_days=0.0, review_period_days=review, z=1.645, pack_size=1.0, min_order_qty=0.0,
        on_hand=58.0, reserved=0.0, past_mean_daily=1.5,
    )  # fmt: skip


def test_the_issue_example_sentence():
    plan = plan_pair(season(review=28))  # up to 21 + 21 * 3 = 84: 26 short
    text = reason(plan, ReasonContext(unit="piece", lead_time_days=14, review_period_days=28))
    assert text.startswith(
        "Bestand reicht bis 12.03., Lieferzeit 14 Tage, Saisonspitze ab 01.03.: bestellen bis 27.02., 26 Stk."
    )
    quiet = plan_pair(season(review=7))  # up to 21: the stock suffices until the next review
    text = reason(quiet, ReasonContext(unit="piece", lead_time_days=14))
    assert text == (
        "Bestand reicht bis 12.03., Lieferzeit 14 Tage, Saisonspitze ab 01.03.: keine Bestellung vor der "
        "nächsten Disposition nötig; nächste Bestellung bis 27.02."
    )


def test_german_numbers_and_dates():
    assert number(1234.5) == "1.234,5" and number(0.25) == "0,25" and number(-0.0001) == "0"
    assert number(1234567.0) == "1.234.567"
    assert amount(17.2713, "t", exact=False) == "17,3 t" and amount(2.5, "bag") == "2,5 Sack"
    assert amount(123.4, "l", exact=False) == "123 l"
    assert day(dt.date(2027, 3, 1)) == "01.03."


def test_precursor_duty_and_sporadic_demand_are_named():
    plan = plan_pair(season(review=28))
    text = reason(plan, ReasonContext(unit="t", lead_time_days=14, precursor_annex="I", sporadic=True,
                                      sales_weeks=2, history_weeks=104))  # fmt: skip
    assert "Nur 2 Verkaufswochen in 104 Wochen: sporadischer Bedarf" in text
    assert "Anhang I VO (EU) 2019/1148" in text and "Kundenerklärung" in text
    assert not text.endswith("..")
    excluded = reason(plan, ReasonContext(unit="t", lead_time_days=14, precursor_annex="I", deleted=True), "excluded")
    assert excluded == "Artikel gelöscht: kein Vorschlag."


def test_no_safety_stock_for_sporadic_demand():
    sporadic = plan_pair(PairInput(**{**season(7).__dict__, "sigma_daily": 5.0, "with_safety_stock": False}))
    regular = plan_pair(PairInput(**{**season(7).__dict__, "sigma_daily": 5.0}))
    assert sporadic.safety_stock == 0 and regular.safety_stock > 30  # 1.645 * sqrt(14 * 25) = 30.8


def test_every_number_of_a_reason_in_its_unit_rounded_for_reading_and_exact_for_ordering():
    """A whole reason per status, word for word: forecasts rounded for reading (25,9 kg), what is
    counted or ordered exact (3,333 kg), each in its unit; `in 1 Tag` but `in 21 Tagen`."""
    plan = PairPlan(
        status=ORDER, proposed_qty=50.0, required_qty=47.125, order_by=dt.date(2027, 2, 20),
        expected_arrival=dt.date(2027, 3, 6), mean_daily=1.2345, demand_lead_time=17.283, demand_protection=25.9245,
        safety_stock=4.5678, reorder_point=21.8508, order_up_to=30.4923, available=3.3333, open_po_in_time=1.25,
        stock_lasts_until=dt.date(2027, 2, 9), below_safety_from=dt.date(2027, 2, 8), season_peak_from=None,
        sellable_limit=None,
    )  # fmt: skip
    ctx = ReasonContext(unit="kg", lead_time_days=14, pack_size=25.0, min_order_qty=50.0, history_weeks=104)
    assert reason(plan, ctx) == (
        "Bestand reicht bis 09.02., unter Sicherheitsbestand ab 08.02., Lieferzeit 14 Tage: bestellen bis 20.02., "
        "50 kg. Bedarf in 21 Tagen (Lieferzeit + Bestellrhythmus): 25,9 kg; Sicherheitsbestand 4,57 kg; "
        "Meldebestand 21,9 kg; Bestellniveau 30,5 kg; verfügbar 3,333 kg (inkl. 1,25 kg offene Bestellungen). "
        "Aufgerundet von 47,125 kg auf Gebinde 25 kg, Mindestmenge 50 kg."
    )
    assert reason(replace(plan, status=NO_HISTORY), ctx) == (
        "Keine Verkäufe in den letzten 104 Wochen (neuer Artikel?): keine Prognose möglich, Erstbestellung bitte "
        "manuell planen; verfügbar 3,333 kg, Gebinde 25 kg, Mindestmenge 50 kg."
    )
    psm = ReasonContext(unit="l", lead_time_days=14, pack_size=5.0, min_order_qty=10.0,
                        psm_authorized_until=dt.date(2026, 6, 3), psm_sellable_until=dt.date(2026, 12, 3))  # fmt: skip
    limits = "Zulassung bis 03.06.2026, Abverkaufsfrist bis 03.12.2026"
    for sellable, said in ((7.5, "7,5 l"), (None, "0 l")):
        assert reason(replace(plan, status=PSM_BLOCKED, sellable_limit=sellable), psm) == (
            f"Bestand reicht bis 09.02., Lieferzeit 14 Tage; {limits}: bis dahin absetzbar {said}, weniger als die "
            "Mindestmenge 10 l: nicht bestellen."
        )
    assert (in_days(1), in_days(21), days(1), days(2)) == ("in 1 Tag", "in 21 Tagen", "1 Tag", "2 Tage")
