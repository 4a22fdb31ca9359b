"""The per-process cache of a value built from the database, kept fresh by its version key.

No table is read: the version key comes from a plain dict standing for each database's rows, so
each test says exactly when the key moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from referral.audit.models import AuditEntry
from referral.versioned_cache import KeptValues, VersionedCache, database_key, install


@dataclass
class Rows:
    """Each database's rows as a version number, and the calls the cache made."""

    version: dict[str, int] = field(default_factory=dict)
    versions_read: int = 0
    builds: list[int] = field(default_factory=list)
    updates: list[tuple[int, int, object]] = field(default_factory=list)
    update_declines: bool = False

    def read_version(self, session: Session, *args: object) -> tuple[int, tuple[object, ...]]:
        self.versions_read += 1
        return self.version.setdefault(database_key(session), 1), args

    def build(self, session: Session, key: tuple[int, tuple[object, ...]]) -> list[int]:
        self.builds.append(key[0])
        return [key[0]]

    def update(
        self,
        session: Session,
        value: list[int],
        old: tuple[int, tuple[object, ...]],
        new: tuple[int, tuple[object, ...]],
        changes: object,
    ) -> list[int] | None:
        self.updates.append((old[0], new[0], changes))
        if self.update_declines:
            return None
        value.append(new[0])  # updated in place
        return value


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
def engines() -> Iterator[tuple[Engine, Engine]]:
    first, second = create_engine("sqlite://"), create_engine("sqlite://")
    yield first, second
    first.dispose()
    second.dispose()


@pytest.fixture
def lyon(engines: tuple[Engine, Engine]) -> Iterator[Session]:
    with Session(engines[0]) as session:
        yield session


@pytest.fixture
def paris(engines: tuple[Engine, Engine]) -> Iterator[Session]:
    with Session(engines[1]) as session:
        yield session


def cache(rows: Rows, *, update: bool = False, trust_seconds: float = 0.0) -> VersionedCache:
    return VersionedCache(
        version=rows.read_version,
        build=rows.build,
        update=rows.update if update else None,
        trust_seconds=trust_seconds,
    )


def test_the_value_is_built_once_while_the_key_holds(rows: Rows, lyon: Session) -> None:
    values = cache(rows)
    first = values.get(lyon)
    assert values.get(lyon) is first
    assert values.get(lyon) is first
    assert rows.builds == [1]
    assert rows.versions_read == 3  # no trust delay: the key is read at every call


def test_a_new_key_builds_the_value_again(rows: Rows, lyon: Session) -> None:
    values = cache(rows)
    assert values.get(lyon) == [1]
    rows.version[database_key(lyon)] = 2
    assert values.get(lyon) == [2]
    # A rolled-back change: the key goes back, and so does the value.
    rows.version[database_key(lyon)] = 1
    assert values.get(lyon) == [1]
    assert rows.builds == [1, 2, 1]


def test_a_new_key_updates_the_value_when_update_can(rows: Rows, lyon: Session) -> None:
    values = cache(rows, update=True)
    first = values.get(lyon)
    rows.version[database_key(lyon)] = 2
    assert values.get(lyon) is first
    assert first == [1, 2]
    assert rows.builds == [1]
    assert rows.updates == [(1, 2, None)]

    rows.update_declines = True
    rows.version[database_key(lyon)] = 3
    assert values.get(lyon) == [3]
    assert rows.builds == [1, 3]
    assert rows.updates[-1] == (2, 3, None)


def test_each_database_has_its_own_value(rows: Rows, lyon: Session, paris: Session) -> None:
    assert database_key(lyon) != database_key(paris)
    values = cache(rows)
    rows.version[database_key(paris)] = 7
    assert values.get(lyon) == [1]
    assert values.get(paris) == [7]
    rows.version[database_key(paris)] = 8
    assert values.get(paris) == [8]
    assert values.get(lyon) == [1]
    assert rows.builds == [1, 7, 8]


def test_forget_drops_one_database_or_all(rows: Rows, lyon: Session, paris: Session) -> None:
    values = cache(rows, update=True)
    values.get(lyon)
    values.get(paris)
    values.forget(lyon)
    values.get(lyon)
    values.get(paris)
    assert rows.builds == [1, 1, 1]  # lyon built again, from scratch (no update)
    assert rows.updates == []
    values.forget()
    values.get(lyon)
    values.get(paris)
    assert len(rows.builds) == 5


def test_within_the_trust_delay_the_key_is_not_read(rows: Rows, lyon: Session) -> None:
    values = cache(rows, trust_seconds=3600.0)
    values.get(lyon, "lundi")
    rows.version[database_key(lyon)] = 2
    assert values.get(lyon, "lundi") == [1]  # trusted: another process's change waits
    assert rows.versions_read == 1

    values.check_now()
    assert values.get(lyon, "lundi") == [2]
    assert rows.versions_read == 2


def test_the_value_is_trusted_only_for_the_arguments_it_was_read_with(rows: Rows, lyon: Session) -> None:
    values = cache(rows, trust_seconds=3600.0)
    values.get(lyon, "lundi")
    values.get(lyon, "mardi")
    assert rows.versions_read == 2
    assert rows.builds == [1, 1]  # the key holds the day: a new day is a new key


def test_changes_noted_here_are_taken_at_once_and_given_to_update(rows: Rows, lyon: Session) -> None:
    values = cache(rows, update=True, trust_seconds=3600.0)
    values.get(lyon)
    # The key did not move (or not yet), but this process says what it changed.
    values.get(lyon, changes={"opportunity_ids": {4}})
    assert rows.versions_read == 2
    assert rows.updates == [(1, 1, {"opportunity_ids": {4}})]
    assert rows.builds == [1]


def test_check_now_may_change_the_remembered_keys(rows: Rows, lyon: Session) -> None:
    values = cache(rows, update=True, trust_seconds=3600.0)
    values.get(lyon)
    values.check_now(rekey=lambda key: (key[0] - 1, key[1]))
    values.get(lyon)
    assert rows.updates == [(0, 1, None)]


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_a_flush_of_this_process_makes_the_key_read_at_once(rows: Rows, lyon: Session) -> None:
    install()
    watched = VersionedCache(
        version=rows.read_version, build=rows.build, trust_seconds=3600, check_after_flush=True
    )
    blind = cache(rows, trust_seconds=3600)
    watched.get(lyon)
    blind.get(lyon)
    read = rows.versions_read
    assert (watched.get(lyon), blind.get(lyon)) == ([1], [1])
    assert rows.versions_read == read  # trusted

    _Base.metadata.create_all(lyon.connection())
    AuditEntry.__table__.create(lyon.connection())  # every flush is audited (hooks.install)
    lyon.add(Thing(id=1))
    lyon.flush()
    watched.get(lyon)
    blind.get(lyon)
    assert rows.versions_read == read + 1  # only the cache that watches flushes read its key
    watched.get(lyon)
    assert rows.versions_read == read + 1  # and once


def test_kept_values_drop_the_least_recently_used() -> None:
    kept = KeptValues(2)
    assert kept.get("a", lambda: 1) == 1
    assert kept.get("a", lambda: 2) == 1
    kept.get("b", lambda: 3)
    kept.get("a", lambda: 4)  # "a" used last: "b" goes first
    kept.get("c", lambda: 5)
    assert list(kept.values) == ["a", "c"]
