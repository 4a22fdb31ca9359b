"""The indicators and their pictures kept per worker while the records they count stay the same.

Why: a territory's « Indicateurs » page runs some thirty grouped statements and draws seven
pygal pictures — about half a second on the national benchmark (issue 17, point 11), most of it
drawing — for figures that move a few times a day. So each worker keeps what it computed per
(scope, protection, period, programme, day) under a *data version* (`data_version`): the highest
id of every table the indicators read, which moves when any row is added. The shared
`VersionedCache` reads the version at most once every `CHECK_EVERY_SECONDS` per worker; another
worker's new rows are seen within that delay.

Changes the version does not see — a field edited in place (an exit's housing, a follow-up done,
a need resolved), a row removed — are caught two ways:
- in this process, at once: a flush of any model the indicators read is noted (`install`), and
  the next `kept` rebuilds (`VersionedCache.get(changes=…)`), so the person who just corrected a
  record sees it on their next page;
- from another worker, within `AT_MOST_SECONDS`: the version holds the current time slot.

Who may see which scope is not cached: the services resolve the scope at every request, then
take the figures from here. The report kept is the one shown (protected or not): the key says
which.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import date
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from referral.cases.models import Contract, Exit, FollowUp, HealthRecord, Need, Participant, RenewalDecision
from referral.partners.models import Opportunity, Partner, PartnerTerritory
from referral.reference.models import ReferenceCode
from referral.referrals.models import Referral, ReferralTransition
from referral.territories.models import Structure, Territory
from referral.versioned_cache import KeptValues, VersionedCache, database_key

T = TypeVar("T")

# Views kept per worker and database: a few filters of the territories people look at. A view
# with its pictures weighs about 250 KB (seven SVGs as data addresses): 16 MB at most.
MAX_KEPT = 64
# Another worker's new or removed rows are seen within this delay; this process's own at once.
CHECK_EVERY_SECONDS = 2.0
# Another worker's edit in place (no count moves) is seen within this delay.
AT_MOST_SECONDS = 300
# What the indicators read: a flush of any of these in this process drops the kept views.
WATCHED: tuple[type, ...] = (
    Participant,
    Exit,
    FollowUp,
    Contract,
    RenewalDecision,
    HealthRecord,
    Need,
    Referral,
    ReferralTransition,
    Opportunity,
    Partner,
    PartnerTerritory,
    Structure,
    Territory,
    ReferenceCode,
)


def data_version(session: Session, today: date) -> tuple[Any, ...]:
    """What moves when another worker adds a row the indicators count, read in one statement of
    index look-ups (a few milliseconds whatever the size): the highest id of each table and the
    counts of the two small tables without one. With them, the day and the time slot: a row
    edited in place or removed by another worker is seen when the slot turns
    (`AT_MOST_SECONDS`); this worker's own edits at once (`kept`).

    Sums and counts over the large tables would see more, but cost a scan of each: over a
    second for the national benchmark's 150,000 people, more than a territory's page itself.
    """
    return (today, int(time.time() // AT_MOST_SECONDS), rows_version(session))


def rows_version(session: Session) -> tuple[Any, ...]:
    """The rows part of `data_version`: what this session's snapshot holds (`parallel` compares
    it between connections)."""

    def highest(column: Any) -> Any:
        return select(func.max(column)).scalar_subquery()

    def count(column: Any) -> Any:
        return select(func.count(column)).scalar_subquery()

    row = session.execute(
        select(
            highest(Participant.id),
            highest(Exit.id),
            highest(FollowUp.id),
            highest(Contract.id),
            highest(RenewalDecision.id),
            highest(HealthRecord.id),
            highest(Need.id),
            highest(Referral.id),
            highest(ReferralTransition.id),
            highest(Opportunity.id),
            highest(Partner.id),
            highest(Structure.id),
            highest(Territory.id),
            count(PartnerTerritory.partner_id),
            count(ReferenceCode.code),
        )
    ).one()
    return tuple(row)


VIEWS: VersionedCache[tuple[Any, ...], KeptValues] = VersionedCache(
    version=data_version,
    build=lambda _session, _key: KeptValues(MAX_KEPT),
    trust_seconds=CHECK_EVERY_SECONDS,
    check_after_flush=True,
)

# Per database, the flushes of this process that touched a watched model (`install`), and the
# count last acted on. Per database, because one process may hold several (tests, the bench): a
# flush elsewhere must not drop this database's views.
_edits: dict[str, int] = {}
_seen_edits: dict[str, int] = {}


# In a session's `info` while its transaction holds flushed changes to what the indicators read:
# other connections cannot see them yet (`parallel`).
UNSAVED_EDITS = "reporting_unsaved_edits"


def _touches_watched(session: Session) -> bool:
    """Whether the session holds a change, not yet flushed, to what the indicators read."""
    return any(isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted))


def _note_edits(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_watched(session):
        database = database_key(session)
        _edits[database] = _edits.get(database, 0) + 1
        session.info[UNSAVED_EDITS] = True


def _end_of_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(UNSAVED_EDITS, None)


def has_unsaved_edits(session: Session) -> bool:
    """Whether this session holds changes to what the indicators read that are not committed:
    flushed in its transaction (noted once `install` has run) or still pending."""
    return bool(session.info.get(UNSAVED_EDITS)) or _touches_watched(session)


def install() -> None:
    """Note this process's flushes of what the indicators read (called by `referral.hooks`;
    twice changes nothing)."""
    if not event.contains(Session, "before_flush", _note_edits):
        event.listen(Session, "before_flush", _note_edits)
        event.listen(Session, "after_transaction_end", _end_of_transaction)


def kept(session: Session, key: Hashable, today: date, build: Callable[[], T]) -> T:
    """The value of `key` computed under the current data version, computed by `build` if needed."""
    changes = None
    database = database_key(session)
    edits = _edits.get(database, 0)
    if _seen_edits.get(database) != edits:
        # This process edited what the indicators read: whatever the version says, start afresh.
        _seen_edits[database] = changes = edits
    return VIEWS.get(session, today, changes=changes).get(key, build)


def forget() -> None:
    """Drop every kept view (tests, whose rolled-back rows could give a version back)."""
    VIEWS.forget()
    _seen_edits.clear()
