"""The matching index's database side: the loader of its snapshots and its per-worker cache, and
the proposals and reverse matches read through it.

The engine (`referral.matching`, whose `proposals` module is the ranked result) ranks snapshots;
this module builds them. The compiled index of every open opportunity is kept per database
(`referral.versioned_cache`) and rebuilt only when the opportunities change (a cheap version query
at most every second: their count, latest update and sums of versions, the partners' deployments,
and the hour, so referral counts and answer rates stay fresh). A participant is read at each
call: their record is small and must never be stale.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, bindparam, case, event, func, select, true
from sqlalchemy.orm import Session

from referral import clock
from referral.access import participant_filter, readable_records_structure
from referral.audit.services import ReadEntry, record_read, record_reads
from referral.cases import services as cases
from referral.cases.exceptions import ParticipantNotFound, RecordsNotVisible
from referral.cases.models import Contract, Exit, HealthRecord, Need, NeedStatus, Participant
from referral.db import on_commit
from referral.matching.index import MatchingIndex, TerritoryIndex
from referral.matching.proposals import ProposalSet
from referral.matching.reverse import ReverseMatch, reverse_match
from referral.matching.snapshot import (
    CriterionSnapshot,
    OpenNeed,
    OpportunitySnapshot,
    ParticipantSnapshot,
    ReferenceTables,
    ReferralHistory,
)
from referral.matching.table import ParticipantTable
from referral.partners.models import (
    Criterion,
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
    opportunity_subtypes,
)
from referral.partners.opportunities import get_opportunity
from referral.reference import queries as reference
from referral.reference.models import DomainSubtype
from referral.referrals import people_table
from referral.referrals.models import Referral, ReferralState
from referral.referrals.queries import partner_answer_stats
from referral.territories.models import Role, Structure, Territory, User
from referral.versioned_cache import VersionedCache, database_key

# Fair share counts referrals made in this window (« orientations récentes »).
RECENT_REFERRALS_DAYS = 30
PROPOSALS_SHOWN = 20


def reference_tables(session: Session) -> ReferenceTables:
    housing = reference.extras(session, "housing_status")
    coverage = reference.extras(session, "health_coverage")
    residence = reference.extras(session, "residence_status")
    languages = reference.extras(session, "language_level")
    need_labels = {domain.code: domain.label for domain in reference.domains(session)}
    for domain in reference.domains(session):
        need_labels.update({subtype.code: subtype.label for subtype in domain.subtypes})
    territories = session.execute(select(Territory.id, Territory.slug, Territory.name)).all()
    return ReferenceTables(
        precarity={code: int(extra.get("precarity", 0)) for code, extra in housing.items()},
        covered={code: bool(extra.get("covered", False)) for code, extra in coverage.items()},
        language_rank={code: int(extra.get("rank", 0)) for code, extra in languages.items()},
        may_work={code: bool(extra.get("may_work", False)) for code, extra in residence.items()},
        labels={
            **{
                name: reference.labels(session, name)
                for name in ("housing_status", "health_coverage", "residence_status", "language_level")
            },
            "need": need_labels,
            "territory": {slug: name for _id, slug, name in territories},
        },
        territory_slugs={territory_id: slug for territory_id, slug, _name in territories},
    )


def opportunity_snapshots(
    session: Session, today: date, *, only: Collection[int] | None = None
) -> list[OpportunitySnapshot]:
    """Every published opportunity, a national one resolved to the territories where its partner
    is deployed, with its places, its recent referrals and its partner's answer rate.

    Read as plain rows, four queries in all: at national scale (20,000 opportunities) loading ORM
    objects made this most of the index's build time, which a request pays after each change.
    """
    connection = session.connection()
    published = Opportunity.status == OpportunityStatus.PUBLISHED
    if only is not None:
        published = published & Opportunity.id.in_(sorted(only))
    opportunities = connection.execute(
        select(
            Opportunity.id,
            Opportunity.title,
            Opportunity.partner_id,
            Partner.name.label("partner_name"),
            Opportunity.territory_id,
            Opportunity.domain_code,
            Opportunity.capacity,
            Opportunity.places_taken,
            Opportunity.published_at,
            Opportunity.status,
            Opportunity.tags,
            Opportunity.valid_from,
            Opportunity.valid_until,
        )
        .join(Partner, Partner.id == Opportunity.partner_id)
        .where(published)
        .order_by(Opportunity.id)
    ).all()
    criteria: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for opportunity_id, name, op, value, hard, weight in connection.execute(
        select(
            Criterion.opportunity_id,
            Criterion.field,
            Criterion.op,
            Criterion.value,
            Criterion.hard,
            Criterion.weight,
        )
        .join(Opportunity, Opportunity.id == Criterion.opportunity_id)
        .where(published)
        .order_by(Criterion.opportunity_id, Criterion.position)
    ):
        criteria[opportunity_id].append((name, op, value, hard, weight))
    subtypes: dict[int, list[str]] = defaultdict(list)
    for opportunity_id, code in connection.execute(
        select(opportunity_subtypes.c.opportunity_id, DomainSubtype.code)
        .join(DomainSubtype, DomainSubtype.code == opportunity_subtypes.c.subtype_code)
        .join(Opportunity, Opportunity.id == opportunity_subtypes.c.opportunity_id)
        .where(published)
        .order_by(opportunity_subtypes.c.opportunity_id, DomainSubtype.position)
    ):
        subtypes[opportunity_id].append(code)
    deployed: dict[int, set[int]] = defaultdict(set)
    for partner_id, territory_id in connection.execute(
        select(PartnerTerritory.partner_id, PartnerTerritory.territory_id).where(
            PartnerTerritory.status == "deployed"
        )
    ):
        deployed[partner_id].add(territory_id)
    since = clock.now() - timedelta(days=RECENT_REFERRALS_DAYS)
    recent = dict(
        session.execute(
            select(Referral.opportunity_id, func.count())
            .where(
                Referral.created_at >= since,
                true() if only is None else Referral.opportunity_id.in_(sorted(only)),
            )
            .group_by(Referral.opportunity_id)
        ).all()
    )
    answers = partner_answer_stats(session)
    snapshots = []
    for opportunity in opportunities:
        territories = (
            {opportunity.territory_id}
            if opportunity.territory_id is not None
            else deployed[opportunity.partner_id]
        )
        if not territories:
            continue
        stats = answers.get(opportunity.partner_id)
        snapshots.append(
            OpportunitySnapshot(
                id=opportunity.id,
                title=opportunity.title,
                partner_id=opportunity.partner_id,
                partner_name=opportunity.partner_name,
                territory_ids=frozenset(territories),
                domain=opportunity.domain_code,
                subtypes=tuple(subtypes.get(opportunity.id, ())),
                criteria=tuple(CriterionSnapshot.of(*row) for row in criteria.get(opportunity.id, ())),
                capacity=opportunity.capacity,
                places_left=opportunity.capacity - opportunity.places_taken,
                published_on=opportunity.published_at.date() if opportunity.published_at else None,
                status=opportunity.status.value,
                tags=tuple(opportunity.tags),
                recent_referrals=int(recent.get(opportunity.id, 0)),
                partner_answer_rate=stats.rate if stats else None,
                valid_from=opportunity.valid_from,
                valid_until=opportunity.valid_until,
            )
        )
    return snapshots


def _snapshot(
    person: Participant,
    territory_id: int,
    *,
    weekly_hours: float | None,
    rqth: bool | None,
    needs: tuple[OpenNeed, ...],
) -> ParticipantSnapshot:
    return ParticipantSnapshot(
        id=person.id,
        structure_id=person.structure_id,
        territory_id=territory_id,
        programme=person.programme.value,
        entered_on=person.entered_on,
        birth_date=person.birth_date,
        weekly_hours=weekly_hours,
        residence_status=person.residence_status,
        residence_permit_expires_on=person.residence_permit_expires_on,
        housing_status=person.housing_status,
        health_coverage=person.health_coverage,
        household_size=person.household_size,
        children=person.children,
        monthly_resources=person.monthly_resources,
        language_level=person.language_level,
        driving_licence=person.driving_licence,
        rqth=rqth,
        needs=needs,
    )


def participant_snapshot(person: Participant, territory_id: int, today: date) -> ParticipantSnapshot:
    """From a loaded record (contracts, needs and health details already in memory)."""
    current_hours = sum(
        contract.weekly_hours
        for contract in person.contracts
        if contract.starts_on <= today and (contract.ends_on is None or contract.ends_on >= today)
    )
    health = person.health_record
    return _snapshot(
        person,
        territory_id,
        weekly_hours=current_hours if person.contracts else None,
        rqth=health.rqth if health is not None else None,
        # Best priority first, as the request's snapshot reads them: the first of equally well
        # answered needs is the one the reasons name.
        needs=tuple(
            OpenNeed(n.domain_code, n.subtype_code, n.priority, n.id)
            for n in sorted(person.needs, key=lambda need: (need.priority, need.id))
            if n.status is NeedStatus.OPEN
        ),
    )


@functools.cache
def _history_statement() -> Select[int, ReferralState, datetime, int]:
    return (
        select(Referral.opportunity_id, Referral.state, Referral.updated_at, Opportunity.partner_id)
        .join(Opportunity, Opportunity.id == Referral.opportunity_id)
        .where(Referral.participant_id == bindparam("participant_id"))
        .order_by(Referral.id)
    )


def referral_history(session: Session, participant_id: int) -> ReferralHistory:
    rows = session.connection().execute(_history_statement(), {"participant_id": participant_id}).all()
    return ReferralHistory(
        participant_id=participant_id,
        referred_opportunity_ids=frozenset(row.opportunity_id for row in rows),
        refusals=tuple(
            (row.partner_id, row.updated_at.date()) for row in rows if row.state is ReferralState.REFUSED
        ),
    )


# --- The compiled index, kept fresh ---------------------------------------------------------


class _VersionKey(NamedTuple):
    """What is read every `CHECK_EVERY_SECONDS` to know whether the index may have moved."""

    opportunities: tuple[Any, ...]  # count, latest update, sums of versions and places taken
    partners: datetime | None  # latest partner change: a renamed partner shows on its opportunities
    deployments: tuple[Any, ...]  # links, deployed links: where national opportunities stand
    today: date
    hour: datetime  # recent referral counts and answer rates are refreshed every hour


# (updated_at, version) of an opportunity row: it moves with any change of the row, and an
# edit of its criteria or subtypes claims a new version.
Stamp = tuple[datetime | None, int]


@dataclass(frozen=True)
class _Built:
    """What the cache holds for a database: the index and the rows it was read from."""

    index: MatchingIndex
    stamps: dict[int, Stamp]  # every opportunity row the index was built or refreshed from


@dataclass
class _ChangedHere:
    """What this process's own commits changed, so the next call refreshes it at once."""

    opportunity_ids: set[int] = field(default_factory=set)
    partner_ids: set[int] = field(default_factory=set)
    deployments: bool = False
    commits: int = 0  # commits noted and not yet taken into account


