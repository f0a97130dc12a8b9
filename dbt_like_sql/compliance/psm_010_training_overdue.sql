/* ---
description: >
  PSM-010 (medium): an active staff member holding a Sachkunde is past the day the recognised
  training was due (`psm_training_due_on`, contract 1.1): holders must attend one in every
  three-year period. A seller whose training lapsed risks the Sachkunde being withdrawn, and with
  it every PSM sale. Staff without a recorded date are not judged (the ERP may not record it).
owner: team:compliance
materialized: view
rule:
  id: PSM-010
  area: psm
  severity: medium
  entity: staff
  subject: staff
  legal_basis: § 9 Abs. 4 PflSchG; § 7 PflSchSachkV
  recommendation: >
    Anerkannte Fortbildung umgehend buchen und die Teilnahmebescheinigung erfassen; bis dahin
    keine PSM-Abgabe durch diesen Mitarbeiter.
--- */
select
    st.staff_id as entity_id,
    st.tenant_id,
    st.staff_id as subject_id,
    json_object(
        'staff', st.name, 'sachkunde_no', st.psm_sachkunde_no, 'training_due_on', st.psm_training_due_on,
        'days_overdue', s.as_of - st.psm_training_due_on
    ) as evidence
from staging.staff as st
cross join compliance.settings as s
where st.active and st.has_sachkunde and st.psm_training_due_on < s.as_of
