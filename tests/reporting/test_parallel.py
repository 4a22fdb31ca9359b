"""A report's parts read side by side (`reporting/parallel.py`): the same figures as read one after
the other, all of one moment, and read on the request's own connection when readers could not
see what it sees.

These tests need committed rows that other connections can read: the hand-built dataset is
written once into a database of this module's own (not the rolled-back connection of the other
tests), and a test that adds a row removes it before it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from referral.cases.models import Participant
from referral.db import Database
from referral.reporting import indicators, parallel
from referral.reporting.context import Context, Period, Scope
from referral.reporting.figures import Report, cell_value
from referral.schema import upgrade
from referral.territories.models import Territory
from tests.conftest import fresh_engine
from tests.reporting import dataset
from tests.reporting.dataset import END, START, TODAY

NEWCOMER = "Nouvelle"


@pytest.fixture(scope="module")
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    engine: Engine = fresh_engine(backend, "parallel_reading", tmp_path_factory)
    upgrade(engine)
    database = Database(engine)
    with database.atomic() as session:
        dataset.build(session)
    yield database
    engine.dispose()


@pytest.fixture
def lyon(database: Database) -> Scope:
    with database.session() as session:
        territory_id = session.scalars(select(Territory.id).where(Territory.slug == "lyon")).one()
    return Scope("territory", territory_id, "Lyon", protected=False, slug_or_id="lyon")


def context(session: Session, scope: Scope) -> Context:
    return Context(session, scope, Period(START, END), None, TODAY)


def people(report: Report) -> object:
    return cell_value(report.table("activity").cell("people", "total"))


def open_needs(report: Report) -> object:
    return cell_value(report.table("needs_without_answer").cell("total", "open"))


def add_newcomer(session: Session) -> None:
    """A person of Lyon's structure A who entered in the period with an open need."""
    structure_id = session.scalars(
        select(Participant.structure_id).where(Participant.first_name == "Bruno")
    ).one()
    newcomer = dataset.person(session, structure_id, NEWCOMER, "Venue", "2026-07-01")
    dataset.need(session, newcomer, "logement", "2026-07-02")


@pytest.fixture
def remove_newcomer(database: Database) -> Iterator[None]:
    yield
    with database.atomic() as session:
        session.execute(delete(Participant).where(Participant.first_name == NEWCOMER))


def test_the_parts_read_side_by_side_give_the_report_read_one_after_the_other(
    database: Database, lyon: Scope, monkeypatch: pytest.MonkeyPatch
) -> None:
    national = Scope("all", None, "Tous les territoires", protected=False)
    for scope in (lyon, national):
        with database.session() as session:
            side_by_side = indicators.compute(context(session, scope))
        monkeypatch.setattr(parallel, "READERS", 1)
        with database.session() as session:
            one_by_one = indicators.compute(context(session, scope))
        monkeypatch.setattr(parallel, "READERS", 2)
        assert side_by_side == one_by_one
        assert people(side_by_side) == (6 if scope is lyon else 7)


def test_two_readers_share_the_parts_on_connections_of_their_own(database: Database, lyon: Scope) -> None:
    seen: list[tuple[str, bool]] = []
    # Each part waits for the other reader's: read one after the other, they would time out.
    together = threading.Barrier(2, timeout=10)

    def part(name: str) -> object:
        def read(ctx: Context) -> tuple[str, int]:
            together.wait()
            seen.append((threading.current_thread().name, ctx.session is request))
            return name, ctx.session.scalar(select(func.count()).select_from(Participant)) or 0

        return read

    with database.session() as request:
        results = parallel.read_parts(context(request, lyon), [part(n) for n in "abcd"], lambda _ctx: None)
    assert results == [("a", 9), ("b", 9), ("c", 9), ("d", 9)]  # in the order asked, whoever read them
    assert len({thread for thread, _ in seen}) == 2
    assert not any(on_request for _, on_request in seen)


def test_a_commit_while_the_readers_start_is_seen_by_none_of_them(
    database: Database, lyon: Scope, remove_newcomer: None
) -> None:
    with database.session() as session:
        before = indicators.compute(context(session, lyon))
    committed = []

    def prepare(ctx: Context) -> None:
        # Another worker commits while the readers are being set up: after the first has its
        # snapshot, before the parts are read.
        if not committed:
            with database.atomic() as other:
                add_newcomer(other)
            committed.append(True)
        indicators.prepare(ctx)

    with database.session() as session:
        parts = parallel.read_parts(context(session, lyon), indicators.PARTS, prepare)
    assert committed
    tables = {table.key: table for tables in parts for table in tables}
    assert tables["activity"] == before.table("activity")
    assert tables["needs_without_answer"] == before.table("needs_without_answer")

    with database.session() as session:
        after = indicators.compute(context(session, lyon))
    assert people(after) == people(before) + 1  # type: ignore[operator]
    assert open_needs(after) == open_needs(before) + 1  # type: ignore[operator]


