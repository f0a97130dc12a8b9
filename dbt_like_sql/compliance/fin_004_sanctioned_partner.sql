/* ---
description: >
  FIN-004 (critical): a customer or supplier matches an entry of the EU sanctions list
  (reference.sanctions_list: the packaged sample excerpt, or the full consolidated list of the EU
  Financial Sanctions Files named by NEUROERP_SANCTIONS_LIST): its name, or the name with legal
  forms and punctuation removed, equals a listed name or alias, or contains one of at least two
  words. No funds or economic resources may be made available to a listed person (asset freeze),
  so no sale, purchase or payment. A match is a hit to clear, not proof: names collide.
owner: team:compliance
materialized: view
rule:
  id: FIN-004
  area: finance
  severity: critical
  entity: business_partner
  legal_basis: Art. 2 VO (EU) Nr. 269/2014; Art. 2 VO (EG) Nr. 765/2006; § 18 AWG
  recommendation: >
    Geschäftsbeziehung sofort einfrieren (keine Lieferung, keine Zahlung), Treffer anhand von
    Anschrift, Registernummer und Geburtsdaten prüfen; bestätigte Treffer der Deutschen Bundesbank
    (Servicezentrum Finanzsanktionen) melden und dokumentieren.
--- */
with partners as (
    select 'customer' as partner_type, customer_id as partner_id, tenant_id, name, country_code
    from staging.customers
    union all
    select 'supplier', supplier_id, tenant_id, name, country_code
    from staging.suppliers
),

normalised as (
    select
        p.*,
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(lower(strip_accents(p.name)), '[^a-z0-9]+', ' ', 'g'),
                '\b(gmbh|ag|kg|eg|ek|ohg|gbr|se|ug|co|oao|ojsc|pjsc|jsc|zao|ooo|aat|ltd|llc|inc|sa|bv|nv)\b', ' ', 'g'
            ),
            '\s+', ' ', 'g'
        )) as key
    from partners as p
),

listed as (
    select
        l.*,
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(lower(strip_accents(l.name)), '[^a-z0-9]+', ' ', 'g'),
                '\b(gmbh|ag|kg|eg|ek|ohg|gbr|se|ug|co|oao|ojsc|pjsc|jsc|zao|ooo|aat|ltd|llc|inc|sa|bv|nv)\b', ' ', 'g'
            ),
            '\s+', ' ', 'g'
        )) as key
    from reference.sanctions_list as l
),

hits as (
    select
        p.partner_type,
        p.partner_id,
        p.tenant_id,
        p.name,
        p.country_code,
        l.entry_id,
        l.name as listed_name,
        l.programme,
        l.source,
        row_number() over (partition by p.partner_id order by l.entry_id, l.name) as rank
    from normalised as p
    join listed as l
        on l.key <> ''
        and (
            p.key = l.key
            or (contains(l.key, ' ') and contains(' ' || p.key || ' ', ' ' || l.key || ' '))
        )
)

select
    h.partner_id as entity_id,
    h.tenant_id,
    h.partner_type as subject_type,
    h.partner_id as subject_id,
    json_object(
        'partner_type', h.partner_type, 'name', h.name, 'country', h.country_code, 'listed_name', h.listed_name,
        'entry_id', h.entry_id, 'programme', h.programme, 'list_source', h.source
    ) as evidence
from hits as h
where h.rank = 1
