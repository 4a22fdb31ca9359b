"""A lived-in demo territory (`referral seed`): referrals in every state with their moves, a past
mutualisation meeting with its minutes and the next one with its agenda, office hours booked and
free, a workshop — so a new CP, CIP or coordinator finds something in every queue.

Everything is dated relative to today, through the same services the pages use (the moves write
their transitions, notifications and tasks). Each piece is looked for first and only made when
missing, so a second run the same day changes nothing: no row, no version, no audit entry. On a
later day only what went stale is added (a next meeting when the last one has passed, free
office hours when none is left), so the demo never shows an empty future.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, Participant
from referral.partners import meetings, office_hours, workshops
from referral.partners.models import NetworkMeeting, OfficeHour, Opportunity, OpportunityStatus, Workshop
from referral.referrals import services
from referral.referrals.models import Referral, ReferralState
from referral.territories.models import Role, Structure, Territory, User

DEMO_STRUCTURE = "fndsa-lyon"
COMMENT = "Orientation de démonstration."
PLACE = "Permanence de Lyon 7e"
OLDEST_MOVE_DAYS = 122  # the closed referral, accepted two days before its first move


@dataclass(frozen=True)
class Move:
    action: str
    by: str  # "cip", "cp" or "system"
    days_ago: int
    reason: str | None = None
    outcome: str | None = None


SUBMIT = Move("submit", "cip", 40)
VALIDATE = Move("validate", "cp", 38)
# One demo referral per state, with the moves that lead there (oldest first).
PATHS: dict[ReferralState, tuple[Move, ...]] = {
    ReferralState.DRAFT: (),
    ReferralState.SUBMITTED: (Move("submit", "cip", 12),),  # waiting on the CP for more than 10 days
    ReferralState.NEEDS_INFO: (Move("submit", "cip", 9), Move("request_info", "cp", 7)),
    ReferralState.SENT: (Move("submit", "cip", 6), Move("validate", "cp", 4)),
    ReferralState.WAITLISTED: (SUBMIT, VALIDATE, Move("partner_waitlist", "cp", 30)),
    ReferralState.ACCEPTED: (SUBMIT, VALIDATE, Move("partner_accept", "cp", 20)),
    ReferralState.STARTED: (SUBMIT, VALIDATE, Move("partner_accept", "cp", 30), Move("start", "cip", 21)),
    ReferralState.CLOSED: (
        Move("submit", "cip", 120),
        Move("validate", "cp", 118),
        Move("partner_accept", "cp", 110),
        Move("start", "cip", 100),
        Move("close", "cip", 10, outcome="objectif_atteint"),
    ),
    ReferralState.DECLINED: (Move("submit", "cip", 50), Move("decline", "cp", 47, reason="non_eligible")),
    ReferralState.REFUSED: (SUBMIT, VALIDATE, Move("partner_refuse", "cp", 25, reason="pas_de_place")),
    ReferralState.CANCELLED: (Move("cancel", "cip", 15),),
    ReferralState.ABANDONED: (
        SUBMIT,
        VALIDATE,
        Move("partner_accept", "cp", 30),
        Move("abandon", "cip", 14, reason="plus_interesse"),
    ),
    ReferralState.EXPIRED: (Move("submit", "cip", 70), Move("expire", "system", 35)),
}


def seed_demo_activity(session: Session, territory_slug: str, today: date | None = None) -> int:
    """Make what is missing of the demo activity; return how many pieces were made."""
    today = today or clock.today()
    territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
    cip = session.scalar(
        select(User)
        .join(Structure, User.structure_id == Structure.id)
        .where(Structure.key == DEMO_STRUCTURE, User.role == Role.CIP)
        .order_by(User.id)
        .limit(1)
    )
    if territory is None or cip is None:
        return 0
    cps = list(
        session.scalars(
            select(User).where(User.territory_id == territory.id, User.role == Role.CP).order_by(User.id)
        )
    )
    coordinator = session.scalar(
        select(User)
        .where(User.territory_id == territory.id, User.role == Role.COORDINATOR)
        .order_by(User.id)
        .limit(1)
    )
    if not cps:
        return 0
    made = _referrals(session, territory, cip, cps, today)
    made += _meetings(session, territory, cps[0], coordinator, today)
    made += _office_hours(session, cip, cps[0], today)
    made += _workshop(session, territory, cps[0], today)
    made += _consent_near_expiry(session, cip, today)
    return made


def _consent_near_expiry(session: Session, cip: User, today: date) -> int:
    """A consent ending within the month in the demo CIP's structure (the consents job then
    asks to renew it)."""
    soon = session.scalar(
        select(Consent.id)
        .join(Participant, Participant.id == Consent.participant_id)
        .where(
            Participant.structure_id == cip.structure_id,
            Consent.revoked_on.is_(None),
            Consent.expires_on >= today,
            Consent.expires_on <= today + timedelta(days=30),
        )
        .limit(1)
    )
    person = session.scalar(
        select(Participant)
        .where(Participant.structure_id == cip.structure_id, ~Participant.exit.has())
        .order_by(Participant.id)
        .limit(1)
    )
    if soon is not None or person is None:
        return 0
    session.add(
        Consent(
            participant_id=person.id,
            recipient=ConsentRecipient.CP,
            data_category=DataCategory.RESOURCES,
            given_on=max(person.entered_on, today - timedelta(days=340)),
            expires_on=today + timedelta(days=25),
        )
    )
    session.flush()
    return 1


def _moment(today: date, days_ago: int, hour: int = 10) -> datetime:
    """A Paris wall-clock time `days_ago` days before today, stored in UTC."""
    return datetime.combine(today - timedelta(days=days_ago), time(hour), clock.PARIS).astimezone(UTC)


def _referrals(session: Session, territory: Territory, cip: User, cps: Sequence[User], today: date) -> int:
    if cip.structure_id is None:
        return 0
    people = list(
        session.scalars(
            select(Participant)
            .where(
                Participant.structure_id == cip.structure_id,
                Participant.anonymised_at.is_(None),
                ~Participant.exit.has(),
                # In the programme before the oldest demo move (their consent dates from entry).
                Participant.entered_on <= today - timedelta(days=OLDEST_MOVE_DAYS + 10),
            )
            .order_by(Participant.id)
            .limit(12)
        )
    )
    offers = [
        offer
        for offer in session.scalars(
            select(Opportunity)
            .where(
                Opportunity.status == OpportunityStatus.PUBLISHED,
                Opportunity.requires_cp_validation.is_(True),
            )
            .order_by(Opportunity.id)
        )
        if territory.id in offer.offered_territory_ids
    ]
    if not people or not offers:
        return 0
    # The first CP follows a referral in every state; each other CP gets one to validate and one
    # waiting on the partner, so every CP's home page has something in each queue.
    plan = [(cps[0], state) for state in PATHS]
    plan += [(cp, state) for cp in cps[1:] for state in (ReferralState.SUBMITTED, ReferralState.SENT)]
    used: set[tuple[int, int]] = set()
    made = 0
    for index, (cp, state) in enumerate(plan):
        own = [offer for offer in offers if offer.domain_code in {d.code for d in cp.domains}]
        pair = (
            next(
                (
                    (person, offer)
                    for offer in own[index % len(own) :] + own[: index % len(own)]
                    for person in people[index % len(people) :] + people[: index % len(people)]
                    if (person.id, offer.id) not in used
                ),
                None,
            )
            if own
            else None
        )
        if pair is None:
            continue
        person, offer = pair
        used.add((person.id, offer.id))
        if _has_referral(session, person, offer):
            continue
        _consents_for(session, person, offer, today)
        made += _follow(session, person, offer, cip, cp, PATHS[state], today)
        assert (
            session.scalar(
                select(Referral.state).where(
                    Referral.participant_id == person.id, Referral.opportunity_id == offer.id
                )
            )
            is state
        )
    return made


def _has_referral(session: Session, person: Participant, offer: Opportunity) -> bool:
    return (
        session.scalar(
            select(Referral.id)
            .where(Referral.participant_id == person.id, Referral.opportunity_id == offer.id)
            .limit(1)
        )
        is not None
    )


def _follow(
    session: Session,
    person: Participant,
    offer: Opportunity,
    cip: User,
    cp: User,
    moves: Sequence[Move],
    today: date,
) -> int:
    """One demo referral, accepted by the CIP a few days before its first move, then moved."""
    first = moves[0].days_ago + 2 if moves else 3
    # The need the CIP's accepted proposal would record, by the service's own rule: the CP's
    # queues then show « frein : … » on the demo too.
    referral = services.open_draft(
        session,
        cip,
        person,
        offer,
        need=services.answered_need(person, offer, None),
        comment=COMMENT,
        at=_moment(today, first),
    )
    for move in moves:
        actor = {"cip": cip, "cp": cp, "system": None}[move.by]
        services.transition(
            session,
            actor,
            referral.id,
            action=move.action,
            version=referral.version,
            reason=move.reason,
            outcome=move.outcome,
            now=_moment(today, move.days_ago),
        )
    return 1


def _consents_for(session: Session, person: Participant, offer: Opportunity, today: date) -> None:
    """The person agreed, at entry, to share what the referral needs (the submit guard checks it)."""
    wanted = {DataCategory.SITUATION} | {DataCategory(code) for code in offer.shared_categories}
    given_on = person.entered_on
    for category in sorted(wanted, key=lambda c: c.value):
        for recipient, partner_id in (
            (ConsentRecipient.CP, None),
            (ConsentRecipient.PARTNER, offer.partner_id),
        ):
            found = session.scalar(
                select(Consent.id).where(
                    Consent.participant_id == person.id,
                    Consent.recipient == recipient,
                    Consent.data_category == category,
                    Consent.revoked_on.is_(None),
                    Consent.expires_on.is_(None),
                    (Consent.partner_id == partner_id) | Consent.partner_id.is_(None),
                )
            )
            if found is None:
                session.add(
                    Consent(
                        participant_id=person.id,
                        recipient=recipient,
                        data_category=category,
                        partner_id=partner_id,
                        given_on=given_on,
                    )
                )
    session.flush()


def _meetings(session: Session, territory: Territory, cp: User, coordinator: User | None, today: date) -> int:
    made = 0
    now = clock.now()
    held = list(
        session.scalars(
            select(NetworkMeeting)
            .where(NetworkMeeting.territory_id == territory.id)
            .order_by(NetworkMeeting.held_at)
        )
    )
    if not any(_aware(meeting.held_at) < now for meeting in held):
        meeting = meetings.create_meeting(
            session,
            cp,
            territory.slug,
            {
                "title": "Réunion de mutualisation",
                "held_at": _moment(today, 28, hour=14),
                "place": "Maison de la métropole, salle 2",
            },
        )
        meetings.update_meeting(
            session,
            cp,
            meeting.id,
            {
                "minutes": "Présentation des nouvelles offres santé et logement ; point sur les orientations "
                "en attente depuis plus de dix jours ; prochain atelier « droits de santé » fixé.",
                "attendee_ids": [user.id for user in (cp, coordinator) if user is not None],
            },
        )
        made += 1
    if not any(_aware(meeting.held_at) >= now for meeting in held):
        meetings.create_meeting(
            session,
            cp,
            territory.slug,
            {
                "title": "Réunion de mutualisation",
                "held_at": _moment(today, -9, hour=14),
                "place": "Maison de la métropole, salle 2",
            },
        )
        made += 1
    return made


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _office_hours(session: Session, cip: User, cp: User, today: date) -> int:
    now = clock.now()
    upcoming = list(
        session.scalars(
            select(OfficeHour)
            .where(OfficeHour.cp_id == cp.id, OfficeHour.starts_at > now)
            .order_by(OfficeHour.starts_at)
        )
    )
    if any(slot.booked_by_id is None for slot in upcoming) and any(slot.booked_by_id for slot in upcoming):
        return 0
    made = 0
    person = session.scalar(
        select(Participant.id)
        .where(Participant.structure_id == cip.structure_id, Participant.anonymised_at.is_(None))
        .order_by(Participant.id)
        .limit(1)
    )
    for days_ahead, hour in ((3, 9), (3, 10), (10, 14)):
        starts_at = _moment(today, -days_ahead, hour=hour)
        if any(_aware(slot.starts_at) == starts_at for slot in upcoming):
            continue
        slot = office_hours.publish_office_hour(
            session,
            cp,
            {
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=45),
                "place": "Permanence de Lyon 7e",
            },
        )
        made += 1
        if (days_ahead, hour) == (3, 9) and person is not None:
            office_hours.book_office_hour(
                session, cip, slot.id, {"participant_id": person, "topic": "Ouverture des droits de santé"}
            )
    return made


def _workshop(session: Session, territory: Territory, cp: User, today: date) -> int:
    if session.scalar(select(Workshop.id).where(Workshop.territory_id == territory.id).limit(1)) is not None:
        return 0
    domain = cp.domains[0].code if cp.domains else None
    workshops.create_workshop(
        session,
        cp,
        {
            "theme": "Préparer un entretien d'embauche",
            "held_on": today - timedelta(days=14),
            "audience": "salaries",
            "domain": domain,
            "attendance_count": 9,
            "notes": "Simulations d'entretien en binôme, retours des encadrant·es techniques.",
        },
    )
    return 1
