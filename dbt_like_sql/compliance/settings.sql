/* ---
description: >
  Dates and thresholds of the compliance rules, in one row. Where the law is still moving (EUDR
  application date, retention periods) change the default here, or override a value for one run
  in its run configuration (launchpad, or `neuroerp materialize --rule NAME=VALUE`), where it is
  recorded with the run. `as_of` is the day the rules judge: today, or the run's `as_of` to
  reproduce a past day; `evaluated_at` is the matching instant (now, or the end of that day).
owner: team:compliance
materialized: table
vars:
  as_of: The day the rules judge (YYYY-MM-DD); empty means today.
  psm_sellout_months: Months a PSM may still be sold after its authorisation ended (Art. 46 VO (EG) 1107/2009).
  psm_sellout_warning_days: Days ahead to warn about stock whose sell-out period ends.
  an_restricted_n_pct: Nitrogen from ammonium nitrate, in %, from which Annex I of EU 2019/1148 applies.
  an_detonation_test_n_pct: Nitrogen from ammonium nitrate, in %, from which a detonation test is required.
  precursor_report_hours: Hours within which a suspicious precursor transaction, loss or theft must be reported.
  precursor_verification_months: Months a verified customer statement (Annex IV) covers later sales.
  precursor_quantity_factor: Multiple of the customer's usual quantity that counts as an unusual quantity.
  precursor_loss_significant_kg: Kilograms from which a precursor stock loss is significant (Art. 9 (5)).
  manure_report_months: Months within which a manure delivery must be recorded and reported (WDüngV § 3).
  manure_reportable_tonnes: Tonnes a calendar year a company hands over or takes in, from which it must report.
  manure_report_states: Länder (comma-separated codes) whose delivery reporting programme the rules judge.
  lksg_review_months_high: Months a high-risk supplier's risk assessment stays current.
  lksg_review_months_medium: Months a medium-risk supplier's risk assessment stays current.
  eudr_application_date: Day the EUDR due-diligence duty applies (YYYY-MM-DD).
  gdpr_answer_months: Months within which a data-subject request must be answered (GDPR Art. 12(3)).
  retention_years_vouchers: Years invoices and booking vouchers are kept (§ 147 (3) AO, since 2025).
  retention_years_letters: Years business letters (orders, confirmations) are kept (§ 147 (3) AO).
  retention_years_books: Years books and records, the audit trail included, are kept (§ 147 (3) AO).
  retention_years_psm_records: Years PSM sales records are kept (Art. 67 VO (EG) 1107/2009).
  gobd_audit_gapless: true when the ERP guarantees a gapless audit sequence (then a gap is evidence).
  gobd_gap_grace_minutes: Minutes a missing audit sequence number may be an uncommitted transaction.
  agrifood_max_payment_days: Longest payment term for non-perishable agri-food products (§ 11 AgrarOLkG).
  score_lookback_days: >
    Days back from as_of in which a past event (a sale, a delivery, an import, an invoice) still
    counts in the scores; findings about a standing state (an article, a supplier) always count.
  score_acknowledged_factor: >
    Share of its weight an acknowledged case keeps in the scores (0 to 1); resolved and dismissed
    cases weigh nothing.
  score_reference_exposure: >
    The exposure (eligible transactions and entities) at which the severity weights apply as they
    are; an area's penalty is scaled by the square root of reference / exposure.
  lksg_applies_to: >
    Tenants the LkSG binds (at least 1,000 employees, § 1 LkSG), comma-separated, or * for all;
    for the others the LkSG duties are left out of the scores (the EUDR duties of the area stay).
  not_applicable: >
    Areas a tenant is not subject to, as comma-separated tenant:area pairs (e.g. lh-sued:enni):
    left out of that tenant's scores, whatever its exposure.
tests:
  # error: every rule joins the settings; a second row would double every finding
  - expression: {name: exactly_one_row, sql: "select 1 from {{ this }} having count(*) <> 1"}
  # --- scores and cases (issue 9)
  # error: a factor outside 0..1 or a non-positive exposure makes every score wrong
  - expression:
      name: score_settings_in_range
      sql: >
        select * from {{ this }}
        where score_lookback_days < 0 or score_acknowledged_factor not between 0 and 1
        or score_reference_exposure <= 0
--- */
select
    -- explicit zones, never the session's: the same data and as_of give the same findings on a
    -- server in UTC and one in Berlin (a German day for as_of; its end at midnight UTC)
    coalesce(getvariable('as_of')::date, cast(current_timestamp at time zone 'Europe/Berlin' as date)) as as_of,
    coalesce(
        cast(getvariable('as_of')::date + interval 1 day as timestamp) at time zone 'UTC', current_timestamp
    ) as evaluated_at,
    -- plant protection (Art. 46 VO (EG) 1107/2009: at most six months to sell out)
    coalesce(getvariable('psm_sellout_months')::integer, 6) as psm_sellout_months,
    coalesce(getvariable('psm_sellout_warning_days')::integer, 90) as psm_sellout_warning_days,
    -- explosives precursors (EU 2019/1148; fertiliser regulation 2019/1009)
    coalesce(getvariable('an_restricted_n_pct')::double, 16.0) as an_restricted_n_pct,
    coalesce(getvariable('an_detonation_test_n_pct')::double, 28.0) as an_detonation_test_n_pct,
    coalesce(getvariable('precursor_report_hours')::integer, 24) as precursor_report_hours,
    coalesce(getvariable('precursor_verification_months')::integer, 12) as precursor_verification_months,
    coalesce(getvariable('precursor_quantity_factor')::double, 2.0) as precursor_quantity_factor,
    coalesce(getvariable('precursor_loss_significant_kg')::double, 100.0) as precursor_loss_significant_kg,
    -- manure (WDüngV § 3; Niedersachsen's reporting regulation: one month, above 200 t a year)
    coalesce(getvariable('manure_report_months')::integer, 1) as manure_report_months,
    coalesce(getvariable('manure_reportable_tonnes')::integer, 200) as manure_reportable_tonnes,
    coalesce(getvariable('manure_report_states'), 'NI') as manure_report_states,
    -- LkSG (§ 5 (4): yearly and ad hoc; individual reviews by risk level) / EUDR (2023/1115 as of 2025/2650)
    coalesce(getvariable('lksg_review_months_high')::integer, 12) as lksg_review_months_high,
    coalesce(getvariable('lksg_review_months_medium')::integer, 24) as lksg_review_months_medium,
    coalesce(getvariable('eudr_application_date')::date, date '2026-12-30') as eudr_application_date,
    -- GDPR (Art. 12(3): one month) and retention (§ 147 AO, § 257 HGB; Art. 67 VO 1107/2009)
    coalesce(getvariable('gdpr_answer_months')::integer, 1) as gdpr_answer_months,
    coalesce(getvariable('retention_years_vouchers')::integer, 8) as retention_years_vouchers,
    coalesce(getvariable('retention_years_letters')::integer, 6) as retention_years_letters,
    coalesce(getvariable('retention_years_books')::integer, 10) as retention_years_books,
    coalesce(getvariable('retention_years_psm_records')::integer, 5) as retention_years_psm_records,
    -- GoBD: a gap in the audit sequence is evidence only where the ERP guarantees gapless numbers
    coalesce(getvariable('gobd_audit_gapless')::boolean, false) as gobd_audit_gapless,
    coalesce(getvariable('gobd_gap_grace_minutes')::integer, 15) as gobd_gap_grace_minutes,
    -- finance: § 11 (2) Nr. 2 AgrarOLkG (Art. 3 (1) (a) RL (EU) 2019/633)
    coalesce(getvariable('agrifood_max_payment_days')::integer, 60) as agrifood_max_payment_days,
    -- scores and cases: look-back window, decided cases, normalisation, applicability
    coalesce(getvariable('score_lookback_days')::integer, 365) as score_lookback_days,
    coalesce(getvariable('score_acknowledged_factor')::double, 0.5) as score_acknowledged_factor,
    coalesce(getvariable('score_reference_exposure')::double, 1000.0) as score_reference_exposure,
    list_filter(
        list_transform(string_split(coalesce(getvariable('lksg_applies_to'), '*'), ','), lambda x: trim(x)),
        lambda x: x <> ''
    ) as lksg_applies_to,
    list_filter(
        list_transform(string_split(coalesce(getvariable('not_applicable'), ''), ','), lambda x: trim(x)),
        lambda x: x <> ''
    ) as not_applicable
