/* ---
description: >
  TRACES-002 (medium): a CHED was submitted less than one working day before the consignment
  arrived (or not at all by then). One working day before arrival skips the weekend: for an
  arrival on Monday morning the CHED is due by Friday morning.
owner: team:compliance
materialized: view
rule:
  id: TRACES-002
  area: traces
  severity: medium
  entity: import_document
  subject: supplier
  legal_basis: Art. 1 Durchführungsverordnung (EU) 2019/1013
  recommendation: >
    Vorabmeldung künftig mindestens einen Arbeitstag vor Ankunft einreichen; Spediteur und Lieferant
    auf die Frist verpflichten.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with deadlines as (
    select
        d.*,
        d.arrival_at - interval 1 day as one_day_before
    from staging.import_documents as d
    where d.kind <> 'COI'
)

select
    d.document_id as entity_id,
    d.tenant_id,
    po.supplier_id as subject_id,
    json_object(
        'kind', d.kind, 'reference_no', d.reference_no, 'submitted_at', d.submitted_at, 'arrival_at', d.arrival_at,
        'due_by', d.due_by
    ) as evidence
from (
    select
        *,
        case dayofweek(one_day_before)
            when 0 then one_day_before - interval 2 day  -- Sunday: back to Friday
            when 6 then one_day_before - interval 1 day  -- Saturday: back to Friday
            else one_day_before
        end as due_by
    from deadlines
) as d
join staging.purchase_orders as po on po.po_id = d.po_id
cross join compliance.settings as s
where (d.submitted_at is null and d.due_by < s.evaluated_at) or d.submitted_at > d.due_by
