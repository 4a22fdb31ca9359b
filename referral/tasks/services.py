"""Creating and closing tasks, notifying, and who is concerned.

Every task and reminder carries a key naming what it is about, unique per user, so that a job
running twice for the same day changes nothing more. The domain services close tasks when the
thing is done (`close_tasks`), and send notifications for events (`notify`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.tasks import mail
from referral.tasks.models import Notification, Task, TaskKind, TaskStatus
from referral.territories.models import Role, User, cp_domains


class Followed(Protocol):
    """A person followed by a structure (a `Participant`), as far as tasks need to know."""

    @property
    def id(self) -> int: ...

    @property
    def structure_id(self) -> int: ...

    @property
    def referent_id(self) -> int | None: ...


def ensure_task(
    session: Session,
    *,
    user_id: int,
    key: str,
    kind: TaskKind,
    title: str,
    due_on: date,
    link: str | None = None,
    participant_id: int | None = None,
) -> bool:
    """Create the task unless this user already has one with this key; tell whether it was new."""
    existing = session.scalar(select(Task.id).where(Task.user_id == user_id, Task.key == key))
    if existing is not None:
        return False
    session.add(
        Task(
            user_id=user_id,
            key=key,
            kind=kind,
            title=title,
            due_on=due_on,
            link=link,
            participant_id=participant_id,
        )
    )
    session.flush()
    return True


def close_tasks(
    session: Session, key: str, *, status: TaskStatus = TaskStatus.DONE, prefix: bool = False
) -> int:
    """Close every open task about `key` (the thing is done, or no longer needed); with
    `prefix`, every task whose key starts with it (``renewal:42:``)."""
    about = Task.key.startswith(key, autoescape=True) if prefix else Task.key == key
    tasks = session.scalars(select(Task).where(about, Task.status == TaskStatus.OPEN)).all()
    for task in tasks:
        task.status = status
        task.closed_at = utcnow()
    session.flush()
    return len(tasks)


def notify(
    session: Session,
    *,
    user_id: int,
    kind: str,
    message: str,
    link: str | None = None,
    key: str | None = None,
) -> bool:
    """An in-app notification (once per key when a key is given). E-mail, when configured, is
    sent after the commit by `referral.tasks.mail`."""
    if (
        key is not None
        and session.scalar(
            select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)
        )
        is not None
    ):
        return False
    session.add(Notification(user_id=user_id, kind=kind, message=message, link=link, key=key))
    session.flush()
    mail.queue(session, user_id=user_id, subject=message, link=link)
    return True


def mark_read(session: Session, user: User, notification_ids: Iterable[int]) -> int:
    rows = session.scalars(
        select(Notification).where(
            Notification.user_id == user.id,
            Notification.id.in_(list(notification_ids)),
            Notification.read_at.is_(None),
        )
    ).all()
    for row in rows:
        row.read_at = utcnow()
    session.flush()
    return len(rows)


# --- Who is concerned ----------------------------------------------------------------------


def cips_of(session: Session, person: Followed) -> list[int]:
    """The person's referent, or every CIP of their structure when none is named."""
    if person.referent_id is not None:
        return [person.referent_id]
    return list(
        session.scalars(
            select(User.id)
            .where(User.structure_id == person.structure_id, User.role == Role.CIP, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def task_for_cips(
    session: Session, person: Followed, *, key: str, kind: TaskKind, title: str, due_on: date, link: str
) -> int:
    """The same task for each CIP following `person`; how many were new."""
    return sum(
        ensure_task(
            session,
            user_id=user_id,
            key=key,
            kind=kind,
            title=title,
            due_on=due_on,
            link=link,
            participant_id=person.id,
        )
        for user_id in cips_of(session, person)
    )


def cps_for(session: Session, territory_ids: Iterable[int], domain: str | None) -> list[int]:
    """The CPs of these territories who cover `domain` (all of them when no domain)."""
    query = select(User.id).where(
        User.role == Role.CP, User.is_active.is_(True), User.territory_id.in_(list(territory_ids))
    )
    if domain is not None:
        query = query.where(
            User.id.in_(select(cp_domains.c.user_id).where(cp_domains.c.domain_code == domain))
        )
    return list(session.scalars(query.order_by(User.id)))