# Between two checks of the version key, the index is trusted for this long. This process's own
# commits are taken into account at the next call; other processes' are seen within this delay.
CHECK_EVERY_SECONDS = 1.0
# Beyond this share of changed opportunities, compiling everything again costs less than refreshing.
REBUILD_SHARE = 0.25


# Per database (`database_key`): what this process's commits changed in the index.
_changed_here: dict[str, _ChangedHere] = defaultdict(_ChangedHere)
_changed_lock = threading.Lock()


def _version_key(session: Session, today: date) -> _VersionKey:
    connection = session.connection()
    opportunities = connection.execute(
        select(
            func.count(),
            func.max(Opportunity.updated_at),
            # Edits claim a new version and referrals take places: both sums move even when a
            # late commit brings an older timestamp than the latest one.
            func.sum(Opportunity.version),
            func.sum(Opportunity.places_taken),
        )
    ).one()
    partners = connection.execute(select(func.max(Partner.updated_at))).scalar()
    deployed = case((PartnerTerritory.status == DeploymentStatus.DEPLOYED, 1), else_=0)
    deployments = connection.execute(select(func.count(), func.sum(deployed))).one()
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    return _VersionKey(tuple(opportunities), partners, tuple(deployments), today, hour)


def _stamps(session: Session) -> dict[int, Stamp]:
    rows = session.connection().execute(select(Opportunity.id, Opportunity.updated_at, Opportunity.version))
    return {opportunity_id: (updated_at, version) for opportunity_id, updated_at, version in rows}


