"""Transfers of a record between structures of a territory: the receiving structure's CIP asks
(the person continues in another SIAE and consented), the current one hands the record over or
not. The history stays with the record."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.exceptions import TransferNotAllowed
from referral.cases.models import (
    CaseTransfer,
    Consent,
    ConsentRecipient,
    DataCategory,
    Participant,
    TransferState,
)
from referral.cases.services import require_cip
from referral.db import utcnow
from referral.exceptions import Conflict, InvalidInput, NotFound
from referral.territories.models import Structure, User


def request_transfer(
    session: Session, actor: User, participant_id: int, *, consent_given_on: date, comment: str | None = None
) -> CaseTransfer:
    """The receiving structure's CIP asks to take over a record followed elsewhere in the
    territory (the person continues in another SIAE and consented)."""
    require_cip(actor)
    person = session.scalar(
        select(Participant)
        .join(Participant.structure)
        .where(
            Participant.id == participant_id,
            Structure.territory_id == actor.scope_territory_id,
            Participant.anonymised_at.is_(None),
        )
    )
    if person is None or person.structure_id == actor.structure_id:
        raise TransferNotAllowed("Aucun dossier d'une autre structure du territoire ne correspond.")
    if consent_given_on > date.today():
        raise InvalidInput(
            "Le consentement ne peut pas être daté dans le futur.",
            errors={"consent_given_on": ["Date future."]},
        )
    pending = session.scalar(
        select(CaseTransfer).where(
            CaseTransfer.participant_id == person.id, CaseTransfer.state == TransferState.REQUESTED
        )
    )
    if pending is not None:
        raise Conflict("Un transfert de ce dossier est déjà en attente.")
    transfer = CaseTransfer(
        participant_id=person.id,
        from_structure_id=person.structure_id,
        to_structure_id=actor.structure_id,
        consent_given_on=consent_given_on,
        requested_by_id=actor.id,
        comment=comment,
    )
    session.add(transfer)
    session.flush()
    return transfer


def decide_transfer(session: Session, actor: User, transfer_id: int, *, accept: bool) -> CaseTransfer:
    """The current structure's CIP hands the record over (or not). History stays with the record:
    notes, contracts, needs and referrals move with it."""
    require_cip(actor)
    transfer = session.get(CaseTransfer, transfer_id)
    if transfer is None or transfer.from_structure_id != actor.structure_id:
        raise NotFound("Ce transfert n'existe pas ou ne concerne pas votre structure.")
    if transfer.state is not TransferState.REQUESTED:
        raise Conflict("Ce transfert a déjà été traité.")
    transfer.state = TransferState.ACCEPTED if accept else TransferState.REFUSED
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    if accept:
        person = session.get(Participant, transfer.participant_id)
        assert person is not None
        person.structure_id = transfer.to_structure_id
        person.referent_id = transfer.requested_by_id
        session.add(
            Consent(
                participant_id=person.id,
                recipient=ConsentRecipient.CP,
                data_category=DataCategory.SITUATION,
                given_on=transfer.consent_given_on,
                recorded_by_id=transfer.requested_by_id,
            )
        )
    session.flush()
    return transfer


def pending_transfers(session: Session, actor: User) -> list[CaseTransfer]:
    """Transfers the actor's structure has to answer or is waiting for."""
    require_cip(actor)
    return list(
        session.scalars(
            select(CaseTransfer)
            .where(
                CaseTransfer.state == TransferState.REQUESTED,
                (CaseTransfer.from_structure_id == actor.structure_id)
                | (CaseTransfer.to_structure_id == actor.structure_id),
            )
            .order_by(CaseTransfer.requested_at, CaseTransfer.id)
        )
    )
