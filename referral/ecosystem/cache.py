"""A territory's ecosystem kept per web worker while the data it is built from stays the same.

Why: the « Écosystème » page, its JSON and its analytics read a territory's whole network, build
its graph and analyse it — 0.5 s and more for a large territory (issue 20: 615 ms p95 for a
474-node Lyon) — for data that changes a few times a day. So each worker keeps the built
`TerritoryEcosystem` (snapshot, graph, and, once asked for, analytics, tables and pictures) per
(territory, filter, day), under a *data version*: a few aggregates over every table the loader
reads, which move with any committed change of them (`data_version`). The shared
`VersionedCache` reads the version at most once a second per worker, and at once after this
process flushed anything (`check_after_flush`: a person who just changed something sees it on
their next page, and each test its own rows); another worker's change is seen within a second.
When the version moves, every kept ecosystem is dropped and built again on demand.

Scope is not cached: the services check who may see which territory at every request, then
take the ecosystem from here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from referral.cases.models import Exit, Need, NeedStatus, Participant
from referral.partners.models import DeploymentStatus, Opportunity, PartnerTerritory, opportunity_subtypes
from referral.partners.queries import opportunities_version
from referral.referrals.models import Referral, ReferralTransition
from referral.territories.models import Structure, User, cp_domains
from referral.versioned_cache import KeptValues, VersionedCache

T = TypeVar("T")

# Ecosystems kept per worker and database: a territory seen through a few filters each.
MAX_KEPT = 64
# Another worker's change is seen within this delay; this process's own at once.
CHECK_EVERY_SECONDS = 1.0


def data_version(session: Session, today: date) -> tuple[Any, ...]:
    """Aggregates that move with any committed change the ecosystem shows, in one statement
    (plus the opportunities' own key, shared with the search index).

    Sums of ids over a condition (open needs, active accounts…) move when a row enters or leaves
    it, which a count alone could miss when one enters as another leaves; referrals and
    opportunities carry a version each write increments.
    """

    def scalar(*columns: Any) -> Any:
        return select(*columns).scalar_subquery()

    open_need = case((Need.status != NeedStatus.RESOLVED, Need.id), else_=0)
    row = session.execute(
        select(
            scalar(func.count(Participant.id)),
            scalar(func.sum(Participant.structure_id * Participant.id)),
            scalar(func.count(Participant.anonymised_at)),
            scalar(func.max(Participant.updated_at)),
            scalar(func.count(Exit.id)),
            scalar(func.sum(case((Exit.continued_accompaniment, Exit.id), else_=0))),
            scalar(func.count(Need.id)),
            scalar(func.sum(open_need)),
            scalar(func.count(Referral.id)),
            scalar(func.sum(Referral.version)),
            scalar(func.count(ReferralTransition.id)),
            scalar(func.sum(Opportunity.places_taken)),
            select(func.count()).select_from(opportunity_subtypes).scalar_subquery(),
            scalar(func.count(PartnerTerritory.partner_id)),
            scalar(
                func.sum(
                    case(
                        (PartnerTerritory.status == DeploymentStatus.DEPLOYED, PartnerTerritory.partner_id),
                        else_=0,
                    )
                )
            ),
            scalar(func.count(Structure.id)),
            scalar(func.sum(func.coalesce(Structure.territory_id, 0) * Structure.id)),
            scalar(func.count(User.id)),
            scalar(func.sum(case((User.is_active, User.id), else_=0))),
            select(func.count()).select_from(cp_domains).scalar_subquery(),
        )
    ).one()
    return (today, tuple(row), opportunities_version(session))


ECOSYSTEMS: VersionedCache[tuple[Any, ...], KeptValues] = VersionedCache(
    version=data_version,
    build=lambda _session, _key: KeptValues(MAX_KEPT),
    trust_seconds=CHECK_EVERY_SECONDS,
    check_after_flush=True,
)


def kept(session: Session, key: Hashable, today: date, build: Callable[[], T]) -> T:
    """The value of `key` built under the current data version, built with `build` if needed."""
    return ECOSYSTEMS.get(session, today).get(key, build)


def forget() -> None:
    """Drop every kept ecosystem (tests, and a change made around the services)."""
    ECOSYSTEMS.forget()
