"""What the referrals add to a person's record: their moves on the timeline, their section of
the right-of-access export, and their part in the record's anonymisation. `cases` sits below this
package and cannot read referrals, so it declares registries (`referral.cases.providers`) and
`install()` fills them; `create_app` and the test conftest call it, as they call `audit.install()`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from referral import clock
from referral.cases import export, listing, retention, timeline
from referral.cases.export import SYSTEM_NAME, ExportPart, Names, coded, iso, labelled
from referral.cases.models import Participant
from referral.cases.services import Attention
from referral.cases.timeline import TimelineEvent
from referral.partners.models import Opportunity
from referral.reference import queries as reference
from referral.referrals.lifecycle import TRANSITIONS
from referral.referrals.models import ACTIVE_STATES, WAITING_STATES, Referral, ReferralTransition

# The reference lists whose labels the export shows beside a referral's codes.
EXPORT_LISTS = (
    "referral_outcome",
    "referral_decline_reason",
    "referral_refusal_reason",
    "referral_abandon_reason",
)


def timeline_events(session: Session, person: Participant) -> list[TimelineEvent]:
    """Each move of each referral of the person."""
    referrals = session.scalars(
        select(Referral)
        .where(Referral.participant_id == person.id)
        .options(selectinload(Referral.transitions))
        .order_by(Referral.id)
    ).all()
    lists = {name: reference.labels(session, name) for name in EXPORT_LISTS} if referrals else {}
    events = []
    for referral in referrals:
        for move in referral.transitions:
            transition = TRANSITIONS.get(move.action)
            reasons = lists[transition.reason_list] if transition and transition.reason_list else {}
            # The refusal's reason, by its French label (the CIP reads why, never a code).
            detail = " · ".join(
                part
                for part in (
                    f"Motif : {reasons.get(move.reason, move.reason)}" if move.reason else "",
                    move.comment or "",
                )
                if part
            )
            events.append(
                TimelineEvent(
                    clock.paris_day(move.at),
                    "referral",
                    f"Orientation « {referral.opportunity.title} » : {move.to_state.label}",
                    detail,
                )
            )
    return events


def export_section(session: Session, person: Participant) -> ExportPart:
    """The person's referrals, each with its moves and what the partner received."""
    lists = {name: reference.labels(session, name) for name in EXPORT_LISTS}
    referrals = session.scalars(
        select(Referral)
        .where(Referral.participant_id == person.id)
        .options(
            selectinload(Referral.transitions),
            joinedload(Referral.opportunity).joinedload(Opportunity.partner),
        )
        .order_by(Referral.created_at, Referral.id)
    ).all()
    user_ids = [
        *(referral.created_by_id for referral in referrals),
        *(move.actor_id for referral in referrals for move in referral.transitions),
    ]

    def render(names: Names) -> list[dict[str, Any]]:
        def move_of(move: ReferralTransition) -> dict[str, Any]:
            transition = TRANSITIONS.get(move.action)
            reasons = lists[transition.reason_list] if transition and transition.reason_list else {}
            if move.actor_id is not None:
                by = names.get(move.actor_id)
            else:
                by = SYSTEM_NAME if move.actor_role is None else None  # no role: the scheduler
            return {
                "at": iso(move.at),
                "action": {"code": move.action, "label": transition.label if transition else move.action},
                "from_state": labelled(move.from_state),
                "to_state": labelled(move.to_state),
                "reason": coded(move.reason, reasons),
                "comment": move.comment,
                "by": by,
                "by_role": labelled(move.actor_role),
            }

        return [
            {
                "id": referral.id,
                "opportunity": referral.opportunity.title,
                "partner": referral.opportunity.partner.name,
                "state": labelled(referral.state),
                "created_on": iso(clock.paris_day(referral.created_at)),
                "created_by": names.get(referral.created_by_id),
                "comment": referral.comment,
                "outcome": coded(referral.outcome, lists["referral_outcome"]),
                # What the partner received, frozen when the referral left the structure.
                "shared_with_partner": referral.shared_dossier or None,
                "transitions": [move_of(move) for move in referral.transitions],
            }
            for referral in referrals
        ]

    return ExportPart(user_ids, render)


def last_written(participant_ids: Select[Any]) -> list[Select[Any, Any]]:
    """When each of these people's referrals last changed or moved."""
    return [
        select(Referral.participant_id, func.max(Referral.updated_at))
        .where(Referral.participant_id.in_(participant_ids))
        .group_by(Referral.participant_id),
        select(Referral.participant_id, func.max(ReferralTransition.at))
        .join(Referral, Referral.id == ReferralTransition.referral_id)
        .where(Referral.participant_id.in_(participant_ids))
        .group_by(Referral.participant_id),
    ]


def under_way(participant_ids: Select[Any]) -> Select[Any]:
    """Those of these people with a referral under way: their record is kept."""
    return (
        select(Referral.participant_id)
        .where(Referral.participant_id.in_(participant_ids), Referral.state.in_(ACTIVE_STATES))
        .distinct()
    )


def anonymise(session: Session, participant_id: int) -> list[str]:
    """Blank the free texts of the person's referrals and their moves, and what was shared with the
    partner; the states, dates and outcomes stay for the programme's figures. Returns the pages of
    those referrals."""
    referral_ids = list(session.scalars(select(Referral.id).where(Referral.participant_id == participant_id)))
    texts: list[tuple[Any, Any, dict[str, Any]]] = [
        (Referral, Referral.participant_id == participant_id, {"comment": None, "shared_dossier": {}}),
        (ReferralTransition, ReferralTransition.referral_id.in_(referral_ids), {"comment": None}),
    ]
    for model, where, values in texts:
        session.execute(
            update(model).where(where).values(**values), execution_options={"synchronize_session": False}
        )
    return [f"/orientations/{rid}" for rid in referral_ids]


WAITING_ATTENTION_DAYS = 10


def waiting_too_long(session: Session, ids: Any, today: date) -> dict[int, list[Attention]]:
    """« À surveiller »: a referral of the person waiting on the CP or the partner for more than
    ten days (the reminders start then)."""
    since = datetime.combine(today - timedelta(days=WAITING_ATTENTION_DAYS), time.min, clock.PARIS)
    rows = session.execute(
        select(Referral.participant_id, func.min(Referral.waiting_since))
        .where(
            Referral.participant_id.in_(ids),
            Referral.state.in_(WAITING_STATES),
            Referral.waiting_since < since,
        )
        .group_by(Referral.participant_id)
    ).all()
    return {
        person_id: [
            Attention(
                "referral_waiting",
                f"Orientation en attente depuis {(today - clock.paris_day(oldest)).days} jours.",
            )
        ]
        for person_id, oldest in rows
        if oldest is not None
    }


def install() -> None:
    """Register what referrals add to the record. Idempotent; called by `create_app` and the tests."""
    timeline.register_timeline_source("referrals", timeline_events)
    listing.register_attention_source("referrals", waiting_too_long)
    export.register_export_section("referrals", export_section)
    retention.register_retention_part(
        "referrals", retention.RetentionPart(anonymise, last_written=last_written, under_way=under_way)
    )
