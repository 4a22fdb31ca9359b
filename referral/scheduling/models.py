"""The lease that keeps a single scheduler running (the tasks and notifications the jobs fill
live in `referral.tasks`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db import Base, utcnow


class SchedulerLease(Base):
    """The right to run the scheduled jobs, held by one process at a time (a database lock that
    works the same on SQLite and PostgreSQL). The holder renews it; a lease not renewed for
    `LEASE_SECONDS` may be taken over (the process died)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    runs: Mapped[int] = mapped_column(Integer, default=0)
