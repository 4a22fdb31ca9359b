"""Office hours (« permanences »): a CP's one-to-one slots, booked by CIPs about a participant.

The CP sees the participant named only with their consent to share their situation with CPs;
otherwise a pseudonym that stays the same from one slot to the next and that only the service
can compute (a keyed HMAC: the key comes from the application's secret, passed in by the web
layer). Coordinators and the national team see neither the person, nor the CIP's topic, nor the
CP's notes: who booked a slot, when, and nothing about whom.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referral.access import participant_filter
from referral.audit.models import AuditAction
from referral.audit.services import record
from referral.cases.models import Participant
from referral.db import rowcount, utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.partners import queries
from referral.partners.exceptions import OfficeHourNotFound, OfficeHourUnavailable
from referral.partners.models import OfficeHour
from referral.partners.scope import is_territory_cp, may_read_territory, require_cp, scoped_territory
from referral.partners.values import clean_text, local
from referral.territories.models import Role, User


def may_open_office_hours(actor: User) -> bool:
    """CPs open slots of their permanence."""
    return is_territory_cp(actor)


def may_book_office_hours(actor: User) -> bool:
    """CIPs book them, about a participant of their structure."""
    return actor.role is Role.CIP


@dataclass(frozen=True)
class OfficeHourView:
    """A slot as `viewer` may see it: the participant named only where the rules allow."""

    slot: OfficeHour
    cp_name: str
    booked_by_name: str | None
    participant_label: str | None
    participant_named: bool
    booked_by_viewer: bool
    owned_by_viewer: bool
    # The CIP's free text and the CP's notes: about a person, so never for those who see nobody.
    topic: str | None = None
    notes_after: str | None = None


def pseudonym(participant: Participant, key: bytes) -> str:
    """« C. T. · 3F9A0B21 »: initials and a keyed digest of the id, so a CP can recognise the
    same person from one slot to the next without learning who they are. Without the key
    (derived from the application's secret) nobody can recompute it from an id."""
    initials = " ".join(
        f"{name.strip()[:1].upper()}." for name in (participant.first_name, participant.last_name)
    )
    digest = hmac.new(key, f"participant:{participant.id}".encode(), hashlib.sha256).hexdigest()[:8].upper()
    return f"{initials} · {digest}"


def sees_people(actor: User) -> bool:
    """Coordinators and the national team never see anything about a participant (DESIGN §8)."""
    return actor.role in (Role.CIP, Role.CP)


def _office_hour_views(
    session: Session, actor: User, slots: Sequence[OfficeHour], key: bytes
) -> list[OfficeHourView]:
    user_ids = {slot.cp_id for slot in slots} | {slot.booked_by_id for slot in slots if slot.booked_by_id}
    users = (
        {user.id: user for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    participant_ids = [slot.participant_id for slot in slots if slot.participant_id is not None]
    people = (
        {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(participant_ids)))}
        if participant_ids
        else {}
    )
    # Consent to share « identité et situation » with CPs, in force on the slot's (Paris) day.
    consented: set[tuple[int, date]] = set()
    if actor.role is Role.CP:
        by_day: dict[date, list[int]] = {}
        for slot in slots:
            if slot.participant_id is not None:
                by_day.setdefault(local(slot.starts_at).date(), []).append(slot.participant_id)
        for day, ids in by_day.items():
            consented |= {(person_id, day) for person_id in queries.cp_may_see_situation(session, ids, day)}
    own_people: set[int] = set()
    if actor.role is Role.CIP and participant_ids:
        own_people = set(
            session.scalars(
                select(Participant.id).where(Participant.id.in_(participant_ids), participant_filter(actor))
            )
        )
    views = []
    for slot in slots:
        person = people.get(slot.participant_id) if slot.participant_id is not None else None
        label, named = None, False
        if person is not None and sees_people(actor):
            if person.id in own_people:
                named = True
            elif actor.role is Role.CP:
                named = (person.id, local(slot.starts_at).date()) in consented
            label = f"{person.first_name} {person.last_name}" if named else pseudonym(person, key)
        views.append(
            OfficeHourView(
                slot=slot,
                cp_name=users[slot.cp_id].full_name if slot.cp_id in users else "—",
                booked_by_name=users[slot.booked_by_id].full_name if slot.booked_by_id in users else None,
                participant_label=label,
                participant_named=named,
                booked_by_viewer=slot.booked_by_id == actor.id,
                owned_by_viewer=slot.cp_id == actor.id,
                topic=slot.topic if sees_people(actor) else None,
                notes_after=slot.notes_after if sees_people(actor) else None,
            )
        )
    return views


def list_office_hours(
    session: Session, actor: User, territory_slug: str, *, pseudonym_key: bytes, upcoming_only: bool = False
) -> list[OfficeHourView]:
    """The territory's slots: all of them for its staff; for a CIP, the free upcoming ones and
    their own bookings. Coordinators and the national team never see a participant, a topic
    or notes. `pseudonym_key`: the web layer's key for `pseudonym`."""
    territory = scoped_territory(session, actor, territory_slug)
    query = select(OfficeHour).where(OfficeHour.territory_id == territory.id)
    now = utcnow()
    if upcoming_only:
        query = query.where(OfficeHour.ends_at >= now)
    if actor.role is Role.CIP:
        query = query.where(
            ((OfficeHour.booked_by_id.is_(None)) & (OfficeHour.starts_at > now))
            | (OfficeHour.booked_by_id == actor.id)
        )
    slots = list(session.scalars(query.order_by(OfficeHour.starts_at, OfficeHour.id)))
    return _office_hour_views(session, actor, slots, pseudonym_key)


def office_hour_view(session: Session, actor: User, slot_id: int, *, pseudonym_key: bytes) -> OfficeHourView:
    slot = _office_hour(session, actor, slot_id)
    if actor.role is Role.CIP and slot.booked_by_id not in (None, actor.id):
        raise OfficeHourNotFound()
    return _office_hour_views(session, actor, [slot], pseudonym_key)[0]


def _office_hour(session: Session, actor: User, slot_id: int) -> OfficeHour:
    slot = session.get(OfficeHour, slot_id)
    if slot is None or not may_read_territory(actor, slot.territory_id):
        raise OfficeHourNotFound()
    return slot


def publish_office_hour(session: Session, actor: User, values: Mapping[str, Any]) -> OfficeHour:
    """A CP opens a slot of their permanence, in the future, not overlapping their others."""
    require_cp(actor, "Seul·es les chargé·es de partenariats proposent des permanences.")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    errors: dict[str, list[str]] = {}
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = ["Début obligatoire (date et heure)."]
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = ["Fin obligatoire (date et heure)."]
    # No error means both are datetimes: the isinstance checks below only tell mypy so.
    if not errors and isinstance(starts_at, datetime) and isinstance(ends_at, datetime):
        if ends_at <= starts_at:
            errors["ends_at"] = ["La fin du créneau doit suivre son début."]
        elif ends_at - starts_at > timedelta(hours=8):
            errors["ends_at"] = ["Un créneau dure au plus 8 heures."]
        if starts_at <= utcnow():
            errors["starts_at"] = ["Un créneau se propose dans le futur."]
    if errors or not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise InvalidInput("Le créneau de permanence est invalide.", errors=errors)
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    overlapping = session.scalar(
        select(OfficeHour)
        .where(OfficeHour.cp_id == actor.id, OfficeHour.starts_at < ends_at, OfficeHour.ends_at > starts_at)
        .order_by(OfficeHour.starts_at)
        .limit(1)
    )
    if overlapping is not None:
        start = local(overlapping.starts_at)
        raise OfficeHourUnavailable(
            f"Vous avez déjà un créneau qui chevauche celui-ci (le {start:%d/%m/%Y à %H:%M}).",
            errors={"starts_at": ["Chevauche un autre de vos créneaux."]},
        )
    slot = OfficeHour(
        territory_id=actor.territory_id,
        cp_id=actor.id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=clean_text(values, "place"),
    )
    session.add(slot)
    session.flush()
    return slot


def withdraw_office_hour(session: Session, actor: User, slot_id: int) -> None:
    """A CP removes one of their slots nobody has booked."""
    slot = _office_hour(session, actor, slot_id)
    if slot.cp_id != actor.id:
        raise PermissionDenied("Seul·e la ou le CP qui propose ce créneau peut le retirer.")
    if slot.booked_by_id is not None:
        raise OfficeHourUnavailable(
            "Ce créneau est réservé : la ou le CIP doit d'abord annuler sa réservation."
        )
    session.delete(slot)
    session.flush()


def book_office_hour(session: Session, actor: User, slot_id: int, values: Mapping[str, Any]) -> OfficeHour:
    """A CIP books a free upcoming slot about one of their structure's participants.

    The booking is a compare-and-set in the database, so two CIPs clicking the same slot at
    once cannot both get it.
    """
    if not may_book_office_hours(actor):
        raise PermissionDenied("Les permanences se réservent par les CIP, au sujet d'un·e salarié·e.")
    slot = _office_hour(session, actor, slot_id)
    participant_id = values.get("participant_id")
    person = session.scalar(
        select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    )
    if person is None:
        raise InvalidInput(
            "Salarié·e inconnu·e dans votre structure.",
            errors={"participant_id": ["Choisissez un·e salarié·e de votre structure."]},
        )
    if slot.starts_at <= utcnow():
        raise OfficeHourUnavailable("Ce créneau est passé : choisissez-en un autre.")
    topic = clean_text(values, "topic")
    result = session.execute(
        update(OfficeHour)
        .where(OfficeHour.id == slot.id, OfficeHour.booked_by_id.is_(None))
        .values(booked_by_id=actor.id, participant_id=person.id, topic=topic)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise OfficeHourUnavailable("Ce créneau vient d'être réservé : choisissez-en un autre.")
    # A Core update escapes the automatic audit of flushes: log it explicitly.
    record(
        session,
        AuditAction.UPDATE,
        entity="office_hours",
        entity_id=slot.id,
        participant_id=person.id,
        details={"fields": ["booked_by_id", "participant_id", "topic"]},
    )
    session.refresh(slot)
    return slot


def cancel_office_hour_booking(session: Session, actor: User, slot_id: int) -> OfficeHour:
    """The CIP who booked a slot (or its CP) frees it, before it starts."""
    slot = _office_hour(session, actor, slot_id)
    if actor.id not in (slot.booked_by_id, slot.cp_id) or slot.booked_by_id is None:
        raise PermissionDenied(
            "Seul·e la ou le CIP qui a réservé ce créneau, ou sa ou son CP, peut l'annuler."
        )
    if slot.starts_at <= utcnow():
        raise OfficeHourUnavailable("Ce créneau a commencé : il ne s'annule plus.")
    slot.booked_by_id = None
    slot.participant_id = None
    slot.topic = None
    session.flush()
    return slot


def record_office_hour_notes(session: Session, actor: User, slot_id: int, notes: str | None) -> OfficeHour:
    """The CP writes what was agreed (« notes »), once the slot has started."""
    slot = _office_hour(session, actor, slot_id)
    if slot.cp_id != actor.id:
        raise PermissionDenied("Seul·e la ou le CP de ce créneau en prend les notes.")
    if slot.starts_at > utcnow():
        raise OfficeHourUnavailable("Les notes se prennent après le début de la permanence.")
    slot.notes_after = (notes or "").strip() or None
    session.flush()
    return slot
