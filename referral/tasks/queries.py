"""A user's lists: « À faire » (overdue, due, done lately) and their notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.db import utcnow
from referral.paging import Page, PageRequest, page_of
from referral.tasks.models import Notification, Task, TaskStatus
from referral.territories.models import User


@dataclass
class TaskList:
    """« À faire »: what is overdue, what is due, and what was done lately."""

    overdue: list[Task] = field(default_factory=list)
    due: list[Task] = field(default_factory=list)
    done: list[Task] = field(default_factory=list)


def tasks_of(session: Session, user: User, today: date | None = None, done_days: int = 30) -> TaskList:
    today = today or clock.today()
    rows = session.scalars(select(Task).where(Task.user_id == user.id).order_by(Task.due_on, Task.id)).all()
    listing = TaskList()
    since = utcnow() - timedelta(days=done_days)
    for task in rows:
        if task.status is TaskStatus.OPEN:
            (listing.overdue if task.due_on < today else listing.due).append(task)
        elif task.status is TaskStatus.DONE and task.closed_at and task.closed_at >= since:
            listing.done.append(task)
    return listing


def notifications_of(session: Session, user: User, *, unread_only: bool = False) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(
        session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(50))
    )


def notification_page(session: Session, user: User, request: PageRequest) -> Page[Notification]:
    """One page of `user`'s notifications, the latest first (the API's list)."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return page_of(session, query, request)
