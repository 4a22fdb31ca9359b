"""The running scheduler process: APScheduler with its job store in the database."""

from __future__ import annotations

import logging
import os
import socket

from referral import clock
from referral.db import Database
from referral.scheduling import lease
from referral.scheduling.jobs import JOBS

log = logging.getLogger("referral.scheduling")
_state: dict[str, object] = {}


def current() -> tuple[Database, str]:
    return _state["database"], _state["holder"]  # type: ignore[return-value]


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def serve(database: Database, holder: str | None = None) -> bool:
    """Run the scheduler until interrupted; return False at once if another one holds the lease."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = holder or holder_name()
    if not lease.acquire(database, holder):
        return False
    _state.update(database=database, holder=holder)
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=database.engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=clock.PARIS,
    )
    for job in JOBS:
        scheduler.add_job(
            "referral.scheduling.jobs:_run_scheduled",
            "cron",
            args=[job.name],
            id=job.name,
            name=job.description,
            replace_existing=True,
            **job.trigger,
        )
    # The lease is renewed well within its expiry, so a live scheduler is never taken over.
    scheduler.add_job(
        "referral.scheduling.runtime:_renew",
        "interval",
        seconds=lease.LEASE_SECONDS // 3,
        id="lease",
        replace_existing=True,
    )
    try:
        scheduler.start()
    finally:
        lease.release(database, holder)
    return True


def _renew() -> None:
    database, holder = current()
    if not lease.acquire(database, holder):
        log.error("Scheduler lease lost to another process: stopping this one")
        os._exit(1)
