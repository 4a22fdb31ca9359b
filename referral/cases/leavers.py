"""Someone leaves: their account is closed and what they were following goes to a colleague.

Composed here, above `territories` (the account) and `tasks` (the to-do list), beside the records
(`Participant.referent_id`): the person chosen in the same form takes the open tasks and becomes
the referent of the records the leaver followed. Without a colleague to take them, the records
lose their named referent — every CIP of the structure then receives their reminders
(`tasks.services.cips_of`) — and the leaver's open tasks are closed as « sans objet ».
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.models import Participant
from referral.db import utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.tasks.models import Task, TaskStatus
from referral.territories import accounts
from referral.territories.models import User


@dataclass(frozen=True)
class Handover:
    records: int
    tasks: int
    tasks_closed: int
    to_user_id: int | None


def colleagues(session: Session, user: User) -> list[User]:
    """Who may take a leaver's work: the other open accounts with the same role and scope."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.id != user.id,
                User.is_active.is_(True),
                User.role == user.role,
                User.structure_id.is_(None)
                if user.structure_id is None
                else User.structure_id == user.structure_id,
                User.territory_id.is_(None)
                if user.territory_id is None
                else User.territory_id == user.territory_id,
            )
            .order_by(User.full_name, User.id)
        )
    )


def work_of(session: Session, user: User) -> tuple[list[Participant], list[Task]]:
    """The records `user` follows and their open tasks."""
    records = session.scalars(
        select(Participant)
        .where(Participant.referent_id == user.id, Participant.anonymised_at.is_(None))
        .order_by(Participant.id)
    ).all()
    tasks = session.scalars(
        select(Task).where(Task.user_id == user.id, Task.status == TaskStatus.OPEN).order_by(Task.id)
    ).all()
    return list(records), list(tasks)


def close_leaver_account(session: Session, actor: User, user: User, *, hand_to_id: int | None) -> Handover:
    """Close `user`'s account, handing their records and open tasks to `hand_to_id` (a colleague:
    same role, same structure or territory); required when there is work and a colleague."""
    if refusal := accounts.refusal_to_manage(actor, user):
        raise PermissionDenied(refusal)
    candidates = {colleague.id: colleague for colleague in colleagues(session, user)}
    records, tasks = work_of(session, user)
    if hand_to_id is None and (records or tasks) and candidates:
        raise InvalidInput(
            "Choisissez la personne qui reprend les dossiers et les tâches de ce compte.",
            errors={"hand_to": ["Champ obligatoire : des dossiers ou des tâches sont à reprendre."]},
        )
    if hand_to_id is not None and hand_to_id not in candidates:
        raise InvalidInput(
            "La personne qui reprend doit être un·e collègue actif·ve du même rôle, de la même structure "
            "ou du même territoire.",
            errors={"hand_to": ["Choix invalide."]},
        )
    for record in records:
        record.referent_id = hand_to_id
    handed = closed = 0
    now = utcnow()
    recipient_keys: set[str] = set()
    if hand_to_id is not None:
        recipient_keys = set(
            session.scalars(
                select(Task.key).where(Task.user_id == hand_to_id, Task.key.in_([t.key for t in tasks]))
            )
        )
    for task in tasks:
        if hand_to_id is None or task.key in recipient_keys:
            # Nobody to take it, or the colleague already has the same task (one per key and user).
            task.status = TaskStatus.CANCELLED
            task.closed_at = now
            closed += 1
        else:
            task.user_id = hand_to_id
            handed += 1
    session.flush()
    accounts.deactivate(session, actor, user)
    return Handover(records=len(records), tasks=handed, tasks_closed=closed, to_user_id=hand_to_id)