def _build(session: Session, key: _VersionKey) -> _Built:
    stamps = _stamps(session)
    snapshots = opportunity_snapshots(session, key.today)
    # Prepared for the day at build time: no request pays for being its territory's first.
    index = MatchingIndex(snapshots, reference_tables(session)).prepare(key.today)
    return _Built(index, stamps)


def _refresh(
    session: Session, cached: _Built, old_key: _VersionKey, key: _VersionKey, changed: _ChangedHere | None
) -> _Built | None:
    """The cached index with only the opportunities that changed read again (every opportunity's figures at
    the turn of the hour or the day), or None when compiling everything again is the way."""
    changed = changed or _ChangedHere()
    if changed.deployments or key.deployments != old_key.deployments:
        return None  # national opportunities move between territories: rare, compiled again
    stamps = _stamps(session)
    every_figure = (key.today, key.hour) != (old_key.today, old_key.hour)
    if every_figure:
        reread: set[int] | None = None
    else:
        reread = {i for i, stamp in stamps.items() if cached.stamps.get(i) != stamp}
        reread |= cached.stamps.keys() - stamps.keys()
        reread |= changed.opportunity_ids
        partner_ids = set(changed.partner_ids)
        if key.partners != old_key.partners:
            if old_key.partners is None:
                return None
            partner_ids |= set(
                session.connection()
                .execute(select(Partner.id).where(Partner.updated_at >= old_key.partners))
                .scalars()
            )
        if partner_ids:
            reread |= set(
                session.connection()
                .execute(select(Opportunity.id).where(Opportunity.partner_id.in_(partner_ids)))
                .scalars()
            )
        if len(reread) > REBUILD_SHARE * max(len(stamps), 1):
            return None
    snapshots = opportunity_snapshots(session, key.today, only=reread)
    read = reread if reread is not None else stamps.keys() | cached.stamps.keys()
    removed = set(read) - {opportunity.id for opportunity in snapshots}
    index = cached.index.updated(snapshots, removed).prepare(key.today)
    return _Built(index, stamps)


