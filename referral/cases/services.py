"""Case-record actions. Each takes the acting user, applies the rules of DESIGN §4 and §8,
flushes, and returns domain objects; none commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.access import participant_filter
from referral.audit.services import record_read
from referral.cases.exceptions import ParticipantNotFound, RecordsNotVisible
from referral.cases.models import Participant
from referral.territories.models import Role, User


def list_participants(session: Session, actor: User) -> list[Participant]:
    """« Mes salarié·es »: the people the actor's structure accompanies, by name."""
    if actor.role is not Role.CIP:
        raise RecordsNotVisible()
    people = list(
        session.scalars(
            select(Participant)
            .where(participant_filter(actor), Participant.anonymised_at.is_(None))
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )
    record_read(
        session, entity="participants", entity_id=None, participant_id=None, what=f"liste ({len(people)})"
    )
    return people


def get_participant(session: Session, actor: User, participant_id: int) -> Participant:
    """One record, if the actor may open it; otherwise the same answer as a missing one."""
    person = session.scalar(
        select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    )
    if person is None:
        raise ParticipantNotFound()
    record_read(session, entity="participants", entity_id=person.id, participant_id=person.id, what="dossier")
    return person
