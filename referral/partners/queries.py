"""Reads of the partner network: no rules, no HTTP, no scope decisions.

The services decide who may see what and call these with ids and periods; every list has an
ORDER BY with a deterministic tie-break (STYLE §4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from referral.access import offered_in_territory
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.partners.models import (
    NetworkMeeting,
    Opportunity,
    OpportunityRevision,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.territories.models import Structure, User


@dataclass(frozen=True)
class PartnerRow:
    """What the search index and the duplicate check need of a partner, and nothing else."""

    id: int
    name: str
    town: str | None
    siret: str | None
    tags: tuple[str, ...]
    territory_ids: frozenset[int]


@dataclass(frozen=True)
class OpportunityRow:
    id: int
    title: str
    partner_name: str
    town: str | None
    tags: tuple[str, ...]
    domain_code: str
    status: OpportunityStatus
    territory_id: int | None
    partner_territory_ids: frozenset[int]


# A row's stamp: what it was last written as. The revision (or version) counts the writes, so a
# key summing them moves whatever order concurrent edits commit in; the time tells apart two rows
# that took the same id one after the other (SQLite reuses the id of a rolled-back insert).
PartnerStamp = tuple[int, datetime]
OpportunityStamp = tuple[int, datetime, int, datetime]


def partners_version(session: Session) -> tuple[int, int, datetime | None, int]:
    """A key that moves with any committed change of a partner: (count, sum of revisions,
    latest write, links).

    Partners are never deleted by the service; every write of a row moves its `revision` (the
    services also touch the partner when only its territory links change).
    """
    count, revisions, latest = session.execute(
        select(func.count(Partner.id), func.sum(Partner.revision), func.max(Partner.updated_at))
    ).one()
    links = session.scalar(select(func.count()).select_from(PartnerTerritory)) or 0
    return int(count or 0), int(revisions or 0), latest, int(links)


def opportunities_version(session: Session) -> tuple[int, int, datetime | None, tuple[object, ...]]:
    """The same for opportunities, with the partners' key: an opportunity is searched with its
    partner's name and town, so a renamed partner moves it too. Every edit and move of an
    opportunity claims a new version (`opportunities._claim_version`)."""
    count, versions, latest = session.execute(
        select(func.count(Opportunity.id), func.sum(Opportunity.version), func.max(Opportunity.updated_at))
    ).one()
    return int(count or 0), int(versions or 0), latest, partners_version(session)


def partner_stamps(session: Session) -> dict[int, PartnerStamp]:
    """Each partner's stamp: what an index compares to find the rows that changed."""
    rows = session.execute(select(Partner.id, Partner.revision, Partner.updated_at))
    return {partner_id: (revision, updated_at) for partner_id, revision, updated_at in rows}


def opportunity_stamps(session: Session) -> dict[int, OpportunityStamp]:
    """Each opportunity's stamp, with its partner's."""
    rows = session.execute(
        select(
            Opportunity.id, Opportunity.version, Opportunity.updated_at, Partner.revision, Partner.updated_at
        ).join(Opportunity.partner)
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _territory_links(session: Session, partner_ids: list[int] | None) -> dict[int, set[int]]:
    query = select(PartnerTerritory.partner_id, PartnerTerritory.territory_id)
    if partner_ids is not None:
        query = query.where(PartnerTerritory.partner_id.in_(partner_ids))
    links: dict[int, set[int]] = defaultdict(set)
    for partner_id, territory_id in session.execute(query):
        links[partner_id].add(territory_id)
    return links


def partner_rows(session: Session, *, ids: Collection[int] | None = None) -> list[PartnerRow]:
    """Every partner (or those of `ids`) as plain rows for the search index."""
    query = select(Partner.id, Partner.name, Partner.town, Partner.siret, Partner.tags)
    if ids is not None:
        query = query.where(Partner.id.in_(list(ids)))
    rows = session.execute(query.order_by(Partner.id)).all()
    links = _territory_links(session, [row.id for row in rows] if ids is not None else None)
    return [
        PartnerRow(
            id=row.id,
            name=row.name,
            town=row.town,
            siret=row.siret,
            tags=tuple(row.tags or ()),
            territory_ids=frozenset(links.get(row.id, ())),
        )
        for row in rows
    ]


def opportunity_rows(session: Session, *, ids: Collection[int] | None = None) -> list[OpportunityRow]:
    """Every opportunity (or those of `ids`) with its partner's name and town, for the index."""
    query = (
        select(
            Opportunity.id,
            Opportunity.title,
            Opportunity.tags,
            Opportunity.domain_code,
            Opportunity.status,
            Opportunity.territory_id,
            Opportunity.partner_id,
            Partner.name.label("partner_name"),
            Partner.town,
        )
        .join(Opportunity.partner)
        .order_by(Opportunity.id)
    )
    if ids is not None:
        query = query.where(Opportunity.id.in_(list(ids)))
    rows = session.execute(query).all()
    links = _territory_links(session, sorted({row.partner_id for row in rows}) if ids is not None else None)
    return [
        OpportunityRow(
            id=row.id,
            title=row.title,
            partner_name=row.partner_name,
            town=row.town,
            tags=tuple(row.tags or ()),
            domain_code=row.domain_code,
            status=row.status,
            territory_id=row.territory_id,
            partner_territory_ids=frozenset(links.get(row.partner_id, ())),
        )
        for row in rows
    ]


def partner_with_siret(session: Session, siret: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.siret == siret))


