/* ---
description: >
  Demand per article, warehouse and week: what customers ordered (orders that went ahead, by
  their local order date), in weeks that end on the as-of day of compliance.settings, so the
  latest week is complete. Only weeks with demand are listed. The input of the demand forecast.
owner: team:purchasing
materialized: table
columns:
  tenant_id: The tenant (company).
  category: The article's category (the forecast model is chosen per tenant and category).
  article_id: The article's key.
  warehouse_id: The warehouse the goods left from.
  weeks_back: 0 for the week ending on the as-of day, 1 for the week before, ...
  week_start: First day of that week.
  quantity: Quantity ordered in that week, in the article's unit.
  order_lines: Order lines behind it.
tests:
  - unique: [article_id, warehouse_id, weeks_back]
  - not_null: [tenant_id, category, article_id, warehouse_id, weeks_back, quantity]
  - expression:
      name: no_negative_demand
      sql: "select * from {{ this }} where quantity < 0 or weeks_back < 0"
--- */
with lines as (
    select
        l.tenant_id,
        a.category,
        l.article_id,
        l.warehouse_id,
        l.quantity,
        s.as_of,
        cast(floor(date_diff('day', l.order_date, s.as_of) / 7) as integer) as weeks_back
    from staging.sales_order_lines as l
    join staging.all_articles as a on a.article_id = l.article_id
    cross join compliance.settings as s
    where l.went_ahead and l.order_date <= s.as_of and l.warehouse_id is not null
)

select
    tenant_id,
    category,
    article_id,
    warehouse_id,
    weeks_back,
    cast(as_of - 7 * weeks_back - 6 as date) as week_start,
    sum(quantity) as quantity,
    count(*) as order_lines
from lines
group by all
