"""Mutualisation meetings (« réunion de mutualisation ») of a territory's network.

A CP schedules the meeting; its agenda is built from what the network did since the previous
one (new, edited, paused, closed or full opportunities, new partners), then completed by the
points other packages provide (`add_agenda_section`: the referrals' figures) and the CPs' own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from referral.db import assign_changed, utcnow
from referral.exceptions import InvalidInput
from referral.partners import queries
from referral.partners.exceptions import MeetingNotFound
from referral.partners.models import (
    AgendaItem,
    AgendaItemSource,
    NetworkMeeting,
    Opportunity,
    OpportunityStatus,
)
from referral.partners.rules import OPPORTUNITY_FIELD_LABELS
from referral.partners.scope import (
    domain_label,
    is_territory_cp,
    may_read_territory,
    require_cp,
    scoped_territory,
)
from referral.partners.values import clean_text, local
from referral.reference import queries as reference
from referral.territories.models import User

# Without an earlier meeting, the first agenda looks this far back.
FIRST_MEETING_LOOKBACK = timedelta(days=90)
# An opportunity ending within this many days of the meeting is flagged as closing soon.
CLOSING_SOON_DAYS = 30


def may_prepare_meetings(actor: User, territory_id: int | None = None) -> bool:
    """CPs prepare their territory's meetings (`territory_id`: a meeting's territory)."""
    return is_territory_cp(actor) and (territory_id is None or actor.territory_id == territory_id)


def list_meetings(session: Session, actor: User, territory_slug: str) -> list[NetworkMeeting]:
    """The territory's meetings, newest first (everyone working in the territory reads them)."""
    territory = scoped_territory(session, actor, territory_slug)
    return queries.meetings_of_territory(session, territory.id)


