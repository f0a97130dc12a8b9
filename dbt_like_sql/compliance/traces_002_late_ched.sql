/* ---
description: >
  TRACES-002 (medium): a CHED was submitted less than one working day before the consignment
  arrived (or not at all by then). The working day before arrival skips weekends and Germany's
  nationwide public holidays (finance.calendar): for an arrival on Monday morning the CHED is due by
  Friday morning, for an arrival on Easter Tuesday by the Thursday before. Regional holidays of the
  border control post's Land are not in the calendar.
owner: team:compliance
materialized: view
rule:
  id: TRACES-002
  area: traces
  severity: medium
  entity: import_document
  subject: supplier
  legal_basis: Art. 1 Abs. 1 Durchführungsverordnung (EU) 2019/1013
  recommendation: >
    Vorabmeldung künftig mindestens einen Arbeitstag vor Ankunft einreichen; Spediteur und Lieferant
    auf die Frist verpflichten.
--- */
with arrivals as (
    select d.*, d.arrival_at at time zone 'Europe/Berlin' as arrival_local
    from staging.import_documents as d
    where d.kind <> 'COI'
),

deadlines as (
    select
        a.*,
        (
            (
                select max(c.day) from finance.calendar as c
                where c.is_workday and c.day < cast(a.arrival_local as date)
            ) + (a.arrival_local - date_trunc('day', a.arrival_local))
        ) at time zone 'Europe/Berlin' as due_by
    from arrivals as a
)

select
    d.document_id as entity_id,
    d.tenant_id,
    po.supplier_id as subject_id,
    json_object(
        'kind', d.kind, 'reference_no', d.reference_no, 'submitted_at', d.submitted_at, 'arrival_at', d.arrival_at,
        'due_by', d.due_by
    ) as evidence
from deadlines as d
join staging.purchase_orders as po on po.po_id = d.po_id
cross join compliance.settings as s
where (d.submitted_at is null and d.due_by < s.evaluated_at) or d.submitted_at > d.due_by
