/* ---
description: >
  Calendar 2000-2100 for payment deadlines: German nationwide public holidays and whether a day is a
  Werktag in the sense of § 193 BGB (a deadline ending on a Saturday, Sunday or public holiday moves
  to the next such day). Only the nine nationwide holidays count: regional ones (Epiphany, Corpus
  Christi, ...) depend on the place of performance and are not in the ERP's data.
owner: team:finance
materialized: table
columns:
  day: The calendar day.
  holiday: Name of the nationwide public holiday, null on other days.
  is_workday: Neither Saturday, Sunday nor a nationwide public holiday.
  next_workday: The day itself when it is a workday, else the next workday (§ 193 BGB).
tests:
  - unique: day
  - not_null: [day, is_workday, next_workday]
--- */
with years as (
    select y::integer as y from range(2000, 2102) as t (y)
),

easter as (
    -- anonymous Gregorian algorithm (Meeus/Jones/Butcher)
    select
        y,
        y % 19 as a,
        y // 100 as b,
        y % 100 as c
    from years
),

easter2 as (
    select
        y, a, b, c,
        (19 * a + b - b // 4 - (b - (b + 8) // 25 + 1) // 3 + 15) % 30 as h,
        (32 + 2 * (b % 4) + 2 * (c // 4) - ((19 * a + b - b // 4 - (b - (b + 8) // 25 + 1) // 3 + 15) % 30) - c % 4) % 7
            as l
    from easter
),

easter_sunday as (
    select
        y,
        make_date(
            y,
            (h + l - 7 * ((a + 11 * h + 22 * l) // 451) + 114) // 31,
            (h + l - 7 * ((a + 11 * h + 22 * l) // 451) + 114) % 31 + 1
        ) as sunday
    from easter2
),

holiday_list as (
    select make_date(y, 1, 1) as day, 'Neujahr' as holiday from years
    union all select sunday - 2, 'Karfreitag' from easter_sunday
    union all select sunday + 1, 'Ostermontag' from easter_sunday
    union all select make_date(y, 5, 1), 'Tag der Arbeit' from years
    union all select sunday + 39, 'Christi Himmelfahrt' from easter_sunday
    union all select sunday + 50, 'Pfingstmontag' from easter_sunday
    union all select make_date(y, 10, 3), 'Tag der Deutschen Einheit' from years
    union all select make_date(y, 12, 25), '1. Weihnachtstag' from years
    union all select make_date(y, 12, 26), '2. Weihnachtstag' from years
),

holidays as (
    -- two can fall on one day (Christi Himmelfahrt on 1 May in 2008)
    select day, string_agg(holiday, ' / ' order by holiday) as holiday from holiday_list group by day
),

days as (
    select
        d::date as day,
        h.holiday,
        isodow(d::date) < 6 and h.holiday is null as is_workday
    from range(date '2000-01-01', date '2101-12-31', interval 1 day) as t (d)
    left join holidays as h on h.day = d::date
)

select
    day,
    holiday,
    is_workday,
    coalesce(
        case when is_workday then day end,
        min(case when is_workday then day end) over (order by day rows between current row and 7 following)
    ) as next_workday
from days
where day <= date '2100-12-31'
