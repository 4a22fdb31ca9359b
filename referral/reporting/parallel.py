"""A report's parts read side by side, on a few connections that see the same data.

Why: a report is some thirty grouped statements in six independent parts, and the database
spends its time in them one after the other on one core — the national report about a second on
the benchmark's data, twice pandas' time on the same rows (issue 17, point 11). Two connections
reading two parts at once use the machine's second core (SQLite's library and PostgreSQL's
server processes both work outside Python's lock).

The figures must still be of one moment: a part read before a commit and another after it would
disagree (entries counted without their exits). So every reader sees one snapshot:
- PostgreSQL: the request's transaction exports its snapshot (`pg_export_snapshot`), and each
  reader opens a read-only REPEATABLE READ transaction on it (`SET TRANSACTION SNAPSHOT`);
- SQLite: a reader's snapshot is fixed by its first read (write-ahead log), and cannot be
  shared; the readers start together and check that they and the request see the same rows
  (`cache.rows_version`, the highest id of every table counted). If another worker added a row
  in between, the report is read on the request's own connection, as without readers. (An edit
  in place in that instant of a few milliseconds is not seen by that check.)

Read one after the other on the request's session instead — same figures, one core — when
there is a single connection to the database (an in-memory database, the tests' rolled-back
connection: another connection would not see the uncommitted rows), or when the request holds
changes to what the indicators count that it has not committed, flushed or not (other
connections cannot see them).
"""

from __future__ import annotations

import os
import queue
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from referral.db import SQLITE_BEGIN
from referral.reporting import cache
from referral.reporting.context import Context

T = TypeVar("T")
# Two: the benchmark machine has two cores, and a report's parts split into two even halves
# (`indicators.PARTS`). A third reader would wait for a core. SQLite reads in this process: it
# has no more readers than the process has cores (`_readers_for`).
READERS = 2
SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def read_parts(
    ctx: Context,
    parts: Sequence[Callable[[Context], T]],
    prepare: Callable[[Context], None],
) -> list[T]:
    """Each part's result, in the order given, read by up to `READERS` connections at once,
    each first set up by `prepare`. Parts are handed out in that order as readers come free:
    put the longest first."""

    def alone() -> list[T]:
        prepare(ctx)
        return [part(ctx) for part in parts]

    readers = min(_readers_for(ctx), len(parts))
    if readers < 2 or not _can_share(ctx):
        return alone()
    with _readers(ctx, readers, prepare) as contexts:
        if contexts is None:
            return alone()
        waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(parts)):
            waiting.put(index)
        results: dict[int, T] = {}

        def work(reader: Context) -> None:
            while True:
                try:
                    index = waiting.get_nowait()
                except queue.Empty:
                    return
                results[index] = parts[index](reader)

        with ThreadPoolExecutor(len(contexts) - 1, thread_name_prefix="report-reader") as pool:
            others = [pool.submit(work, reader) for reader in contexts[1:]]
            try:
                work(contexts[0])
            finally:
                # Every reader has stopped before its session is closed, whatever failed first.
                for other in others:
                    other.exception()
            for other in others:
                other.result()
        return [results[index] for index in range(len(parts))]


def _readers_for(ctx: Context) -> int:
    """How many readers for this report.

    - One structure's: a few milliseconds of reading (its few dozen people), less than it costs
      to start readers (the benchmark's largest structure, SQLite: 17 ms alone, 23 ms with two).
    - PostgreSQL reads in its server's processes, maybe on another machine: `READERS`.
    - SQLite reads in this process, whose cores may be fewer (one CPU: two readers would only
      take turns)."""
    if ctx.scope.kind == "structure":
        return 1
    if not ctx.sqlite:
        return READERS
    return min(READERS, _cores())


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system (macOS)
        return os.cpu_count() or 1


def _can_share(ctx: Context) -> bool:
    bind = ctx.session.get_bind()
    if not isinstance(bind, Engine) or isinstance(bind.pool, (StaticPool, SingletonThreadPool)):
        return False
    return not cache.has_unsaved_edits(ctx.session)


@contextmanager
def _readers(ctx: Context, count: int, prepare: Callable[[Context], None]) -> Iterator[list[Context] | None]:
    """`count` contexts of the report on sessions of their own that see what `ctx` sees, or
    None when that cannot be had (SQLite: rows added meanwhile). Their transactions are rolled
    back at the end: a reader never writes."""
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    with ExitStack() as stack:
        sessions = [stack.enter_context(Session(engine)) for _ in range(count)]
        if ctx.sqlite:
            # Readers begin as readers (the request may have begun as a writer, BEGIN
            # IMMEDIATE: a second one would wait for its lock).
            for session in sessions:
                session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
            seen = cache.rows_version(ctx.session)
            if any(cache.rows_version(session) != seen for session in sessions):
                yield None
                return
        else:
            snapshot = ctx.session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            # SET takes no parameter: the identifier is written in, once known to be one
            # (hexadecimal words and dashes, as « 00000003-0000001B-1 »).
            if not SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"unexpected snapshot identifier {snapshot!r}")
            for session in sessions:
                session.connection(
                    execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                )
                session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        readers = [replace(ctx, session=session) for session in sessions]
        for reader in readers:
            prepare(reader)
        yield readers
