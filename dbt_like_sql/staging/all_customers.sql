/* ---
description: >
  Every customer the ERP holds, soft-deleted ones included (their data is still there, so
  retention rules apply), with whether they buy for a business or as private persons.
owner: team:analytics
materialized: view
tests:
  # error: a duplicate key fans out every join; the ingest rejects duplicate source keys, so it is our defect
  - unique: customer_id
  # error: the ingest rejects source rows without these; a null here means this model broke them
  - not_null: [customer_id, tenant_id, customer_no, customer_type]
  # warn: an unknown value is a row-level problem: the row stays and the check lists it
  - accepted_values:
      column: customer_type
      values: [farm, contractor, retailer, cooperative, industry, private]
      severity: warn
  # warn: a data-entry mistake on one customer; the rules judge by customer_type, the check lists it
  - expression:
      name: private_customers_are_not_professional
      sql: "select * from {{ this }} where customer_type = 'private' and is_professional"
      severity: warn
--- */
select
    c.customer_id,
    c.tenant_id,
    c.customer_no,
    c.name,
    c.customer_type,
    c.is_professional,
    c.vat_id,
    c.street,
    c.postal_code,
    c.city,
    c.state_code,
    c.country_code,
    c.country_code <> 'DE' as is_foreign,
    c.email,
    c.phone,
    c.created_at,
    c.updated_at,
    c.deleted_at
from raw.customers as c
