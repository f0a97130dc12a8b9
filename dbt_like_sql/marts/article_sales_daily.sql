/* ---
description: >
  Sales per article and local day: quantity (in the article's unit), net value, order lines and
  customers. Only orders that went ahead count.
owner: team:analytics
materialized: table
columns:
  tenant_id: The tenant (company).
  article_id: The article's key.
  article_no: Article number as printed on documents.
  article_name: Article name.
  category: psm, fertiliser, seed, feed, grain or other.
  unit: Sales unit (t, kg, l, piece, ...).
  sales_date: The order date.
  quantity: Quantity sold that day, in the article's unit.
  net_amount: Net revenue of those lines, EUR.
  order_lines: Order lines that went ahead.
  customers: Distinct customers who bought it.
tests:
  # error: the grain of the mart; a duplicate double-counts every sum
  - unique: [tenant_id, article_id, sales_date]
  # error: computed by this model from required columns; a null means the model is broken
  - not_null: [article_id, sales_date, quantity, net_amount]
  # error: checks this model's own join on articles; a failure means the join is broken
  - relationships: {column: article_id, to: raw.articles, field: article_id}
--- */
select
    l.tenant_id,
    l.article_id,
    a.article_no,
    a.name as article_name,
    a.category,
    a.unit,
    l.order_date as sales_date,
    sum(l.quantity) as quantity,
    sum(l.net_amount) as net_amount,
    count(*) as order_lines,
    count(distinct l.customer_id) as customers
from staging.sales_order_lines as l
join raw.articles as a on a.article_id = l.article_id
where l.went_ahead
group by all
