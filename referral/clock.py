"""The one clock: now in UTC for what is stored, today and now in Paris for what people see.

The service runs on servers set to UTC, but its users count days in France: a consent signed at
00:30 in Lyon is signed *today*, not yesterday. This module is the only place that names the time
zone; services, jobs and templates ask it rather than ``date.today()`` (the server's day) or
``datetime.now()`` (the server's zone). Tests move time with ``time_machine``, which these
functions follow because they read the system clock on every call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    """This instant, timezone-aware in UTC: what timestamps store."""
    return datetime.now(UTC)


def paris_now() -> datetime:
    """This instant on the wall clocks of France."""
    return datetime.now(PARIS)


def today() -> date:
    """Today as people in France count days (« aujourd'hui »), whatever the server's zone."""
    return paris_now().date()


def in_paris(moment: datetime) -> datetime:
    """A stored instant as read in France; a naive value is taken as UTC (how SQLite keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def paris_day(moment: datetime) -> date:
    """The French calendar day an instant falls on."""
    return in_paris(moment).date()
