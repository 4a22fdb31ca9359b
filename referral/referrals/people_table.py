"""The people followed in some territories, as the matching engine's table, kept per worker
while their records stay the same (issue 20: reverse matching).

Why: who fits an opportunity (`matching_index.reverse_matches`) is a cheap computation over the
`ParticipantTable` of every person followed where the opportunity is offered; reading those
people and building the table is what costs — about 4 s for a national partnership deployed
everywhere (issue 20), most of a CP's « qui correspond ? » in a territory. The table changes only
when a record does, so each worker keeps it per (territories, day), under a version key of
aggregates over what the engine reads of a record (`people_version`): people, needs, exits,
contracts, health records and the structures' territories. The key is read at most once a
second per worker and at once after this process flushed anything; another worker's change is
seen within a second.

One edit no aggregate sees: a record's edit committed after a later one, whose `updated_at` is
thus older than the latest. The key also holds the current 5-minute slot, so such an edit is
seen within 5 minutes at worst. Kept tables are counts' sources for CPs and coordinators; a
CIP's own list is read afresh (one structure, cheap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from referral.cases.models import Contract, Exit, HealthRecord, Need, NeedStatus, Participant
from referral.matching.snapshot import ReferenceTables
from referral.matching.table import ParticipantTable
from referral.territories.models import Structure
from referral.versioned_cache import KeptValues, VersionedCache

CHECK_EVERY_SECONDS = 1.0
AT_MOST_SECONDS = 300
# Tables kept per worker: a territory's, a few national partnerships' sets of territories.
KEPT = 16


def people_version(session: Session, today: date) -> tuple[Any, ...]:
    """Aggregates over what the engine reads of the records, in one statement.

    Sums of ids over a condition move when a row enters or leaves it (a need resolved, a
    contract ended), which a count alone misses when one enters as another leaves.
    """

    def scalar(*columns: Any) -> Any:
        return select(*columns).scalar_subquery()

    row = session.execute(
        select(
            scalar(func.count(Participant.id)),
            scalar(func.max(Participant.updated_at)),
            scalar(func.sum(Participant.structure_id * Participant.id)),
            scalar(func.count(Participant.anonymised_at)),
            scalar(func.count(Need.id)),
            scalar(func.sum(case((Need.status == NeedStatus.OPEN, Need.id), else_=0))),
            scalar(func.sum(Need.priority * Need.id)),
            scalar(func.count(Exit.id)),
            scalar(func.sum(case((Exit.continued_accompaniment, Exit.id), else_=0))),
            scalar(func.count(Contract.id)),
            scalar(func.sum(case((Contract.ends_on.is_(None), Contract.id), else_=0))),
            scalar(func.count(HealthRecord.id)),
            scalar(func.sum(case((HealthRecord.rqth, HealthRecord.id), else_=0))),
            scalar(func.sum(func.coalesce(Structure.territory_id, 0) * Structure.id)),
        )
    ).one()
    return (today, int(time.time() // AT_MOST_SECONDS), tuple(row))


PEOPLE: VersionedCache[tuple[Any, ...], KeptValues] = VersionedCache(
    version=people_version,
    build=lambda _session, _key: KeptValues(KEPT),
    trust_seconds=CHECK_EVERY_SECONDS,
    check_after_flush=True,
)


def kept_table(
    session: Session,
    today: date,
    territory_ids: Collection[int],
    reference: ReferenceTables,
    build: Callable[[], ParticipantTable],
) -> ParticipantTable:
    """The table of the people followed today in `territory_ids`, built with `build` when the
    records changed (or the matching index's reference tables were read again)."""
    # The reference object is part of the key: a table holds it, so its id stays its own.
    key = (tuple(sorted(territory_ids)), id(reference))
    return PEOPLE.get(session, today).get(key, build)


def forget() -> None:
    PEOPLE.forget()
