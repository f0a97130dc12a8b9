/* ---
description: >
  Dates and thresholds of the compliance rules, in one row. Where the law is still moving (EUDR
  application date, retention periods) change the default here, or set NEUROERP_COMPLIANCE_<NAME>
  (e.g. NEUROERP_COMPLIANCE_EUDR_APPLICATION_DATE=2027-06-30) for one deployment. `as_of` is the
  day the rules judge: today, or NEUROERP_AS_OF to reproduce a past day; `evaluated_at` is the
  matching instant (now, or the end of that day).
owner: team:compliance
materialized: table
tests:
  - expression: {name: exactly_one_row, sql: "select 1 from {{ this }} having count(*) <> 1"}
--- */
select
    coalesce(getvariable('as_of')::date, current_date) as as_of,
    coalesce(
        (getvariable('as_of')::date + interval 1 day)::timestamptz, current_timestamp
    ) as evaluated_at,
    -- plant protection (PflSchG § 28(4): six months to sell out an expired authorisation)
    coalesce(getvariable('psm_sellout_months')::integer, 6) as psm_sellout_months,
    coalesce(getvariable('psm_expiry_warning_days')::integer, 90) as psm_expiry_warning_days,
    -- explosives precursors (EU 2019/1148; fertiliser regulation 2019/1009)
    coalesce(getvariable('an_restricted_n_pct')::double, 16.0) as an_restricted_n_pct,
    coalesce(getvariable('an_detonation_test_n_pct')::double, 28.0) as an_detonation_test_n_pct,
    coalesce(getvariable('precursor_report_hours')::integer, 24) as precursor_report_hours,
    coalesce(getvariable('precursor_verification_months')::integer, 12) as precursor_verification_months,
    coalesce(getvariable('precursor_quantity_factor')::double, 2.0) as precursor_quantity_factor,
    -- manure (WDüngV § 3: one month)
    coalesce(getvariable('manure_report_days')::integer, 30) as manure_report_days,
    coalesce(getvariable('manure_reportable_tonnes')::integer, 200) as manure_reportable_tonnes,
    -- LkSG / EUDR (Reg. 2023/1115 as amended by 2025/2650)
    coalesce(getvariable('lksg_assessment_months')::integer, 12) as lksg_assessment_months,
    coalesce(getvariable('eudr_application_date')::date, date '2026-12-30') as eudr_application_date,
    -- GDPR (Art. 12(3): one month) and retention (§ 147 AO, § 257 HGB)
    coalesce(getvariable('gdpr_erasure_days')::integer, 30) as gdpr_erasure_days,
    coalesce(getvariable('retention_years')::integer, 10) as retention_years,
    -- GoBD: how far an invoice's last change may lie from its audit entry
    coalesce(getvariable('gobd_audit_tolerance_seconds')::integer, 60) as gobd_audit_tolerance_seconds,
    -- GoBD: how long a missing audit sequence number may be an uncommitted transaction
    coalesce(getvariable('gobd_gap_grace_minutes')::integer, 15) as gobd_gap_grace_minutes