# The index of each database: the key read every `CHECK_EVERY_SECONDS` (at once after this
# process's own commits), a refresh of what changed, a build from scratch when it must.
INDEX: VersionedCache[_VersionKey, _Built] = VersionedCache(
    version=_version_key, build=_build, update=_refresh, trust_seconds=CHECK_EVERY_SECONDS
)


def matching_index(session: Session, today: date) -> MatchingIndex:
    """The index of every open opportunity, kept fresh.

    Checked against a cheap version key at most every `CHECK_EVERY_SECONDS` (at once after this
    process's own commits). Opportunities that changed are read again and only their territories
    compiled again (`MatchingIndex.updated`); every opportunity's figures (recent referrals, answer
    rates, the day's freshness) are read again at the turn of each hour. The whole index is
    built from scratch only the first time, after deployments changed, or when many opportunities did.
    """
    database = database_key(session)
    noted = _changed_here.get(database)
    changed = None
    if noted is not None and noted.commits:
        with _changed_lock:
            changed = copy.deepcopy(_changed_here.get(database, _ChangedHere()))
    built = INDEX.get(session, today, changes=changed)
    if changed is not None:
        with _changed_lock:
            # What was taken into account is done; what commits noted meanwhile waits for the next call.
            left = _changed_here.pop(database, _ChangedHere())
            left.commits -= changed.commits
            if left.commits:
                left.opportunity_ids -= changed.opportunity_ids
                left.partner_ids -= changed.partner_ids
                _changed_here[database] = left
    return built.index


