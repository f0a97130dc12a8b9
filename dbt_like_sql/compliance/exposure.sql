/* ---
description: >
  Exposure and applicability per tenant and compliance area: how much an area's rules judge, the
  eligible transactions in the look-back window (score_lookback_days before as_of) and the entities
  they judge as they stand. The area scores divide by it (more exposure at the same cases is a
  better score), and an area applies to a tenant only when it has exposure and the settings do
  not rule it out: `not_applicable` (tenant:area pairs) removes an area, and `lksg_applies_to`
  names the tenants the LkSG binds (at least 1,000 employees, § 1 LkSG); for the others their
  suppliers are no LkSG exposure and LkSG duties are not scored, while the EUDR duties of the area
  (every operator and trader, whatever its size) stay. An area with no exposure but with cases in
  the window is still scored (compliance.area_scores): what is found is never hidden.
owner: team:compliance
materialized: table
columns:
  tenant_id: The tenant (company).
  area: Compliance area (every area with a rule in compliance.rule_runs).
  exposure: transactions + entities, the divisor of the area's score.
  transactions: Eligible transactions of the area in the window (sales lines, deliveries, imports, invoices).
  entities: Eligible entities the area's rules judge as they stand (articles, suppliers, customers, business partners).
  measured_as: What is counted, in words.
  window_start: First day of the look-back window.
  window_end: Last day of the window (as_of).
  lksg_bound: Whether the LkSG binds the tenant (setting lksg_applies_to).
  excluded_by_settings: Whether the setting not_applicable removes the area for the tenant.
  applies: Whether the area is scored for the tenant (exposure and not excluded).
  applicability: Why it applies or not, in words.
tests:
  # error: the scores join on it; a second row would double an area
  - unique: [tenant_id, area]
  - not_null: [tenant_id, area, exposure, applies]
  # warn: an area this model does not measure is scored only where it has cases
  - expression:
      name: area_without_exposure_measure
      severity: warn
      sql: "select distinct area from {{ this }} where measured_as is null"
--- */
with s as (
    select
        as_of,
        as_of - score_lookback_days as since,
        an_restricted_n_pct,
        lksg_applies_to,
        not_applicable
    from compliance.settings
),

tenants as (
    select tenant_id from raw.customers
    union
    select tenant_id from raw.suppliers
),

areas as (
    select distinct area from compliance.rule_runs
),

bound as (
    select
        t.tenant_id,
        list_contains(s.lksg_applies_to, '*') or list_contains(s.lksg_applies_to, t.tenant_id) as lksg_bound
    from tenants as t
    cross join s
),

psm_articles as (
    select article_id from raw.articles where category = 'psm'
),

precursor_articles as (
    select a.article_id
    from raw.articles as a
    cross join s
    where a.precursor_annex is not null or a.precursor_substance is not null or a.n_from_an_pct >= s.an_restricted_n_pct
),

sales as (
    -- sales lines of orders that went ahead, ordered in the window
    select l.tenant_id, l.article_id
    from raw.sales_order_lines as l
    join raw.sales_orders as o on o.order_id = l.order_id
    cross join s
    where o.status <> 'cancelled' and cast(o.ordered_at at time zone 'Europe/Berlin' as date) between s.since and s.as_of
),

purchases as (
    -- purchase lines of orders not cancelled, ordered in the window
    select p.tenant_id, p.article_id, p.is_import
    from staging.purchase_order_lines as p
    cross join s
    where p.po_status <> 'cancelled' and cast(p.ordered_at at time zone 'Europe/Berlin' as date) between s.since and s.as_of
),

