"""The to-do list and the notifications: what the service reminds people of (« À faire »), and
the in-app messages about events that concern them. Any domain creates and closes them; the
scheduled jobs fill them too."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral.db import Base, LabelledEnum, enum_type, utcnow


class TaskKind(LabelledEnum):
    FOLLOW_UP = ("follow_up", "Suivi post-sortie")
    RENEWAL = ("renewal", "Renouvellement de parcours")
    PATH_LIMIT = ("path_limit", "Fin des cinq ans de parcours")
    REFERRAL_WAITING = ("referral_waiting", "Orientation en attente")
    OPPORTUNITY_ENDING = ("opportunity_ending", "Opportunité bientôt terminée")
    CONVENTION_ENDING = ("convention_ending", "Convention bientôt échue")
    CONSENT_ENDING = ("consent_ending", "Consentement à renouveler")


class TaskStatus(LabelledEnum):
    OPEN = ("open", "À faire")
    DONE = ("done", "Fait")
    CANCELLED = ("cancelled", "Sans objet")


class Task(Base):
    """One thing a user has to do by a date, created and closed by the jobs and the services.

    `key` names what the task is about (``follow_up:42``): a job running twice finds the task it
    created and adds nothing (idempotence), and the service that does the thing closes it.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_at_iff_closed"),
        Index("ix_tasks_user_id_status_due_on", "user_id", "status", "due_on"),
        Index("uq_tasks_user_id_key", "user_id", "key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind, "task_kind"))
    title: Mapped[str] = mapped_column(String(255))
    link: Mapped[str | None] = mapped_column(String(255))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, "task_status"), default=TaskStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Notification(Base):
    """An in-app message about an event that concerns a user (referral validated, answered…)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("uq_notifications_user_id_key", "user_id", "key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Unique per user when given: a reminder sent by a job that runs twice is sent once.
    key: Mapped[str | None] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