def partners_by_ids(session: Session, ids: list[int]) -> dict[int, Partner]:
    if not ids:
        return {}
    return {partner.id: partner for partner in session.scalars(select(Partner).where(Partner.id.in_(ids)))}


# --- Mutualisation meetings ------------------------------------------------------------------


def meetings_of_territory(session: Session, territory_id: int) -> list[NetworkMeeting]:
    return list(
        session.scalars(
            select(NetworkMeeting)
            .where(NetworkMeeting.territory_id == territory_id)
            .order_by(NetworkMeeting.held_at.desc(), NetworkMeeting.id.desc())
        )
    )


def previous_meeting(session: Session, meeting: NetworkMeeting) -> NetworkMeeting | None:
    """The territory's meeting held just before `meeting` (ties broken by id)."""
    return session.scalar(
        select(NetworkMeeting)
        .where(
            NetworkMeeting.territory_id == meeting.territory_id,
            NetworkMeeting.id != meeting.id,
            (NetworkMeeting.held_at < meeting.held_at)
            | and_(NetworkMeeting.held_at == meeting.held_at, NetworkMeeting.id < meeting.id),
        )
        .order_by(NetworkMeeting.held_at.desc(), NetworkMeeting.id.desc())
        .limit(1)
    )


def opportunities_first_published_between(
    session: Session, territory_id: int, since: datetime, until: datetime
) -> list[Opportunity]:
    return list(
        session.scalars(
            select(Opportunity)
            .where(
                offered_in_territory(territory_id),
                Opportunity.status != OpportunityStatus.DRAFT,
                Opportunity.published_at >= since,
                Opportunity.published_at < until,
            )
            .options(selectinload(Opportunity.partner))
            .order_by(Opportunity.published_at, Opportunity.id)
        )
    )


def revisions_between(
    session: Session, territory_id: int, since: datetime, until: datetime
) -> list[OpportunityRevision]:
    """Edits and state changes of the territory's opportunities in the period, oldest first."""
    return list(
        session.scalars(
            select(OpportunityRevision)
            .join(OpportunityRevision.opportunity)
            .where(
                offered_in_territory(territory_id),
                OpportunityRevision.revised_at >= since,
                OpportunityRevision.revised_at < until,
            )
            .options(selectinload(OpportunityRevision.opportunity).selectinload(Opportunity.partner))
            .order_by(OpportunityRevision.revised_at, OpportunityRevision.id)
        )
    )


def opportunities_closing_or_full(
    session: Session, territory_id: int, closing_from: date, closing_until: date
) -> list[Opportunity]:
    """Published opportunities that end within the window, or whose places are all taken."""
    return list(
        session.scalars(
            select(Opportunity)
            .where(
                offered_in_territory(territory_id),
                Opportunity.status == OpportunityStatus.PUBLISHED,
                (
                    and_(Opportunity.valid_until >= closing_from, Opportunity.valid_until <= closing_until)
                    | (Opportunity.places_taken >= Opportunity.capacity)
                ),
            )
            .options(selectinload(Opportunity.partner))
            .order_by(Opportunity.valid_until, Opportunity.title, Opportunity.id)
        )
    )


def partners_added_between(
    session: Session, territory_id: int, since: datetime, until: datetime
) -> list[Partner]:
    deployed_here = select(PartnerTerritory.partner_id).where(PartnerTerritory.territory_id == territory_id)
    return list(
        session.scalars(
            select(Partner)
            .where(Partner.id.in_(deployed_here), Partner.created_at >= since, Partner.created_at < until)
            .order_by(Partner.name, Partner.id)
        )
    )


# --- Consent, as the office hours need it ----------------------------------------------------


def cp_may_see_situation(session: Session, participant_ids: list[int], on: date) -> set[int]:
    """Of `participant_ids`, those whose consent to share their situation with CPs is in force
    on `on` (given by then, not expired, not revoked) — the rule of « accompagnement concerté »."""
    if not participant_ids:
        return set()
    return set(
        session.scalars(
            select(Consent.participant_id)
            .where(
                Consent.participant_id.in_(participant_ids),
                Consent.recipient == ConsentRecipient.CP,
                Consent.data_category == DataCategory.SITUATION,
                Consent.given_on <= on,
                (Consent.expires_on.is_(None)) | (Consent.expires_on > on),
                (Consent.revoked_on.is_(None)) | (Consent.revoked_on > on),
            )
            .distinct()
        )
    )


def territory_members(session: Session, territory_id: int) -> list[User]:
    """Active accounts working in a territory: its CPs and coordinators, its structures' CIPs."""
    structures = select(Structure.id).where(Structure.territory_id == territory_id)
    return list(
        session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                (User.territory_id == territory_id) | User.structure_id.in_(structures),
            )
            .order_by(User.full_name, User.id)
        )
    )
