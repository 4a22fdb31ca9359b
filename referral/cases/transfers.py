"""Transfers of a record between structures of a territory: the receiving structure's CIP asks
(the person continues in another SIAE and consented), the current one hands the record over or
not. The history stays with the record."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from referral import clock
from referral.cases.models import (
    CaseTransfer,
    Consent,
    ConsentRecipient,
    DataCategory,
    Participant,
    TransferState,
)
from referral.cases.services import find_followed_elsewhere, require_cip
from referral.db import utcnow
from referral.exceptions import Conflict, InvalidInput, NotFound
from referral.tasks import services as tasks
from referral.territories.models import User

# The one answer to a transfer request, whether or not someone matched (no existence oracle).
TRANSFER_REQUESTED = (
    "Demande enregistrée : si une autre structure du territoire suit cette personne, elle la "
    "recevra et vous serez prévenu·e de sa décision."
)


def request_transfer(
    session: Session,
    actor: User,
    *,
    first_name: str,
    last_name: str,
    birth_date: date,
    consent_given_on: date,
    comment: str | None = None,
) -> CaseTransfer | None:
    """The receiving structure's CIP asks to take over the record of the person they name (as
    the duplicate warning found them), followed elsewhere in the territory, with the person's
    consent.

    Nothing in what the caller sees depends on whether such a person exists (issue 14): the
    request is checked for its own sake, then matched like the duplicate warning; a match
    becomes a transfer the holding structure is told of (with the asking structure's name), no
    match and a request already pending change nothing. The return value is for the tests and
    the audit, never for the answer.
    """
    require_cip(actor)
    if consent_given_on > clock.today():
        raise InvalidInput(
            "Le consentement ne peut pas être daté dans le futur.",
            errors={"consent_given_on": ["Date future."]},
        )
    candidates = find_followed_elsewhere(
        session, actor, first_name=first_name, last_name=last_name, birth_date=birth_date
    )
    if not candidates:
        return None
    person = session.get(Participant, candidates[0].participant_id)  # the closest match
    assert person is not None  # just read by find_followed_elsewhere
    pending = session.scalar(
        select(CaseTransfer.id).where(
            CaseTransfer.participant_id == person.id, CaseTransfer.state == TransferState.REQUESTED
        )
    )
    if pending is not None:
        return None
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
    asking = actor.structure.name if actor.structure is not None else "une autre structure"
    for user_id in tasks.cips_of(session, person):
        tasks.notify(
            session,
            user_id=user_id,
            kind="transfer_requested",
            message=f"« {asking} » demande le transfert du dossier de "
            f"{person.first_name} {person.last_name}.",
            link="/salaries/#transferts",
            key=f"transfer:{transfer.id}:requested",
        )
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
    if transfer.requested_by_id is not None:
        # The asking CIP learns the decision (they saw nothing of the record until now).
        tasks.notify(
            session,
            user_id=transfer.requested_by_id,
            kind="transfer_decided",
            message="Transfert de dossier accepté : la personne figure désormais parmi vos salarié·es."
            if accept
            else "Votre demande de transfert de dossier n'a pas été acceptée par l'autre structure.",
            link="/salaries/",
            key=f"transfer:{transfer.id}:decided",
        )
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
    """Transfers the actor's structure has to answer, with the asking structure. (The asking
    side sees no pending request: that would tell it whom its request matched.)"""
    require_cip(actor)
    return list(
        session.scalars(
            select(CaseTransfer)
            .where(
                CaseTransfer.state == TransferState.REQUESTED,
                CaseTransfer.from_structure_id == actor.structure_id,
            )
            .options(joinedload(CaseTransfer.to_structure), joinedload(CaseTransfer.participant))
            .order_by(CaseTransfer.requested_at, CaseTransfer.id)
        )
    )
