"""Database plumbing: the declarative base, column types, engines, sessions and `atomic()`.

Nothing here is built at import time: `Database` objects are created by `create_app()` (for the
web), by the CLI (for commands) and by the test fixtures, each from a URL or an open connection.

Transactions follow one rule (STYLE §5): services flush and never commit; exactly one place
commits — the request wrapper for the web, `Database.atomic()` for commands and jobs. Side effects
that must only happen once the data is really stored (notifications, scheduling) are registered
with `on_commit()` and receive ids, never ORM objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    Float,
    MetaData,
    create_engine,
    event,
    func,
    literal_column,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Connection, CursorResult, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from referral import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, aware in UTC (the one clock says it; kept here for the models' defaults)."""
    return clock.now()


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no time zone; PostgreSQL's ``timestamptz`` does. This type makes both behave the
    same: naive datetimes are refused on the way in (a silent local-time guess is how follow-up
    dates drift by an hour), and values come back aware in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column; use an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry their French label: ``Programme.CVG.label``."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    if TYPE_CHECKING:
        # `Programme("CVG")` looks a member up by its value alone: `__new__` above only builds the
        # members, but mypy reads the call's signature from it (python/mypy#10573).
        def __init__(self, value: str) -> None: ...

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


def enum_type(enum_class: type[enum.Enum], name: str) -> SAEnum:
    """A portable enum column: VARCHAR plus a named CHECK constraint listing the values."""
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
        length=max(len(member.value) for member in enum_class),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[Any]: JSON(),
    }


# SQLSTATEs of a conflict between transactions on PostgreSQL: serialization failure, deadlock,
# lock not available. Trying again is the answer to each.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_concurrency_conflict(error: DBAPIError) -> bool:
    """Whether a database error is a conflict with another transaction rather than a fault."""
    original = error.orig
    if getattr(original, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    message = str(original).lower()
    return "database is locked" in message or "database table is locked" in message


# Execution option naming how a SQLite transaction begins (see `Database.session(write=True)`).
SQLITE_BEGIN = "referral_sqlite_begin"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`, with SQLite made to behave like a real transactional database."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            options.setdefault("poolclass", StaticPool)
            options.setdefault("connect_args", {"check_same_thread": False})
        else:
            options.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **options)
        _make_sqlite_transactional(engine, in_file=url not in ("sqlite://", "sqlite:///:memory:"))
        return engine
    # Connections are recycled rather than pinged before each use: a ping costs a round trip
    # on every request, recycling bounds how stale a pooled connection can get.
    options.setdefault("pool_recycle", 1800)
    return create_engine(url, **options)


def _make_sqlite_transactional(engine: Engine, *, in_file: bool) -> None:
    """Enforce foreign keys and let SQLAlchemy, not the driver, open transactions.

    Python's sqlite3 module starts transactions lazily and on its own terms, which breaks
    SAVEPOINT and transactional DDL; the documented SQLAlchemy recipe hands that back to us.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if in_file:
            # Write-ahead log: readers never wait for the writer, and a commit costs an append
            # rather than a full journal sync (synchronous=NORMAL is durable in WAL mode up to
            # the last checkpointed transaction on power loss, never corrupt).
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A transaction that will write takes SQLite's write lock at once (BEGIN IMMEDIATE),
        # waiting up to the busy timeout for it. Begun as a reader, it would fail without waiting
        # ("database is locked") when another writer committed since its first read — the
        # loser of two simultaneous submits got a 500.
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def days_between_timestamps(dialect: str, earlier: Any, later: Any) -> ColumnElement[Any]:
    """Days, with decimals, from the timestamp `earlier` to `later`, computed by the database of
    `dialect` (NULL when either is). SQLite stores the UTC timestamps as text, which `julianday`
    reads. PostgreSQL: `date_part`, a double precision, not `EXTRACT`, a numeric, whose
    arithmetic was a third of the indicators' grouping of referrals and whose values come back
    as `Decimal`s. (`op`: SQLAlchemy's `/` would cast the divisor to numeric.)"""
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    seconds = func.date_part(literal_column("'epoch'"), later - earlier, type_=Float)
    return seconds.op("/")(literal_column("86400"))


def assign_changed(row: Any, **values: Any) -> bool:
    """Set only the attributes whose value differs; tell whether anything changed.

    Seeding and imports use it so that loading the same data twice writes nothing the second
    time (no spurious update times, no audit noise).
    """
    changed = False
    for name, value in values.items():
        if getattr(row, name, None) != value:
            setattr(row, name, value)
            changed = True
    return changed


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE run by `Session.execute()` matched.

    Such a statement returns a `CursorResult`, which has the count; SQLAlchemy types
    `Session.execute()` as returning a plain `Result` whatever the statement.
    """
    return cast("CursorResult[Any]", result).rowcount


@contextmanager
def side_transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A short transaction beside the caller's unit of work, committed as soon as the block ends.

    For bookkeeping that must neither wait for the request's commit nor keep a lock until then
    (a token's last use). On an engine it runs on a connection of its own; on a connection (the
    tests run inside one outer transaction) it is a savepoint of it, so the test sees it and
    rolls it back with the rest.
    """
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin() as connection:
            yield connection


OnCommitCallback = Callable[[], None]


def on_commit(session: Session, callback: OnCommitCallback) -> None:
    """Run `callback` once the current transaction is committed; dropped if it rolls back."""
    session.info.setdefault("on_commit", []).append(callback)


def run_on_commit_callbacks(session: Session) -> None:
    callbacks: list[OnCommitCallback] = session.info.pop("on_commit", [])
    for callback in callbacks:
        callback()


def discard_on_commit_callbacks(session: Session) -> None:
    session.info.pop("on_commit", None)


class Database:
    """An engine (or an open connection, in tests) and the sessions made from it."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        options: dict[str, Any] = {"expire_on_commit": False, "autoflush": True}
        if isinstance(bind, Connection):
            # Tests run inside an outer transaction rolled back after each test: the
            # application's own commits become savepoints of it.
            options["join_transaction_mode"] = "create_savepoint"
        self.session_factory = sessionmaker(bind=bind, **options)
        self._write_bind: Engine | None = None

    @classmethod
    def from_url(cls, url: str, **engine_options: Any) -> Database:
        return cls(make_engine(url, **engine_options))

    @property
    def engine(self) -> Engine:
        return self.bind if isinstance(self.bind, Engine) else self.bind.engine

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = False) -> Session:
        """A session; `write` when its work will write (on SQLite: take the write lock at begin)."""
        if write and isinstance(self.bind, Engine) and self.dialect_name == "sqlite":
            if self._write_bind is None:
                self._write_bind = self.bind.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            return self.session_factory(bind=self._write_bind)
        return self.session_factory()

    @contextmanager
    def atomic(self) -> Iterator[Session]:
        """One unit of work for a command or a job: commit at the end, roll back on any error.

        Code inside never commits; nested atomic work uses ``session.begin_nested()``.
        """
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            discard_on_commit_callbacks(session)
            raise
        finally:
            session.close()
        run_on_commit_callbacks(session)

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()
