"""The indicators and their pictures kept per worker while the records they count stay the same.

Why: a territory's « Indicateurs » page runs some thirty grouped statements and draws seven
pygal pictures — about half a second on the national benchmark (issue 17, point 11), most of it
drawing — for figures that move a few times a day. So each worker keeps what it computed per
(scope, protection, period, programme, day) under a *data version* (`data_version`): a few
aggregates over every table the indicators read, which move with any committed change that adds,
removes or moves a row. The shared `VersionedCache` reads the version at most once every
`CHECK_EVERY_SECONDS` per worker; another worker's change is seen within that delay.

Two kinds of change no aggregate sees — a field edited in place (an exit's housing, a follow-up's
outcome, a contract's hours) — are caught two ways:
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

from sqlalchemy import case, event, func, select
from sqlalchemy.orm import Session

from referral.cases.models import Contract, Exit, FollowUp, HealthRecord, Need, Participant, RenewalDecision
from referral.partners.models import DeploymentStatus, Opportunity, Partner, PartnerTerritory
from referral.partners.queries import opportunities_version
from referral.reference.models import ReferenceCode
from referral.referrals.models import Referral, ReferralTransition
from referral.territories.models import Structure, Territory
from referral.versioned_cache import KeptValues, VersionedCache, database_key

T = TypeVar("T")

# Views kept per worker and database: a few filters of the territories people look at.
MAX_KEPT = 128
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
    """Aggregates that move when a row the indicators count is added, removed or moved, in one
    statement (plus the opportunities' own key, shared with the search index), and the time slot.

    Counts see rows added or removed; sums of ids over a condition (a need resolved, a follow-up
    done, a renewal decided) see a row entering or leaving it, which a count misses when one
    enters as another leaves.
    """

    def scalar(*columns: Any) -> Any:
        return select(*columns).scalar_subquery()

    row = session.execute(
        select(
            scalar(func.count(Participant.id)),
            scalar(func.max(Participant.updated_at)),
            scalar(func.sum(Participant.structure_id * Participant.id)),
            scalar(func.count(Exit.id)),
            scalar(func.sum(Exit.id)),
            scalar(func.count(FollowUp.id)),
            scalar(func.sum(case((FollowUp.done_on.is_not(None), FollowUp.id), else_=0))),
            scalar(func.count(Contract.id)),
            scalar(func.sum(Contract.id)),
            scalar(func.count(RenewalDecision.id)),
            scalar(func.sum(case((RenewalDecision.decided_on.is_not(None), RenewalDecision.id), else_=0))),
            scalar(func.count(HealthRecord.id)),
            scalar(func.max(HealthRecord.updated_at)),
            scalar(func.count(Need.id)),
            scalar(func.sum(case((Need.resolved_on.is_(None), Need.id), else_=0))),
            scalar(func.count(Referral.id)),
            scalar(func.sum(Referral.version)),
            scalar(func.count(ReferralTransition.id)),
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
            scalar(func.count(Territory.id)),
            scalar(func.count(ReferenceCode.code)),
        )
    ).one()
    return (today, int(time.time() // AT_MOST_SECONDS), tuple(row), opportunities_version(session))


VIEWS: VersionedCache[tuple[Any, ...], KeptValues] = VersionedCache(
    version=data_version,
    build=lambda _session, _key: KeptValues(MAX_KEPT),
    trust_seconds=CHECK_EVERY_SECONDS,
    check_after_flush=True,
)

# Flushes of this process that touched a watched model (`install`), and per database the count
# last acted on.
_edits = [0]
_seen_edits: dict[str, int] = {}


def _note_edits(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted)):
        _edits[0] += 1


def install() -> None:
    """Note this process's flushes of what the indicators read (called by `referral.hooks`;
    twice changes nothing)."""
    if not event.contains(Session, "before_flush", _note_edits):
        event.listen(Session, "before_flush", _note_edits)


def kept(session: Session, key: Hashable, today: date, build: Callable[[], T]) -> T:
    """The value of `key` computed under the current data version, computed by `build` if needed."""
    changes = None
    database, edits = database_key(session), _edits[0]
    if _seen_edits.get(database) != edits:
        # This process edited what the indicators read: whatever the version says, start afresh.
        _seen_edits[database] = changes = edits
    return VIEWS.get(session, today, changes=changes).get(key, build)


def forget() -> None:
    """Drop every kept view (tests, whose rolled-back rows could give a version back)."""
    VIEWS.forget()
    _seen_edits.clear()
