/* ---
description: >
  How reliably each supplier delivers: receipts of the last two years before the as-of day and
  the standard deviation of their delay against the confirmed day (received day minus expected
  day, in days). The reorder plan takes it as the lead time's standard deviation (sigma_L).
owner: team:purchasing
materialized: view
columns:
  tenant_id: The tenant (company).
  supplier_id: The supplier's key.
  receipts: Received purchase order lines in the two years before the as-of day.
  mean_delay_days: Mean delay against the expected day (negative means early).
  delay_std_days: Sample standard deviation of the delay, days (0 with one receipt).
tests:
  - unique: supplier_id
  - not_null: [supplier_id, receipts]
--- */
select
    l.tenant_id,
    l.supplier_id,
    count(*) as receipts,
    avg(date_diff('day', l.expected_on, cast(l.received_at at time zone 'Europe/Berlin' as date))) as mean_delay_days,
    coalesce(
        stddev_samp(date_diff('day', l.expected_on, cast(l.received_at at time zone 'Europe/Berlin' as date))), 0
    ) as delay_std_days
from staging.purchase_order_lines as l
cross join compliance.settings as s
where
    l.received_at is not null
    and l.expected_on is not null
    and cast(l.received_at at time zone 'Europe/Berlin' as date) between s.as_of - 730 and s.as_of
group by all