measured as (
    select tenant_id, 'psm' as area, count(*) as transactions, 0 as entities
    from sales where article_id in (select article_id from psm_articles)
    group by tenant_id
    union all
    select tenant_id, 'psm', 0, count(*)
    from raw.articles where category = 'psm' and deleted_at is null
    group by tenant_id
    union all
    select tenant_id, 'explosives', count(*), 0
    from sales where article_id in (select article_id from precursor_articles)
    group by tenant_id
    union all
    select a.tenant_id, 'explosives', 0, count(*)
    from raw.articles as a
    where a.deleted_at is null and a.article_id in (select article_id from precursor_articles)
    group by a.tenant_id
    union all
    select m.tenant_id, 'enni', count(*), 0
    from raw.manure_deliveries as m
    cross join s
    where m.delivered_on between s.since and s.as_of
    group by m.tenant_id
    union all
    select p.tenant_id, 'traces', count(*), 0
    from purchases as p
    join raw.articles as a on a.article_id = p.article_id
    where p.is_import or a.import_control is not null or a.is_organic
    group by p.tenant_id
    union all
    select p.tenant_id, 'lksg', count(*), 0
    from purchases as p
    join raw.articles as a on a.article_id = p.article_id
    where a.eudr_commodity is not null
    group by p.tenant_id
    union all
    select u.tenant_id, 'lksg', 0, count(*)
    from raw.suppliers as u
    join bound as b on b.tenant_id = u.tenant_id
    where u.deleted_at is null and b.lksg_bound
    group by u.tenant_id
    union all
    -- every customer record holds personal data, a deleted one too until it is erased
    select tenant_id, 'gdpr', 0, count(*)
    from raw.customers
    group by tenant_id
    union all
    select i.tenant_id, 'gobd', count(*), 0
    from raw.invoices as i
    cross join s
    where i.posted_at is not null and cast(i.posted_at at time zone 'Europe/Berlin' as date) between s.since and s.as_of
    group by i.tenant_id
    union all
    -- finance: the invoices whose terms, Skonto and payment FIN-001 and FIN-003 judge, and the
    -- business partners whose bank details and sanctions status FIN-002 and FIN-004 judge
    select i.tenant_id, 'finance', count(*), 0
    from raw.invoices as i
    cross join s
    where i.status <> 'cancelled' and (i.invoice_date between s.since and s.as_of or i.status in ('open', 'partially_paid'))
    group by i.tenant_id
    union all
    select p.tenant_id, 'finance', 0, count(*)
    from (
        select tenant_id from raw.customers where deleted_at is null
        union all
        select tenant_id from raw.suppliers where deleted_at is null
    ) as p
    group by p.tenant_id
),

units as (
    select * from (
        values
        ('psm', 'PSM sales lines in the window + PSM articles carried'),
        ('explosives', 'precursor sales lines in the window + precursor articles carried'),
        ('enni', 'manure deliveries in the window'),
        ('traces', 'import, controlled and organic purchase lines in the window'),
        ('lksg', 'EUDR commodity purchase lines in the window + suppliers (LkSG)'),
        ('gdpr', 'customers whose personal data is held'),
        ('gobd', 'invoices posted in the window'),
        ('finance', 'invoices dated in the window or still open (AP and AR) + customers and suppliers (screened, IBANs)')
    ) as u(area, measured_as)
),

totals as (
    select
        t.tenant_id,
        a.area,
        cast(coalesce(sum(m.transactions), 0) as bigint) as transactions,
        cast(coalesce(sum(m.entities), 0) as bigint) as entities
    from tenants as t
    cross join areas as a
    left join measured as m on m.tenant_id = t.tenant_id and m.area = a.area
    group by t.tenant_id, a.area
)

select
    x.tenant_id,
    x.area,
    cast(x.transactions + x.entities as bigint) as exposure,
    x.transactions,
    x.entities,
    case
        when x.area = 'lksg' and not b.lksg_bound
            then 'EUDR commodity purchase lines in the window (the LkSG does not bind the tenant: lksg_applies_to)'
        else u.measured_as
    end as measured_as,
    s.since as window_start,
    s.as_of as window_end,
    b.lksg_bound,
    list_contains(s.not_applicable, x.tenant_id || ':' || x.area) as excluded_by_settings,
    not list_contains(s.not_applicable, x.tenant_id || ':' || x.area) and x.transactions + x.entities > 0 as applies,
    case
        when list_contains(s.not_applicable, x.tenant_id || ':' || x.area)
            then 'not applicable: the setting not_applicable lists ' || x.tenant_id || ':' || x.area
        when u.measured_as is null then 'no exposure measure for this area: scored only where it has cases'
        when x.transactions + x.entities = 0 then 'nothing to judge: no ' || u.measured_as
        else 'applies'
    end as applicability
from totals as x
cross join s
join bound as b on b.tenant_id = x.tenant_id
left join units as u on u.area = x.area
