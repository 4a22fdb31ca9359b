"""One scheduler at a time: a lease row in the database, taken with a conditional UPDATE.

Works the same on SQLite and PostgreSQL: the UPDATE succeeds only if the lease is free, already
ours, or stale (not renewed for `LEASE_SECONDS`: its holder died). A second scheduler started by
mistake finds the lease held and does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referral.db import Database, rowcount, utcnow
from referral.scheduling.models import SchedulerLease

LEASE_NAME = "scheduler"
LEASE_SECONDS = 120
# A running scheduler renews its lease every LEASE_SECONDS / 3 (40 s). Not renewed for
# LEASE_SECONDS (two renewals missed) is when another scheduler may take it over: the same
# delay tells the readiness probe that no scheduler is running.
RECENT = timedelta(seconds=LEASE_SECONDS)


def acquire(database: Database, holder: str, now: datetime | None = None, name: str = LEASE_NAME) -> bool:
    """Take or renew the lease; tell whether `holder` holds it now."""
    now = now or utcnow()
    stale = now - timedelta(seconds=LEASE_SECONDS)
    with database.atomic() as session:
        result = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == name,
                or_(SchedulerLease.holder == holder, SchedulerLease.renewed_at < stale),
            )
            .values(holder=holder, renewed_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            return True
        if session.scalar(select(SchedulerLease.name).where(SchedulerLease.name == name)) is not None:
            return False
    try:
        with database.atomic() as session:
            session.add(SchedulerLease(name=name, holder=holder, acquired_at=now, renewed_at=now))
        return True
    except IntegrityError:  # another process created it first
        return False


def release(database: Database, holder: str, name: str = LEASE_NAME) -> None:
    with database.atomic() as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
            .values(renewed_at=datetime(2000, 1, 1).astimezone())
            .execution_options(synchronize_session=False)
        )


def last_renewal(session: Session, name: str = LEASE_NAME) -> datetime | None:
    """When the lease was last taken or renewed (None if no scheduler ever ran here)."""
    return session.scalar(select(SchedulerLease.renewed_at).where(SchedulerLease.name == name))
