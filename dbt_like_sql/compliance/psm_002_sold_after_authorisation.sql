/* ---
description: >
  PSM-002 (critical): a plant protection product was sold after its authorisation ended plus the
  sell-out period (six months), or after it ended at all when the authority withdrew it for risk.
owner: team:compliance
materialized: view
rule:
  id: PSM-002
  area: psm
  severity: critical
  entity: sales_order_line
  subject: article
  legal_basis: § 28 Abs. 4 PflSchG; Art. 46 VO (EG) 1107/2009
  recommendation: >
    Verkauf sofort stoppen, Restbestand sperren und zurücknehmen oder entsorgen lassen; Abnehmer
    über das Ende der Aufbrauchfrist informieren.
tests:
  # error: a rule listing an entity twice double-counts it; the union leaves such a rule out (area stale)
  - unique: entity_id
--- */
with limits as (
    select
        a.*,
        case
            when a.psm_withdrawal_kind = 'authority_risk' then a.psm_authorized_until
            else cast(a.psm_authorized_until + to_months(s.psm_sellout_months) as date)
        end as sellable_until
    from staging.all_articles as a
    cross join compliance.settings as s
    where a.category = 'psm' and a.psm_authorized_until is not null
)

select
    l.line_id as entity_id,
    l.tenant_id,
    a.article_id as subject_id,
    json_object(
        'article_no', a.article_no, 'article', a.name, 'bvl_no', a.psm_reg_no,
        'authorized_until', a.psm_authorized_until, 'withdrawal', a.psm_withdrawal_kind,
        'sellable_until', a.sellable_until, 'sold_on', l.order_date, 'order_id', l.order_id,
        'customer_id', l.customer_id
    ) as evidence
from staging.sales_order_lines as l
join limits as a on a.article_id = l.article_id
where l.went_ahead and l.order_date > a.sellable_until
