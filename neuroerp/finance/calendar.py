"""TARGET business days: the days a SEPA credit transfer is executed.

TARGET2 (T2) is closed on Saturdays, Sundays, 1 January, Good Friday, Easter Monday, 1 May,
25 and 26 December (ECB, "TARGET2 closing days"); a payment ordered for such a day is executed
on the next business day, so a plan only pays on business days.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

ONE_DAY = dt.timedelta(days=1)


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


@cache
def target_holidays(year: int) -> frozenset[dt.date]:
    easter = easter_sunday(year)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter - 2 * ONE_DAY,  # Good Friday
            easter + ONE_DAY,  # Easter Monday
            dt.date(year, 5, 1),
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
        }
    )


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in target_holidays(day.year)


def business_day_on_or_before(day: dt.date) -> dt.date:
    while not is_business_day(day):
        day -= ONE_DAY
    return day


def business_day_on_or_after(day: dt.date) -> dt.date:
    while not is_business_day(day):
        day += ONE_DAY
    return day
