"""The demo seed at any size (`referral seed --demo-participants N`), the same people for the same
seed and date, on SQLite and PostgreSQL.

At 200 people some generated exits fall before a contract that was already drawn; the generator
drops that contract, which used to leave a contract without a person (`NOT NULL … participant_id`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.orm import Session, selectinload

from referral.cases.demo import generate_participants
from referral.cases.models import Contract, Exit, FollowUp, Participant
from referral.seeding import DEMO_TERRITORY, load_seed_file, seed_all
from referral.territories.models import Territory

TODAY = date(2026, 12, 1)
# Generated columns that depend on the database (ids) or on the wall clock, not on the seed.
NOT_GENERATED = {"id", "participant_id", "exit_id", "structure_id", "referent_id", "created_at", "updated_at"}


def _values(row: Any) -> tuple[Any, ...]:
    if row is None:
        return ()
    mapper = inspect(row).mapper
    return tuple(
        (column.key, getattr(row, column.key))
        for column in mapper.column_attrs
        if column.key not in NOT_GENERATED
    )


def _people(session: Session, ids: set[int]) -> list[tuple[Any, ...]]:
    """Everything generated about these people, without ids, in a stable order."""
    people = session.scalars(
        select(Participant)
        .where(Participant.id.in_(ids))
        .options(
            selectinload(Participant.structure),
            selectinload(Participant.referent),
            selectinload(Participant.contracts),
            selectinload(Participant.needs),
            selectinload(Participant.consents),
            selectinload(Participant.external_referents),
            selectinload(Participant.health_record),
            selectinload(Participant.renewals),
            selectinload(Participant.exit),
            selectinload(Participant.follow_ups),
        )
    ).all()
    return sorted(
        (
            _values(person),
            person.structure.key,
            person.referent.email if person.referent else None,
            sorted(_values(row) for row in person.contracts),
            sorted(_values(row) for row in person.needs),
            sorted(_values(row) for row in person.consents),
            sorted(_values(row) for row in person.external_referents),
            _values(person.health_record),
            sorted(_values(row) for row in person.renewals),
            _values(person.exit),
            sorted(_values(row) for row in person.follow_ups),
        )
        for person in people
    )


def _generate(session: Session, count: int, random_seed: int, today: date) -> int:
    """The people part of `seed_all` (the reference data is in the demo database already)."""
    return generate_participants(
        session,
        count=count,
        random_seed=random_seed,
        weights=load_seed_file("demo.toml")["participants"],
        demo_territory_id=session.scalar(select(Territory.id).where(Territory.slug == DEMO_TERRITORY)),
        today=today,
    )


def _seed_and_describe(session: Session, count: int, random_seed: int) -> list[tuple[Any, ...]]:
    before = set(session.scalars(select(Participant.id)))
    assert _generate(session, count, random_seed, TODAY) == count
    created = set(session.scalars(select(Participant.id))) - before
    assert len(created) == count
    return _people(session, created)


def _assert_exits_close_the_contracts(session: Session) -> None:
    """After an exit no contract starts or runs on (the generator trims them)."""
    late = session.scalar(
        select(func.count())
        .select_from(Contract)
        .join(Exit, Exit.participant_id == Contract.participant_id)
        .where(
            or_(
                Contract.starts_on > Exit.exited_on,
                Contract.ends_on.is_(None),
                Contract.ends_on > Exit.exited_on,
            )
        )
    )
    assert late == 0
    without_contract = session.scalar(
        select(func.count())
        .select_from(Participant)
        .where(~select(Contract.id).where(Contract.participant_id == Participant.id).exists())
    )
    assert without_contract == 0


def test_two_hundred_people_twice_are_the_same_people(session: Session) -> None:
    first_run = session.begin_nested()
    first = _seed_and_describe(session, 200, random_seed=11)
    _assert_exits_close_the_contracts(session)
    exits = session.scalar(select(func.count()).select_from(Exit))
    first_run.rollback()

    second_run = session.begin_nested()
    second = _seed_and_describe(session, 200, random_seed=11)
    second_run.rollback()

    assert exits > 0
    assert first == second
    # Another seed is other people.
    other_run = session.begin_nested()
    other = _seed_and_describe(session, 200, random_seed=12)
    other_run.rollback()
    assert {person[0] for person in other}.isdisjoint({person[0] for person in first})


def test_another_day_moves_the_dates_not_the_people(session: Session) -> None:
    run = session.begin_nested()
    before = set(session.scalars(select(Participant.id)))
    _generate(session, 40, 11, TODAY)
    people = session.scalars(select(Participant).where(Participant.id.not_in(before))).all()
    identities = sorted((p.first_name, p.last_name, p.birth_date) for p in people)
    run.rollback()

    run = session.begin_nested()
    _generate(session, 40, 11, date(2027, 3, 15))
    later = session.scalars(select(Participant).where(Participant.id.not_in(before))).all()
    assert sorted((p.first_name, p.last_name, p.birth_date) for p in later) == identities
    assert max(p.entered_on for p in later) > max(p.entered_on for p in people)
    run.rollback()


def test_two_thousand_people(session: Session) -> None:
    report = seed_all(session, demo_participants=2000, random_seed=13, today=TODAY)
    session.flush()
    assert report.counts["salarié·es créé·es"] == 2000
    _assert_exits_close_the_contracts(session)
    exits = session.scalar(select(func.count()).select_from(Exit))
    assert exits > 100
    # Every exit has its two follow-ups, 6 and 12 months later.
    assert session.scalar(select(func.count()).select_from(FollowUp)) >= 2 * exits
    unmatched = session.scalar(
        select(func.count())
        .select_from(Exit)
        .where(
            ~select(FollowUp.id)
            .where(and_(FollowUp.participant_id == Exit.participant_id, FollowUp.due_on > Exit.exited_on))
            .exists()
        )
    )
    assert unmatched == 0
