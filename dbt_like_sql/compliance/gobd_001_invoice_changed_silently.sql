/* ---
description: >
  GOBD-001 (critical): a field GoBD protects on a posted invoice (number, date, partner, net, tax
  or gross amount) no longer holds what the audit trail last recorded for it: the invoice was
  changed after posting and the change left no trace. Compared field by field with the latest
  audit image (the `after` of the invoice's create and update entries) that carries the field.
  Before, the rule compared change times: 10,059 of 10,823 posted demo invoices counted as
  "changed after posting" because their payment status changes, and any audit row within 60
  seconds, an export included, cleared an invoice. A status change touches no protected field and
  an export records no image. Fields the audit trail never recorded cannot be judged.
owner: team:compliance
materialized: view
rule:
  id: GOBD-001
  area: gobd
  severity: critical
  entity: invoice
  subject: invoice
  legal_basis: § 146 Abs. 4 AO; GoBD Rz. 58 f., 107 bis 112
  recommendation: >
    Änderung aufklären und den ursprünglichen Inhalt wiederherstellen; Korrekturen nur per Storno
    und Neubuchung vornehmen; Protokollierung der Rechnungsänderungen im ERP prüfen.
--- */
with fields as (
    select unnest(['invoice_no', 'invoice_date', 'partner_id', 'net_amount', 'tax_amount', 'gross_amount']) as field
),

audited as (
    -- the latest value the audit trail recorded for each protected field of each invoice
    select
        a.entity_id as invoice_id,
        f.field,
        arg_max(json_extract_string(a.after, '$.' || f.field), a.seq) as audited_value
    from staging.audit_log as a
    cross join fields as f
    where a.entity_type = 'invoice'
        and a.action in ('create', 'update')
        and json_extract_string(a.after, '$.' || f.field) is not null
    group by all
),

compared as (
    select
        i.invoice_id,
        i.tenant_id,
        i.invoice_no,
        i.kind,
        i.posted_at,
        i.updated_at,
        a.field,
        a.audited_value,
        case a.field
            when 'invoice_no' then i.invoice_no
            when 'invoice_date' then cast(i.invoice_date as varchar)
            when 'partner_id' then i.partner_id
            when 'net_amount' then cast(i.net_amount as varchar)
            when 'tax_amount' then cast(i.tax_amount as varchar)
            when 'gross_amount' then cast(i.gross_amount as varchar)
        end as current_value,
        case
            when a.field in ('net_amount', 'tax_amount', 'gross_amount')
                then try_cast(a.audited_value as decimal(18, 2)) is distinct from case a.field
                    when 'net_amount' then i.net_amount when 'tax_amount' then i.tax_amount else i.gross_amount
                end
            when a.field = 'invoice_date' then try_cast(a.audited_value as date) is distinct from i.invoice_date
            when a.field = 'invoice_no' then a.audited_value <> i.invoice_no
            else a.audited_value <> i.partner_id
        end as differs
    from staging.invoices as i
    join audited as a on a.invoice_id = i.invoice_id
    where i.posted_at is not null
)

select
    c.invoice_id as entity_id,
    any_value(c.tenant_id) as tenant_id,
    c.invoice_id as subject_id,
    json_object(
        'invoice_no', any_value(c.invoice_no), 'kind', any_value(c.kind), 'posted_at', any_value(c.posted_at),
        'last_changed_at', any_value(c.updated_at),
        'changed_fields', list(
            json_object('field', c.field, 'audited', c.audited_value, 'current', c.current_value) order by c.field
        )
    ) as evidence
from compared as c
where c.differs
group by c.invoice_id