def check_index_now(*, hour_turned: bool = False) -> None:
    """Make the next call read the version key (for the benchmark: as if the trust delay had
    passed, and, with `hour_turned`, as if the hour had changed since the index was read)."""
    INDEX.check_now(
        rekey=(lambda key: key._replace(hour=key.hour - timedelta(hours=1))) if hour_turned else None
    )


def forget_index() -> None:
    """Drop every cached index (and reverse matching's tables): the next call builds it from
    scratch."""
    INDEX.forget()
    people_table.forget()
    with _changed_lock:
        _changed_here.clear()


# Rows whose change alters the index: which set of `_ChangedHere` names them, by which column.
_NOTED_IDS: dict[type, tuple[str, str]] = {
    Opportunity: ("opportunity_ids", "id"),
    Criterion: ("opportunity_ids", "opportunity_id"),
    Partner: ("partner_ids", "id"),
}


def _note_index_changes(session: Session, _context: Any) -> None:
    """Before a flush: note which opportunities this transaction touches, for after its commit."""
    noted = _ChangedHere()
    for row in session.new | session.dirty | session.deleted:
        if isinstance(row, PartnerTerritory):
            noted.commits = 1
            noted.deployments = True
            continue
        target = _NOTED_IDS.get(type(row))
        if target is None:
            continue
        noted.commits = 1
        ids, column = target
        value = getattr(row, column)
        if value is not None:  # a new row has no id yet: the count in the version key shows it
            getattr(noted, ids).add(value)
    if noted.commits:
        database = database_key(session)
        on_commit(session, lambda: _merge_changed_here(database, noted))


def _merge_changed_here(database: str, noted: _ChangedHere) -> None:
    with _changed_lock:
        pending = _changed_here[database]
        pending.opportunity_ids |= noted.opportunity_ids
        pending.partner_ids |= noted.partner_ids
        pending.deployments |= noted.deployments
        pending.commits += 1


def install() -> None:
    """Note the opportunities this process's commits change, so that the next call refreshes them
    (called by the application factory and the command line)."""
    if not event.contains(Session, "before_flush", _before_flush_hook):
        event.listen(Session, "before_flush", _before_flush_hook)


def _before_flush_hook(session: Session, context: Any, _instances: Any) -> None:
    _note_index_changes(session, context)


# --- What the services and pages ask ---------------------------------------------------------


def _territory_of(person: Participant) -> int:
    territory_id = person.structure.territory_id
    if territory_id is None:
        # Premières Heures worksites outside a Convergence territory have no partner network yet.
        return 0
    return territory_id


# The participant's columns the engine reads (the rest of the record stays in the database).
SNAPSHOT_COLUMNS = (
    "id",
    "structure_id",
    "programme",
    "entered_on",
    "birth_date",
    "residence_status",
    "residence_permit_expires_on",
    "housing_status",
    "health_coverage",
    "household_size",
    "children",
    "monthly_resources",
    "language_level",
    "driving_licence",
)


def _record_select(today: Any, *extra: Any) -> Select[Any]:
    """The person's columns the engine reads, with their territory, RQTH and the hours of their
    current contracts (and how many contracts they have: none means hours not recorded)."""
    current = (
        (Contract.participant_id == Participant.id)
        & (Contract.starts_on <= today)
        & ((Contract.ends_on.is_(None)) | (Contract.ends_on >= today))
    )
    return (
        select(
            *(getattr(Participant, name) for name in SNAPSHOT_COLUMNS),
            Structure.territory_id,
            HealthRecord.rqth,
            select(func.sum(Contract.weekly_hours)).where(current).scalar_subquery().label("hours"),
            select(func.count(Contract.id))
            .where(Contract.participant_id == Participant.id)
            .scalar_subquery()
            .label("contracts"),
            *extra,
        )
        .join(Structure, Structure.id == Participant.structure_id)
        .outerjoin(HealthRecord, HealthRecord.participant_id == Participant.id)
    )


