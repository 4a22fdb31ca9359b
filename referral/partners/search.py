"""Fuzzy search and duplicate detection of partners and opportunities, over a cached index.

The pure index lives in `referral.search`; this module keeps one per process and database in
the shared `VersionedCache`, and re-reads hits with the caller's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from referral.access import opportunity_filter, partner_filter
from referral.exceptions import PermissionDenied
from referral.partners import queries
from referral.partners.exceptions import DuplicateCandidate
from referral.partners.models import Opportunity, Partner
from referral.partners.scope import scoped_territory
from referral.search import PartnerCandidate, SearchIndex, SearchRecord, partner_duplicates
from referral.territories.models import Role, User
from referral.versioned_cache import VersionedCache

StampT = TypeVar("StampT")

# Hits below this score (0–100) are noise for a person typing a name.
SEARCH_MIN_SCORE = 40.0


@dataclass
class StampedIndex(Generic[StampT]):
    """A search index and the stamp of each row it was built from (to find what changed)."""

    index: SearchIndex
    stamps: dict[int, StampT]


# Past this share of changed rows, building again costs less than updating one by one.
REBUILD_SHARE = 0.25


def _indexed(
    version: Callable[[Session], Any],
    stamps: Callable[[Session], dict[int, StampT]],
    records: Callable[[Session, Collection[int] | None], list[SearchRecord]],
) -> VersionedCache[Any, StampedIndex[StampT]]:
    """The per-process cache of one search index, fresh by its version key.

    When the key moves, the rows whose stamp changed (or that are new) are read again and
    re-indexed; a row gone, or too many changed, and the index is built again. So every web
    worker stays fresh without any message between processes, and a rolled-back change never
    lingers. Hits are re-read from the database with the caller's scope anyway, so a row the
    index knows but the caller may not see is never shown.
    """

    def build(session: Session, key: Any) -> StampedIndex[StampT]:
        current = stamps(session)
        return StampedIndex(SearchIndex(records(session, None)), current)

    def update(
        session: Session, cached: StampedIndex[StampT], old: Any, new: Any, changes: Any
    ) -> StampedIndex[StampT] | None:
        current = stamps(session)
        if not cached.stamps.keys() <= current.keys():
            return None
        changed = [row_id for row_id, stamp in current.items() if cached.stamps.get(row_id) != stamp]
        if len(changed) > REBUILD_SHARE * max(len(current), 1):
            return None
        for record in records(session, changed):
            cached.index.update(record)
        return StampedIndex(cached.index, current)

    return VersionedCache(version=version, build=build, update=update)


def _partner_records(session: Session, ids: Collection[int] | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.name,
            town=row.town or "",
            tags=row.tags,
            territory_ids=row.territory_ids,
            siret=row.siret,
        )
        for row in queries.partner_rows(session, ids=ids)
    ]


def _opportunity_records(session: Session, ids: Collection[int] | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.title,
            town=row.town or "",
            tags=row.tags,
            # A national opportunity (no territory) is offered wherever its partner is deployed.
            territory_ids=frozenset({row.territory_id})
            if row.territory_id is not None
            else row.partner_territory_ids,
            kind=row.domain_code,
            aliases=(row.partner_name,),
        )
        for row in queries.opportunity_rows(session, ids=ids)
    ]


PARTNER_INDEX = _indexed(queries.partners_version, queries.partner_stamps, _partner_records)
OPPORTUNITY_INDEX = _indexed(queries.opportunities_version, queries.opportunity_stamps, _opportunity_records)


def find_partner_duplicates(
    session: Session, *, name: str, town: str | None, siret: str | None, exclude_id: int | None = None
) -> list[DuplicateCandidate]:
    """Partners that probably are the one described: same SIRET, same company in the same town,
    or a close name in the same town (accents, case, word order and a typo aside), best first.

    """
    index = PARTNER_INDEX.get(session).index
    found = partner_duplicates(
        PartnerCandidate(name=name, town=town or "", siret=siret), index, exclude_id=exclude_id
    )
    # Re-read: the index may know a row this transaction cannot see (rolled back elsewhere).
    existing = queries.partners_by_ids(session, [duplicate.id for duplicate in found])
    return [
        DuplicateCandidate(
            id=duplicate.id,
            name=existing[duplicate.id].name,
            town=existing[duplicate.id].town,
            reason=duplicate.reason,
            score=duplicate.score,
            same_siret=bool(siret) and existing[duplicate.id].siret == siret,
        )
        for duplicate in found
        if duplicate.id in existing
    ]


def _search_territory(session: Session, actor: User, territory_slug: str | None) -> int | None:
    """The territory a search is limited to: the caller's own, or (national team) any or none."""
    if territory_slug:
        return scoped_territory(session, actor, territory_slug).id
    if actor.role is Role.ADMIN:
        return None
    territory_id = actor.scope_territory_id
    if territory_id is None:
        raise PermissionDenied("Votre compte n'est rattaché à aucun territoire.")
    return territory_id


@dataclass(frozen=True)
class PartnerHit:
    id: int
    name: str
    town: str | None
    score: float


@dataclass(frozen=True)
class OpportunityHit:
    id: int
    title: str
    partner_id: int
    partner_name: str
    town: str | None
    domain: str
    status: str
    score: float


def _visible_hits(
    session: Session, index: Any, query: str, territory_id: int | None, limit: int, rows: Select[Any]
) -> list[tuple[Any, float]]:
    """The index's best hits that the caller may see (`rows` carries the scope), best first.

    The index is asked for more than `limit` because some hits may fall outside the scope.
    """
    hits = index.search(query, territory=territory_id, limit=limit * 3, min_score=SEARCH_MIN_SCORE)
    entity = rows.column_descriptions[0]["entity"]
    visible = {row.id: row for row in session.scalars(rows.where(entity.id.in_([hit.id for hit in hits])))}
    return [(visible[hit.id], hit.score) for hit in hits if hit.id in visible][:limit]


def search_partners(
    session: Session, actor: User, query: str, *, territory_slug: str | None = None, limit: int = 10
) -> list[PartnerHit]:
    """Partners whose name, town or tags match `query`, typos and accents aside, best first."""
    territory_id = _search_territory(session, actor, territory_slug)
    found = _visible_hits(
        session,
        PARTNER_INDEX.get(session).index,
        query,
        territory_id,
        limit,
        select(Partner).where(partner_filter(actor)),
    )
    return [PartnerHit(partner.id, partner.name, partner.town, score) for partner, score in found]


def search_opportunities(
    session: Session, actor: User, query: str, *, territory_slug: str | None = None, limit: int = 10
) -> list[OpportunityHit]:
    """Opportunities whose title, partner, town or tags match `query` (CIPs: published ones only)."""
    territory_id = _search_territory(session, actor, territory_slug)
    found = _visible_hits(
        session,
        OPPORTUNITY_INDEX.get(session).index,
        query,
        territory_id,
        limit,
        select(Opportunity).where(opportunity_filter(actor)).options(selectinload(Opportunity.partner)),
    )
    return [
        OpportunityHit(
            id=opportunity.id,
            title=opportunity.title,
            partner_id=opportunity.partner_id,
            partner_name=opportunity.partner.name,
            town=opportunity.partner.town,
            domain=opportunity.domain_code,
            status=opportunity.status.value,
            score=score,
        )
        for opportunity, score in found
    ]
