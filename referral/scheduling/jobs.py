"""The scheduled jobs as data: each is one service call inside `Database.atomic()`, for a day or
a moment given explicitly, idempotent, and logging what it did.

`referral scheduler` runs them with APScheduler (job store in the database); every run first
checks that this process holds the scheduler lease, so two schedulers never both run a job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from referral import clock
from referral.cases import retention
from referral.db import Database, utcnow
from referral.ecosystem import services as network
from referral.scheduling import accounts, lease, services

log = logging.getLogger("referral.scheduling")


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[Session, datetime], Any]
    trigger: dict[str, Any]  # APScheduler cron fields


JOBS: list[Job] = [
    Job(
        "follow_ups",
        "Suivis post-sortie à 6 et 12 mois",
        lambda session, now: services.follow_ups_due(session, clock.paris_day(now)),
        {"hour": 6, "minute": 0},
    ),
    Job(
        "renewals",
        "Décisions de renouvellement et limite des cinq ans",
        lambda session, now: services.renewals_due(session, clock.paris_day(now)),
        {"hour": 6, "minute": 5},
    ),
    Job(
        "referrals",
        "Relances des orientations en attente et expiration",
        lambda session, now: services.referral_reminders(session, now),
        {"minute": 15},
    ),
    Job(
        "endings",
        "Opportunités et conventions qui arrivent à échéance",
        lambda session, now: services.endings(session, clock.paris_day(now)),
        {"hour": 6, "minute": 10},
    ),
    Job(
        "consents",
        "Consentements qui arrivent à échéance",
        lambda session, now: services.consents_ending(session, clock.paris_day(now)),
        {"hour": 6, "minute": 20},
    ),
    Job(
        "digest",
        "Lettre hebdomadaire avant la réunion de mutualisation",
        lambda session, now: services.weekly_digest(session, clock.paris_day(now)),
        {"day_of_week": "mon", "hour": 7},
    ),
    Job(
        "retention",
        "Anonymisation des dossiers dont la durée de conservation est passée",
        lambda session, now: retention.anonymise_past_retention(session, now),
        {"hour": 3, "minute": 0},
    ),
    Job(
        "network",
        "Chiffres nationaux de l'écosystème (tous les territoires, matrice des partenariats nationaux)",
        lambda session, now: network.precompute_national_figures(session, now),
        {"hour": 2, "minute": 30},
    ),
    Job(
        "unused_accounts",
        "Comptes inutilisés depuis six mois, signalés à la coordination (une fois par mois)",
        lambda session, now: accounts.report_unused_accounts(session, now),
        {"day_of_week": "mon", "hour": 7, "minute": 30},
    ),
]
JOBS_BY_NAME = {job.name: job for job in JOBS}


def run_job(database: Database, name: str, *, holder: str, now: datetime | None = None) -> Any:
    """Run one job if this process holds the scheduler lease; return what it did (or None)."""
    if not lease.acquire(database, holder, now=None):
        log.warning("Job %s skipped: another scheduler holds the lease", name)
        return None
    job = JOBS_BY_NAME[name]
    now = now or utcnow()
    with database.atomic() as session:
        result = job.run(session, now)
    log.info("Job %s (%s) for %s: %s", name, job.description, now.isoformat(timespec="minutes"), result)
    return result


def run_all(database: Database, *, holder: str, today: date | None = None) -> dict[str, Any]:
    now = utcnow() if today is None else datetime.combine(today, clock.paris_now().time(), clock.PARIS)
    return {job.name: run_job(database, job.name, holder=holder, now=now) for job in JOBS}


def _run_scheduled(name: str) -> None:
    """APScheduler's entry point (a module-level function, so the job store can name it)."""
    from referral.scheduling.runtime import current

    database, holder = current()
    run_job(database, name, holder=holder)