def _record_snapshot(row: Any, needs: tuple[OpenNeed, ...]) -> ParticipantSnapshot:
    """A row of `_record_select` (participant's columns by name) as the engine's snapshot."""
    return _snapshot(
        row,
        row.territory_id or 0,
        weekly_hours=float(row.hours or 0) if row.contracts else None,
        rqth=row.rqth,
        needs=needs,
    )


@functools.cache
def _snapshot_statement() -> Select[Any]:
    """The person, their territory, RQTH, current weekly hours and open needs (one row per need,
    best priority first; one row with empty need columns when none is open), in one round trip.

    Built once with bound parameters: composing this statement costs more than running it.
    """
    return (
        _record_select(
            bindparam("today", type_=Date()),
            Need.domain_code.label("need_domain"),
            Need.subtype_code.label("need_subtype"),
            Need.priority.label("need_priority"),
            Need.id.label("need_id"),
        )
        .outerjoin(Need, (Need.participant_id == Participant.id) & (Need.status == NeedStatus.OPEN))
        .where(
            Participant.id == bindparam("participant_id"),
            # The scope of `participant_filter`, bound: only the CIP's own structure.
            Participant.structure_id == bindparam("structure_id"),
        )
        .order_by(Need.priority, Need.id)
    )


def load_participant_snapshot(
    session: Session, actor: User, participant_id: int, today: date
) -> ParticipantSnapshot:
    """The person as the engine sees them, read in one plain query (the request's hot path: no
    ORM objects are needed to rank proposals). Out of scope answers like missing."""
    structure_id = readable_records_structure(actor)
    if structure_id is None:
        raise ParticipantNotFound()
    rows = (
        session.connection()
        .execute(
            _snapshot_statement(),
            {"participant_id": participant_id, "structure_id": structure_id, "today": today},
        )
        .all()
    )
    if not rows:
        cases.refused_attempt(session, participant_id)
        raise ParticipantNotFound()
    return _record_snapshot(
        rows[0],
        tuple(
            OpenNeed(row.need_domain, row.need_subtype, row.need_priority, row.need_id)
            for row in rows
            if row.need_domain is not None
        ),
    )


def proposals(session: Session, actor: User, participant_id: int, today: date | None = None) -> ProposalSet:
    """Ranked, explained proposals for one person the actor (their CIP) follows."""
    today = today or clock.today()
    if actor.role is not Role.CIP:
        raise RecordsNotVisible()
    snapshot = load_participant_snapshot(session, actor, participant_id, today)
    record_read(
        session,
        entity="participants",
        entity_id=participant_id,
        participant_id=participant_id,
        what="propositions d'orientation",
    )
    index = matching_index(session, today)
    return index.match(snapshot, today, referral_history(session, participant_id))


def blocking_reasons(
    session: Session, person: Participant, opportunity: Opportunity, today: date
) -> list[str]:
    """Why `person` cannot be referred to `opportunity` today, in French (empty: eligible)."""
    index = matching_index(session, today)
    territory = index.territory(_territory_of(person))
    snapshots = [snapshot for snapshot in territory.opportunities if snapshot.id == opportunity.id]
    if not snapshots:
        return ["cette opportunité n'est pas ouverte sur le territoire de la personne"]
    single = TerritoryIndex(territory.territory_id, snapshots, index.reference)
    ranked = single.match(participant_snapshot(person, _territory_of(person), today), today)
    if opportunity.id in ranked.eligible_ids:
        return []
    return list(ranked.proposal(0).blocking)


@dataclass(frozen=True)
class ReverseMatchView:
    """What a role may see of who fits an opportunity: counts, or a CIP's own people."""

    opportunity_id: int
    total: int
    counts_by_structure: dict[int, int]
    structure_names: dict[int, str]
    own_participants: list[Participant] | None  # only for a CIP


