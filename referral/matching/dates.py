"""Calendar arithmetic the criteria rely on: whole months in the programme, age in years.

One definition serves both directions, so that the engine never contradicts itself: the number
of whole months between `start` and `today` is the largest `m` with ``add_months(start, m) <=
today``, and the day someone reaches `m` months is exactly ``add_months(start, m)``. A day that
does not exist in the target month is clamped to its last day (31 January + 1 month = 28 or 29
February), as French administrations count it.

Pure module: no Flask, no session, and never ``date.today()`` — the caller passes the day.
"""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """`start` moved by `months` calendar months, the day clamped to the target month's length."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def add_years(start: date, years: int) -> date:
    """`start` moved by whole years (29 February becomes 28 February in a common year)."""
    return add_months(start, 12 * years)


def month_length(year: int, month: int) -> int:
    return _MONTH_LENGTHS.get((year, month)) or _MONTH_LENGTHS.setdefault(
        (year, month), calendar.monthrange(year, month)[1]
    )


_MONTH_LENGTHS: dict[tuple[int, int], int] = {}


def whole_months(start: date, today: date) -> int:
    """Whole months elapsed from `start` to `today` (« ancienneté en mois »); 0 before `start`."""
    months = (today.year - start.year) * 12 + (today.month - start.month)
    if months <= 0:
        return 0
    # add_months(start, months) falls in today's month, on min(start.day, that month's length).
    if start.day > today.day and min(start.day, month_length(today.year, today.month)) > today.day:
        months -= 1
    return months


def whole_years(birth: date, today: date) -> int:
    """Age in whole years on `today` (« âge révolu »)."""
    return whole_months(birth, today) // 12