def get_meeting(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    meeting = session.get(NetworkMeeting, meeting_id)
    if meeting is None or not may_read_territory(actor, meeting.territory_id):
        raise MeetingNotFound()
    return meeting


def _editable_meeting(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    meeting = get_meeting(session, actor, meeting_id)
    require_cp(actor, "Les réunions de mutualisation sont préparées par les chargé·es de partenariats.")
    if meeting.territory_id != actor.territory_id:
        raise MeetingNotFound()
    return meeting


def _attendees(session: Session, territory_id: int, user_ids: Iterable[int]) -> list[User]:
    wanted = list(dict.fromkeys(user_ids))
    members = {user.id: user for user in queries.territory_members(session, territory_id)}
    unknown = [user_id for user_id in wanted if user_id not in members]
    if unknown:
        raise InvalidInput(
            "Certain·es participant·es ne travaillent pas sur ce territoire.",
            errors={
                "attendee_ids": [f"Compte inconnu sur ce territoire : {user_id}." for user_id in unknown]
            },
        )
    return [members[user_id] for user_id in wanted]


def _meeting_values(values: Mapping[str, Any], current: NetworkMeeting | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "title" in values or current is None:
        title = clean_text(values, "title")
        if not title:
            errors["title"] = ["Le titre de la réunion est obligatoire."]
        clean["title"] = title
    if "held_at" in values or current is None:
        held_at = values.get("held_at")
        if not isinstance(held_at, datetime) or held_at.tzinfo is None:
            errors["held_at"] = ["Date et heure de la réunion obligatoires (avec fuseau horaire)."]
        else:
            held_at = held_at.astimezone(UTC)
        clean["held_at"] = held_at
    for name in ("place", "other_attendees", "minutes"):
        if name in values:
            clean[name] = clean_text(values, name)
    if errors:
        raise InvalidInput("La réunion contient des données invalides.", errors=errors)
    return clean


def create_meeting(
    session: Session, actor: User, territory_slug: str, values: Mapping[str, Any]
) -> NetworkMeeting:
    """A CP schedules the territory's next meeting; its agenda is built at once from what
    changed since the previous one (and can be rebuilt until the day)."""
    require_cp(actor, "Les réunions de mutualisation sont préparées par les chargé·es de partenariats.")
    territory = scoped_territory(session, actor, territory_slug)
    clean = _meeting_values(values, None)
    clean.pop("minutes", None)
    meeting = NetworkMeeting(territory_id=territory.id, created_by_id=actor.id, **clean)
    meeting.attendees = _attendees(session, territory.id, values.get("attendee_ids") or [])
    session.add(meeting)
    session.flush()
    _store_built_agenda(session, meeting)
    return meeting


def update_meeting(
    session: Session, actor: User, meeting_id: int, values: Mapping[str, Any]
) -> NetworkMeeting:
    """Date, place, attendees, and the minutes (« compte rendu ») after the meeting."""
    meeting = _editable_meeting(session, actor, meeting_id)
    clean = _meeting_values(values, meeting)
    assign_changed(meeting, **clean)
    if "attendee_ids" in values:
        attendees = _attendees(session, meeting.territory_id, values.get("attendee_ids") or [])
        if [user.id for user in meeting.attendees] != [user.id for user in attendees]:
            meeting.attendees = attendees
    session.flush()
    return meeting


def add_agenda_item(session: Session, actor: User, meeting_id: int, values: Mapping[str, Any]) -> AgendaItem:
    """A CP adds a point of their own after the built ones."""
    meeting = _editable_meeting(session, actor, meeting_id)
    title = clean_text(values, "title")
    if not title:
        raise InvalidInput(
            "Le point d'ordre du jour a besoin d'un titre.", errors={"title": ["Titre obligatoire."]}
        )
    position = max((item.position for item in meeting.agenda_items), default=0) + 1
    item = AgendaItem(
        position=position,
        source=AgendaItemSource.ADDED,
        title=title[:255],
        body=clean_text(values, "body"),
        subject={},
    )
    meeting.agenda_items.append(item)
    session.flush()
    return item


def rebuild_agenda(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    """Rebuild the built part of the agenda with what changed up to now; added points stay."""
    meeting = _editable_meeting(session, actor, meeting_id)
    _store_built_agenda(session, meeting)
    return meeting


@dataclass(frozen=True)
class AgendaLine:
    title: str
    body: str | None
    subject: dict[str, Any]


@dataclass(frozen=True)
class AgendaPeriod:
    since: datetime
    until: datetime
    previous: NetworkMeeting | None


def agenda_period(session: Session, meeting: NetworkMeeting) -> AgendaPeriod:
    """From the previous meeting of the territory (or 90 days back) to this meeting's time."""
    previous = queries.previous_meeting(session, meeting)
    since = previous.held_at if previous is not None else meeting.held_at - FIRST_MEETING_LOOKBACK
    return AgendaPeriod(since=since, until=meeting.held_at, previous=previous)


def _opportunity_summary(session: Session, opportunity: Opportunity) -> str:
    parts = [
        f"{domain_label(session, opportunity.domain_code)}",
        f"{opportunity.places_left} place(s) sur {opportunity.capacity}",
    ]
    parts.append(
        "validation par le ou la CP" if opportunity.requires_cp_validation else "orientation directe"
    )
    if opportunity.valid_until is not None:
        parts.append(f"jusqu'au {opportunity.valid_until:%d/%m/%Y}")
    return f"{opportunity.partner.name} — " + " · ".join(parts) + "."


STATUS_CHANGE_TITLES = {
    OpportunityStatus.PUBLISHED: "Opportunité de nouveau publiée",
    OpportunityStatus.PAUSED: "Opportunité suspendue",
    OpportunityStatus.CLOSED: "Opportunité clôturée",
}


# What packages above `partners` add to the agenda, each as a function of the territory and the
# period that returns its points, placed after the network's own in the order they were added.
# The partners' answers to referrals come from `referral.referrals` this way (DESIGN §5: a lower
# room does not import a higher one; the higher one provides).
AgendaSection = Callable[[Session, int, AgendaPeriod], list[AgendaLine]]
AGENDA_SECTIONS: list[AgendaSection] = []


def add_agenda_section(section: AgendaSection) -> None:
    """Have every agenda built from now on end with `section`'s points (once, however often
    it is added)."""
    if section not in AGENDA_SECTIONS:
        AGENDA_SECTIONS.append(section)


def build_agenda_lines(session: Session, meeting: NetworkMeeting) -> list[AgendaLine]:
    """What the territory's network did since the previous meeting, as agenda points.

    New opportunities, edited ones (with what changed), paused or closed ones, those closing soon or
    full, new partners, then the sections other packages add (`AGENDA_SECTIONS`: referrals per
    partner with the partner's answer rate).
    """
    period = agenda_period(session, meeting)
    territory_id = meeting.territory_id
    lines: list[AgendaLine] = []

    new_opportunities = queries.opportunities_first_published_between(
        session, territory_id, period.since, period.until
    )
    new_ids = {opportunity.id for opportunity in new_opportunities}
    for opportunity in new_opportunities:
        lines.append(
            AgendaLine(
                f"Nouvelle opportunité : {opportunity.title}",
                _opportunity_summary(session, opportunity),
                {"kind": "opportunity", "id": opportunity.id, "change": "new"},
            )
        )

    edited: dict[int, tuple[Opportunity, list[str]]] = {}
    moved: dict[int, Opportunity] = {}
    for revision in queries.revisions_between(session, territory_id, period.since, period.until):
        opportunity = revision.opportunity
        if opportunity.id in new_ids:
            continue
        action = (revision.snapshot or {}).get("action", "edit")
        if action == "edit":
            fields = edited.setdefault(opportunity.id, (opportunity, []))[1]
            fields.extend(name for name in revision.snapshot.get("changed", []) if name not in fields)
        else:
            moved[opportunity.id] = opportunity
    for opportunity, fields in edited.values():
        labels = ", ".join(OPPORTUNITY_FIELD_LABELS.get(name, name) for name in fields)
        lines.append(
            AgendaLine(
                f"Opportunité modifiée : {opportunity.title}",
                f"{opportunity.partner.name} — modifié : {labels}.",
                {"kind": "opportunity", "id": opportunity.id, "change": "edited", "fields": fields},
            )
        )
    for opportunity in moved.values():
        lines.append(
            AgendaLine(
                f"{STATUS_CHANGE_TITLES[opportunity.status]} : {opportunity.title}"
                if opportunity.status in STATUS_CHANGE_TITLES
                else f"Opportunité : {opportunity.title}",
                f"{opportunity.partner.name} — état actuel : {opportunity.status.label}.",
                {
                    "kind": "opportunity",
                    "id": opportunity.id,
                    "change": "status",
                    "status": opportunity.status.value,
                },
            )
        )

    meeting_day = local(period.until).date()
    for opportunity in queries.opportunities_closing_or_full(
        session, territory_id, meeting_day, meeting_day + timedelta(days=CLOSING_SOON_DAYS)
    ):
        if opportunity.places_left <= 0:
            title, change = f"Opportunité complète : {opportunity.title}", "full"
            body = f"{opportunity.partner.name} — les {opportunity.capacity} place(s) sont prises."
        else:
            title, change = f"Opportunité bientôt close : {opportunity.title}", "closing"
            body = f"{opportunity.partner.name} — fin de validité le {opportunity.valid_until:%d/%m/%Y}."
        lines.append(AgendaLine(title, body, {"kind": "opportunity", "id": opportunity.id, "change": change}))

    new_partners = queries.partners_added_between(session, territory_id, period.since, period.until)
    if new_partners:
        kinds = reference.labels(session, "partner_kind")
        lines.append(
            AgendaLine(
                f"Nouveaux partenaires ({len(new_partners)})",
                "\n".join(
                    f"{partner.name} — {kinds.get(partner.kind, partner.kind)}"
                    + (f" ({partner.town})" if partner.town else "")
                    for partner in new_partners
                ),
                {"kind": "partners", "ids": [partner.id for partner in new_partners]},
            )
        )

    for section in AGENDA_SECTIONS:
        lines.extend(section(session, territory_id, period))
    return lines


def _store_built_agenda(session: Session, meeting: NetworkMeeting) -> None:
    """Replace the built points by fresh ones (numbered first); points added by CPs follow."""
    lines = build_agenda_lines(session, meeting)
    added = [item for item in meeting.agenda_items if item.source is AgendaItemSource.ADDED]
    for item in [item for item in meeting.agenda_items if item.source is AgendaItemSource.BUILT]:
        meeting.agenda_items.remove(item)
    # Positions are unique per meeting: park the added points out of the way before renumbering.
    for index, item in enumerate(added):
        item.position = -(index + 1)
    session.flush()
    for position, line in enumerate(lines, start=1):
        meeting.agenda_items.append(
            AgendaItem(
                position=position,
                source=AgendaItemSource.BUILT,
                title=line.title[:255],
                body=line.body,
                subject=line.subject,
            )
        )
    for index, item in enumerate(added):
        item.position = len(lines) + index + 1
    meeting.agenda_built_at = utcnow()
    session.flush()
    session.expire(meeting, ["agenda_items"])


@dataclass(frozen=True)
class Agenda:
    meeting: NetworkMeeting
    period: AgendaPeriod
    items: list[AgendaItem]


def meeting_agenda(session: Session, actor: User, meeting_id: int) -> Agenda:
    meeting = get_meeting(session, actor, meeting_id)
    return Agenda(meeting=meeting, period=agenda_period(session, meeting), items=list(meeting.agenda_items))


def territory_members(session: Session, actor: User, territory_slug: str) -> list[User]:
    """People who may attend the territory's meetings (for the attendees' checkboxes)."""
    territory = scoped_territory(session, actor, territory_slug)
    return queries.territory_members(session, territory.id)