def participant_snapshots(
    session: Session, today: date, territory_ids: Collection[int], *, structure_id: int | None = None
) -> list[ParticipantSnapshot]:
    """The people followed today in these territories (or in one structure of them), as the
    engine sees them: two plain queries, however many they are (a national opportunity's reverse
    matching reads every territory where its partner is deployed)."""
    followed = (
        Structure.territory_id.in_(sorted(territory_ids)),
        Participant.anonymised_at.is_(None),
        # Gone, unless the exit is still ahead or the accompaniment goes on after it.
        (Exit.id.is_(None)) | (Exit.exited_on > today) | Exit.continued_accompaniment.is_(True),
        true() if structure_id is None else Participant.structure_id == structure_id,
    )
    connection = session.connection()
    people = connection.execute(
        _record_select(today)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(*followed)
        .order_by(Participant.id)
    ).all()
    needs: dict[int, list[OpenNeed]] = defaultdict(list)
    for participant_id, domain, subtype, priority, need_id in connection.execute(
        select(Need.participant_id, Need.domain_code, Need.subtype_code, Need.priority, Need.id)
        .join(Participant, Participant.id == Need.participant_id)
        .join(Structure, Structure.id == Participant.structure_id)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(Need.status == NeedStatus.OPEN, *followed)
        .order_by(Need.participant_id, Need.priority, Need.id)
    ):
        needs[participant_id].append(OpenNeed(domain, subtype, priority, need_id))
    return [_record_snapshot(person, tuple(needs.get(person.id, ()))) for person in people]


def reverse_matches(
    session: Session, actor: User, opportunity_id: int, today: date | None = None
) -> ReverseMatchView:
    """Who fits a published opportunity: counts per structure for CPs and coordinators, and for
    a CIP their own fitting people (never another structure's: only theirs are read)."""
    today = today or clock.today()
    opportunity = get_opportunity(session, actor, opportunity_id)
    is_cip = actor.role is Role.CIP
    index = matching_index(session, today)
    snapshot = next(
        (candidate for candidate in index.opportunities() if candidate.id == opportunity.id), None
    )
    if snapshot is None:
        return ReverseMatchView(opportunity.id, 0, {}, {}, [] if is_cip else None)
    own_structure = readable_records_structure(actor) if is_cip else None
    if is_cip and own_structure is None:
        return ReverseMatchView(opportunity.id, 0, {}, {}, [])
    if own_structure is None:
        # Counts for the staff: the table of everyone followed there, kept while no record changes.
        table = people_table.kept_table(
            session,
            today,
            snapshot.territory_ids,
            index.reference,
            lambda: ParticipantTable(
                participant_snapshots(session, today, snapshot.territory_ids), index.reference, today
            ),
        )
    else:
        people = participant_snapshots(session, today, snapshot.territory_ids, structure_id=own_structure)
        table = ParticipantTable(people, index.reference, today)
    match: ReverseMatch = reverse_match(snapshot, table)
    names = dict(
        session.execute(
            select(Structure.id, Structure.name).where(Structure.id.in_(list(match.counts_by_structure)))
        ).all()
    )
    if is_cip:
        assert own_structure is not None  # a CIP without a structure was answered above
        own = list(
            session.scalars(
                select(Participant)
                .where(Participant.id.in_(match.participant_ids), participant_filter(actor))
                .order_by(Participant.id)
            )
        )
        # A list of the CIP's people by name: each one shown is a read of their record.
        record_reads(
            session,
            [
                ReadEntry("participants", person.id, person.id, "correspondance à une opportunité")
                for person in own
            ],
        )
        counts = {own_structure: len(own)} if own else {}
        return ReverseMatchView(opportunity.id, len(own), counts, {k: names[k] for k in counts}, own)
    return ReverseMatchView(opportunity.id, match.total, dict(match.counts_by_structure), names, None)