def test_what_the_request_changed_and_did_not_commit_is_counted(database: Database, lyon: Scope) -> None:
    """Other connections cannot see a change not yet committed, flushed or not: the request
    reads the report itself."""
    with database.session() as session:
        before = indicators.compute(context(session, lyon))
        add_newcomer(session)
        during = indicators.compute(context(session, lyon))
        session.rollback()
    assert people(during) == people(before) + 1  # type: ignore[operator]
    assert open_needs(during) == open_needs(before) + 1  # type: ignore[operator]
    with database.session() as session:
        assert indicators.compute(context(session, lyon)) == before
        # Not even flushed yet: the request's own reading flushes it first.
        farid = session.scalars(select(Participant).where(Participant.first_name == "Farid")).one()
        farid.entered_on = date(2025, 4, 1)
        pending = indicators.compute(context(session, lyon))
        session.rollback()
    entries = before.table("activity").cell("entries", "total")
    assert cell_value(pending.table("activity").cell("entries", "total")) == cell_value(entries) - 1  # type: ignore[operator]


def test_rows_committed_after_the_request_began_on_sqlite(
    database: Database, lyon: Scope, backend: str, remove_newcomer: None
) -> None:
    """SQLite: readers cannot share the request's snapshot; when another worker committed since
    the request's first read, the report is read on the request's connection — what the request
    has seen all along. PostgreSQL: the request's snapshot is taken when the report starts
    (READ COMMITTED), and every reader has it."""
    with database.session() as session:
        before = people(indicators.compute(context(session, lyon)))
    with database.session() as session:
        session.scalar(select(func.count()).select_from(Participant))  # the request has read
        with database.atomic() as other:
            add_newcomer(other)
        report = indicators.compute(context(session, lyon))
    expected = before if backend == "sqlite" else before + 1  # type: ignore[operator]
    assert people(report) == expected


def test_sqlite_has_no_more_readers_than_the_process_has_cores(
    database: Database, lyon: Scope, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On one CPU, SQLite's readers (in this process) would take turns: the request reads alone.
    PostgreSQL's server may have its own cores: its readers stay."""
    monkeypatch.setattr(parallel, "_cores", lambda: 1)
    threads = set()
    # Where two readers are expected, each part waits for the other's (as above).
    together = threading.Barrier(1 if backend == "sqlite" else 2, timeout=10)

    def part(_ctx: Context) -> None:
        together.wait()
        threads.add(threading.current_thread())

    with database.session() as session:
        parallel.read_parts(context(session, lyon), [part, part, part, part], lambda _ctx: None)
    if backend == "sqlite":
        assert threads == {threading.current_thread()}
    else:
        assert len(threads) == 2


def test_one_structure_s_report_is_read_by_the_request_alone(
    database: Database, lyon: Scope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A structure's few dozen people are read faster than readers are started."""

    def no_readers(*_args: object) -> None:
        raise AssertionError("readers started for one structure")

    monkeypatch.setattr(parallel, "_readers", no_readers)
    with database.session() as session:
        structure_id = session.scalars(
            select(Participant.structure_id).where(Participant.first_name == "Bruno")
        ).one()
        scope = Scope("structure", structure_id, "A", protected=False, territory_id=lyon.id)
        report = indicators.compute(context(session, scope))
    assert people(report) == 3  # Alice (twice), Bruno, Chloé of structure A: three people


def test_a_failing_part_fails_the_report_and_gives_the_connections_back(
    database: Database, lyon: Scope
) -> None:
    def fail(_ctx: Context) -> None:
        raise ValueError("part failed")

    def read(ctx: Context) -> int:
        return ctx.session.scalar(select(func.count()).select_from(Participant)) or 0

    pool = database.engine.pool
    with database.session() as session:
        session.scalar(select(func.count()).select_from(Participant))
        checked_out = pool.checkedout()  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="part failed"):
            parallel.read_parts(context(session, lyon), [read, fail, read], lambda _ctx: None)
        assert pool.checkedout() == checked_out  # type: ignore[attr-defined]


def test_a_single_connection_reads_every_part_itself(empty_session: Session) -> None:
    """The tests' rolled-back connection (like an in-memory database) is the only one that sees
    its rows: every part is read on it, in the calling thread."""
    world = dataset.build(empty_session)
    scope = Scope("territory", world.lyon.id, "Lyon", protected=False, slug_or_id="lyon")
    threads = []

    def part(ctx: Context) -> bool:
        threads.append(threading.current_thread())
        return ctx.session is empty_session

    assert (
        parallel.read_parts(context(empty_session, scope), [part, part, part], lambda _ctx: None)
        == [True] * 3
    )
    assert threads == [threading.current_thread()] * 3


def test_every_part_of_every_section_is_read_once() -> None:
    in_sections = [part for _key, _title, parts in indicators.SECTIONS for part in parts]
    assert sorted(in_sections, key=id) == sorted(indicators.PARTS, key=id)
    assert len(set(indicators.PARTS)) == len(indicators.PARTS)
