"""Retention (DESIGN §8): records anonymised once their time is over, the body of the nightly
`retention` job of `referral.scheduling`.

A record holds parts other rooms know: the referrals about the person (their texts, their moves,
whether one is under way, when they last changed) and the office hours booked for them. `cases`
sits below those packages, so they register a `RetentionPart` each (`register_retention_part`,
called by their `record_sources.install()`; see `referral.cases.providers` for who installs them
and why); the job refuses to run with one missing rather than leave a record half anonymised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from referral import clock
from referral.audit import services as audit
from referral.audit.models import AuditAction
from referral.cases import rules
from referral.cases.models import (
    CaseNote,
    CaseTransfer,
    Contract,
    Exit,
    ExternalReferent,
    FollowUp,
    HealthRecord,
    Need,
    Participant,
    RenewalDecision,
)
from referral.cases.providers import Providers
from referral.tasks.models import Notification, Task

log = logging.getLogger(__name__)


def _nothing_written(participant_ids: Select[Any]) -> list[Select[Any, Any]]:
    return []


def _nothing_under_way(participant_ids: Select[Any]) -> None:
    return None


@dataclass(frozen=True)
class RetentionPart:
    """What another room holds about people, as the retention job needs it."""

    # Blanks or deletes what identifies the person (given their id) in the room's rows, and
    # returns the pages of the room about them, which notifications may link to.
    anonymise: Callable[[Session, int], Iterable[str]]
    # Statements of (participant id, moment something was written) for the people whose ids
    # the given statement selects, grouped by person.
    last_written: Callable[[Select[Any]], Iterable[Select[Any, Any]]] = _nothing_written
    # A statement of the ids of those people with something still under way (they are kept).
    under_way: Callable[[Select[Any]], Select[Any] | None] = _nothing_under_way


RETENTION_PARTS: Providers[RetentionPart] = Providers("The retention job", ["referrals", "office_hours"])


def register_retention_part(name: str, part: RetentionPart) -> None:
    RETENTION_PARTS.register(name, part)


# What an anonymised person is called wherever a page still shows the record (their number only).
ANONYMOUS_FIRST_NAME = "Personne"
# Where the database requires a text (a renewal's motivation, a CDI's employer), it reads this.
ANONYMISED_TEXT = "(anonymisé)"


def last_activities(session: Session, participant_ids: Select[Any]) -> dict[int, date]:
    """For each of these people, the last day something was written on their record or their
    referrals (a few grouped queries, whatever their number)."""
    sources = (
        select(Participant.id, Participant.updated_at).where(Participant.id.in_(participant_ids)),
        select(CaseNote.participant_id, func.max(CaseNote.written_at))
        .where(CaseNote.participant_id.in_(participant_ids))
        .group_by(CaseNote.participant_id),
        select(FollowUp.participant_id, func.max(FollowUp.done_on))
        .where(FollowUp.participant_id.in_(participant_ids))
        .group_by(FollowUp.participant_id),
        *(
            statement
            for _name, part in RETENTION_PARTS.all()
            for statement in part.last_written(participant_ids)
        ),
    )
    latest: dict[int, date] = {}
    for statement in sources:
        for participant_id, moment in session.execute(statement):
            if moment is None:
                continue
            day = moment.date() if isinstance(moment, datetime) else moment
            if participant_id not in latest or day > latest[participant_id]:
                latest[participant_id] = day
    return latest


def anonymise_participant(session: Session, person: Participant, now: datetime) -> None:
    """Keep what the programme's figures need (dates, codes, needs, referral outcomes) and remove
    what identifies the person or tells their story: names, exact birth date, free texts (office
    hours' topics and notes included), health details, external referents, notes, what was shared
    with partners, and the tasks and notifications that named them. Logged as « Anonymisation »."""
    parts = RETENTION_PARTS.all()  # all of them, or nothing is changed
    pid = person.id
    person.first_name = ANONYMOUS_FIRST_NAME
    person.last_name = f"anonymisée n° {pid}"
    person.birth_date = date(person.birth_date.year, 1, 1)
    person.residence_permit_expires_on = None
    person.monthly_resources = None
    person.referent_id = None
    person.anonymised_at = now
    session.flush()
    texts: list[tuple[Any, Any, dict[str, Any]]] = [
        (
            Contract,
            (Contract.participant_id == pid) & Contract.employer_name.is_not(None),
            {"employer_name": ANONYMISED_TEXT},
        ),
        (Need, Need.participant_id == pid, {"comment": None}),
        (
            RenewalDecision,
            RenewalDecision.participant_id == pid,
            {
                "motivation": ANONYMISED_TEXT,
                "accompaniment_evaluation": None,
                "mobilisation_evaluation": None,
                "decided_by": None,
            },
        ),
        (Exit, Exit.participant_id == pid, {"detail": None}),
        (FollowUp, FollowUp.participant_id == pid, {"comment": None}),
        (CaseTransfer, CaseTransfer.participant_id == pid, {"comment": None}),
    ]
    for model, where, values in texts:
        session.execute(
            update(model).where(where).values(**values), execution_options={"synchronize_session": False}
        )
    # What the other rooms hold (referrals, office hours), and the pages of theirs that name the person.
    pages = [page for _name, part in parts for page in part.anonymise(session, pid)]
    for model, where in (
        (ExternalReferent, ExternalReferent.participant_id == pid),
        (CaseNote, CaseNote.participant_id == pid),
        (HealthRecord, HealthRecord.participant_id == pid),
    ):
        session.execute(delete(model).where(where), execution_options={"synchronize_session": False})
    # Tasks and notifications name the person in their titles. Every task about a record carries
    # its person; a notification is known by the page of the record or referral it links to.
    session.execute(
        delete(Task).where(Task.participant_id == pid), execution_options={"synchronize_session": False}
    )
    session.execute(
        delete(Notification).where(
            or_(
                Notification.link == f"/salaries/{pid}",
                Notification.link.startswith(f"/salaries/{pid}#"),
                Notification.link.in_(pages),
            )
        ),
        execution_options={"synchronize_session": False},
    )
    audit.record(session, AuditAction.ANONYMISE, entity="participants", entity_id=pid, participant_id=pid)
    # The bulk statements above went around the session: what it holds of this record is stale.
    session.expire_all()


def anonymise_past_retention(session: Session, now: datetime) -> int:
    """Anonymise every record whose retention period is over (`rules.retention_ends_on`): the
    person left, nothing was written on the record since, and no referral is under way. One
    savepoint per person: a record that cannot be anonymised is logged and left for the next run."""
    today = clock.paris_day(now)
    earliest_exit = rules.add_months(today, -12 * rules.RETENTION_YEARS)
    gone = (Participant.anonymised_at.is_(None)) & (Exit.exited_on <= earliest_exit)
    candidate_ids = select(Participant.id).join(Exit, Exit.participant_id == Participant.id).where(gone)
    candidates = session.execute(
        select(Participant.id, Exit.exited_on)
        .join(Exit, Exit.participant_id == Participant.id)
        .where(gone)
        .order_by(Participant.id)
    ).all()
    under_way: set[int] = set()
    for _name, part in RETENTION_PARTS.all():
        statement = part.under_way(candidate_ids)
        if statement is not None:
            under_way.update(session.scalars(statement))
    latest = last_activities(session, candidate_ids)
    done = 0
    for participant_id, exited_on in candidates:
        if participant_id in under_way:
            continue
        if rules.retention_ends_on(exited_on, latest.get(participant_id)) > today:
            continue
        try:
            with session.begin_nested():
                person = session.get(Participant, participant_id)
                assert person is not None
                anonymise_participant(session, person, now)
        except SQLAlchemyError:
            log.exception("Record %s could not be anonymised; left for the next run", participant_id)
            continue
        done += 1
    return done
