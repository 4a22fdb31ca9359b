"""Fuzzy search and duplicate detection of partners and opportunities, over a cached index.

The pure index lives in `referral.search`; this module keeps one per process and
database, fresh by a version check, and re-reads hits with the caller's scope. Moved as it was
from `services` (a shared cache helper is coming: issue 13).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

# Hits below this score (0–100) are noise for a person typing a name.
SEARCH_MIN_SCORE = 40.0


@dataclass
class _CachedIndex:
    version: tuple[int, datetime | None, int]
    index: SearchIndex


class _IndexCache:
    """One search index per process, per database and kind, kept fresh by a version check.

    Each search first reads a cheap version token (count, latest `updated_at`, links count). If
    it moved forward, only the rows changed since are re-indexed; if it moved back (a rolled-back
    transaction) or links changed without a row moving, the index is rebuilt. So every web
    worker stays fresh without any message between processes, and a rolled-back change never
    lingers. Hits are re-read from the database with the caller's scope anyway, so a row the
    index knows but the caller may not see is never shown.
    """

    def __init__(
        self,
        version: Callable[[Session], tuple[int, datetime | None, int]],
        records: Callable[[Session, datetime | None], list[SearchRecord]],
    ) -> None:
        self._version = version
        self._records = records
        self._lock = threading.Lock()
        self._entries: dict[int, _CachedIndex] = {}

    def get(self, session: Session) -> SearchIndex:
        bind = session.get_bind()
        key = id(getattr(bind, "engine", bind))
        version = self._version(session)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached.version == version:
                return cached.index
            if cached is not None and self._moved_forward(cached.version, version):
                changed = self._records(session, cached.version[1])
                if changed or cached.version[2] == version[2]:
                    for record in changed:
                        cached.index.update(record)
                    if len(cached.index) == version[0]:
                        cached.version = version
                        return cached.index
            index = SearchIndex(self._records(session, None))
            self._entries[key] = _CachedIndex(version, index)
            return index

    @staticmethod
    def _moved_forward(old: tuple[int, datetime | None, int], new: tuple[int, datetime | None, int]) -> bool:
        if old[1] is None or new[1] is None:
            return False
        return new[0] >= old[0] and new[1] >= old[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _partner_records(session: Session, changed_since: datetime | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.name,
            town=row.town or "",
            tags=row.tags,
            territory_ids=row.territory_ids,
            siret=row.siret,
        )
        for row in queries.partner_rows(session, changed_since=changed_since)
    ]


def _opportunity_records(session: Session, changed_since: datetime | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.title,
            town=row.town or "",
            tags=row.tags,
            # A national offer (no territory) is offered wherever its partner is deployed.
            territory_ids=frozenset({row.territory_id})
            if row.territory_id is not None
            else row.partner_territory_ids,
            kind=row.domain_code,
            aliases=(row.partner_name,),
        )
        for row in queries.opportunity_rows(session, changed_since=changed_since)
    ]


PARTNER_INDEX = _IndexCache(queries.partners_version, _partner_records)
OPPORTUNITY_INDEX = _IndexCache(queries.opportunities_version, _opportunity_records)


def find_partner_duplicates(
    session: Session, *, name: str, town: str | None, siret: str | None, exclude_id: int | None = None
) -> list[DuplicateCandidate]:
    """Partners that probably are the one described: same SIRET, same company in the same town,
    or a close name in the same town (accents, case, word order and a typo aside), best first.

    """
    index = PARTNER_INDEX.get(session)
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
        PARTNER_INDEX.get(session),
        query,
        territory_id,
        limit,
        select(Partner).where(partner_filter(actor)),
    )
    return [PartnerHit(partner.id, partner.name, partner.town, score) for partner, score in found]


def search_opportunities(
    session: Session, actor: User, query: str, *, territory_slug: str | None = None, limit: int = 10
) -> list[OpportunityHit]:
    """Offers whose title, partner, town or tags match `query` (CIPs: published ones only)."""
    territory_id = _search_territory(session, actor, territory_slug)
    found = _visible_hits(
        session,
        OPPORTUNITY_INDEX.get(session),
        query,
        territory_id,
        limit,
        select(Opportunity).where(opportunity_filter(actor)).options(selectinload(Opportunity.partner)),
    )
    return [
        OpportunityHit(
            id=offer.id,
            title=offer.title,
            partner_id=offer.partner_id,
            partner_name=offer.partner.name,
            town=offer.partner.town,
            domain=offer.domain_code,
            status=offer.status.value,
            score=score,
        )
        for offer, score in found
    ]
