/* ---
description: >
  The authorisation every plant protection article is judged by, one row per PSM article (deleted
  ones included): the BVL number of the product (a parallel-trade permit number "GP 005314-00/031"
  counts as its reference product's, which it may only be sold as long as), the authorisation end
  the BVL register gives for that product where the register knows it, else the ERP's (the ERP's
  earlier date wins after a withdrawal for risk, which a register snapshot may predate), and the
  last day the product may be sold: the end plus the sell-out period, or the end itself after a
  withdrawal for risk (Art. 46 VO (EG) 1107/2009; BVL: the sell-out period covers only goods already
  on the market at the end). The PSM rules and their reports judge by this one definition.
owner: team:compliance
materialized: view
columns:
  article_id: The PSM article.
  tenant_id: The tenant (company).
  article_no: Article number.
  name: Article name.
  psm_reg_no: The number the ERP records (BVL number or parallel-trade permit number).
  product_no: The BVL number the authorisation is judged by (the reference product's for a permit).
  is_parallel_trade: The ERP records a parallel-trade permit number (GP).
  erp_authorized_until: Authorisation end the ERP records.
  register_authorized_until: Authorisation end the BVL register gives, null when it does not know the product.
  authorized_until: The end the rules judge by.
  date_source: register or erp, where authorized_until comes from.
  withdrawal_kind: How the authorisation ended, as the ERP records it.
  sellable_until: Last day the product may be sold.
  is_active: The article is active in the ERP (orderable, listed in the webshop).
  is_deleted: The article is deleted in the ERP.
  on_hand: Stock on hand over all warehouses.
  stocked_sites: Warehouses holding some of it.
  subject_type: psm_product (the BVL number is the root cause of its findings) or article where there is none.
  subject_id: The BVL number, or the article where there is none.
  article_evidence: The article and its product as JSON, for the evidence of the PSM findings.
tests:
  # error: every PSM rule joins this per article; a duplicate fans out their findings
  - unique: article_id
--- */
with numbers as (
    select
        a.*,
        nullif(regexp_extract(a.psm_reg_no, '^GP ?([0-9A-Z]{6}-[0-9]{2})/[0-9]{2,3}$', 1), '') as gp_reference
    from staging.all_articles as a
    where a.category = 'psm'
),

judged as (
    select
        n.article_id,
        n.tenant_id,
        n.article_no,
        n.name,
        n.psm_reg_no,
        coalesce(n.gp_reference, n.psm_reg_no) as product_no,
        n.gp_reference is not null as is_parallel_trade,
        n.psm_authorized_until as erp_authorized_until,
        r.authorised_until as register_authorized_until,
        case
            when n.psm_withdrawal_kind = 'authority_risk' and n.psm_authorized_until is not null
                then least(n.psm_authorized_until, coalesce(r.authorised_until, n.psm_authorized_until))
            else coalesce(r.authorised_until, n.psm_authorized_until)
        end as authorized_until,
        case
            when r.authorised_until is not null
                and not coalesce(n.psm_withdrawal_kind = 'authority_risk' and n.psm_authorized_until < r.authorised_until, false)
                then 'register'
            when n.psm_authorized_until is not null then 'erp'
        end as date_source,
        n.psm_withdrawal_kind as withdrawal_kind,
        n.is_active,
        n.deleted_at is not null as is_deleted
    from numbers as n
    left join (
        select kennr, max(authorised_until) as authorised_until
        from reference.bvl_products
        where kennr is not null
        group by kennr
    ) as r on r.kennr = coalesce(n.gp_reference, n.psm_reg_no)
),

stock as (
    select article_id, sum(on_hand) as on_hand, count(*) filter (where on_hand > 0) as stocked_sites
    from staging.stock_levels
    group by article_id
)

select
    j.*,
    case
        when j.withdrawal_kind = 'authority_risk' then j.authorized_until
        else cast(j.authorized_until + to_months(s.psm_sellout_months) as date)
    end as sellable_until,
    coalesce(st.on_hand, 0) as on_hand,
    coalesce(st.stocked_sites, 0) as stocked_sites,
    case when j.product_no is not null then 'psm_product' else 'article' end as subject_type,
    coalesce(j.product_no, j.article_id) as subject_id,
    json_object(
        'article_id', j.article_id, 'article_no', j.article_no, 'article', j.name, 'bvl_no', j.product_no,
        'authorized_until', j.authorized_until, 'date_source', j.date_source
    ) as article_evidence
from judged as j
left join stock as st on st.article_id = j.article_id
cross join compliance.settings as s
