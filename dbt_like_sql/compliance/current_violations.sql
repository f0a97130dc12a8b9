/* ---
description: >
  Every rule's findings of this run in one table, each with a violation_id that stays the same
  across runs (rule, entity type and entity), so a violation keeps its history.
owner: team:compliance
materialized: table
tests:
  - unique: violation_id
  - not_null: [violation_id, tenant_id, area, rule_id, severity, entity_type, entity_id, legal_basis, recommendation]
  - accepted_values: {column: area, values: [psm, explosives, enni, traces, lksg, gdpr, gobd]}
  - accepted_values: {column: severity, values: [critical, high, medium, info]}
--- */
with findings as (
    select * from compliance.enni_001_unreported_delivery

    union all by name

    select * from compliance.enni_002_missing_nutrients

    union all by name

    select * from compliance.enni_003_reportable_partner

    union all by name

    select * from compliance.exp_001_annex_i_to_private

    union all by name

    select * from compliance.exp_002_no_customer_statement

    union all by name

    select * from compliance.exp_003_unusual_quantity

    union all by name

    select * from compliance.exp_004_late_report

    union all by name

    select * from compliance.exp_005_detonation_test

    union all by name

    select * from compliance.exp_006_precursor_loss

    union all by name

    select * from compliance.exp_007_precursor_classification

    union all by name

    select * from compliance.gdpr_001_overdue_erasure

    union all by name

    select * from compliance.gdpr_002_retention_exceeded

    union all by name

    select * from compliance.gdpr_003_marketing_without_consent

    union all by name

    select * from compliance.gobd_001_invoice_changed_silently

    union all by name

    select * from compliance.gobd_002_audit_sequence_gap

    union all by name

    select * from compliance.gobd_003_audit_row_altered

    union all by name

    select * from compliance.lksg_001_no_risk_assessment

    union all by name

    select * from compliance.lksg_002_high_risk_without_coc

    union all by name

    select * from compliance.lksg_003_eudr_without_dds

    union all by name

    select * from compliance.psm_001_no_sachkunde

    union all by name

    select * from compliance.psm_002_sold_after_authorisation

    union all by name

    select * from compliance.psm_003_bvl_number

    union all by name

    select * from compliance.psm_004_expiring_stock

    union all by name

    select * from compliance.psm_005_staff_without_sachkunde

    union all by name

    select * from compliance.psm_006_webshop_private

    union all by name

    select * from compliance.traces_001_missing_document

    union all by name

    select * from compliance.traces_002_late_ched

    union all by name

    select * from compliance.traces_003_organic_without_coi
)

select
    md5(rule_id || '|' || entity_type || '|' || entity_id) as violation_id,
    tenant_id,
    area,
    rule_id,
    severity,
    entity_type,
    entity_id,
    subject_type,
    subject_id,
    cast(evidence as varchar) as evidence,
    recommendation,
    legal_basis
from findings
