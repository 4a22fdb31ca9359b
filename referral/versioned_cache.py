"""A value built from the database, kept per process and per database, rebuilt or updated when its
version key changes.

Why: every web worker (and the scheduler, the command line) keeps its own copy of what costs too
much to build from the tables at each request — the compiled matching index, the partner and
opportunity search indexes — and no message runs between processes. So before serving the value,
the cache reads a cheap *version key* (a few aggregates that move with any committed change of the
rows the value is built from) and compares it with the key the value was built from. The same
key: the value is served as is. Another key: the value is updated with only what changed
(`update`, when there is one and it can) or built again (`build`). A rolled-back change leaves
nothing behind, since the key then goes back to what it was.

- `trust_seconds`: between two reads of the key the value is trusted for this long, when reading
  the key at every call costs too much; other processes' changes are then seen within this delay.
  A caller that knows its own process changed the rows (its commits noted what) passes them to
  `get` as `changes`: the key is read at once, and `update` receives them.
- One entry per database (engine): the web, the command line and the tests may open several, and
  a value built from one must never answer for another.
- The arguments given to `get` after the session (the matching index's day) are passed on to
  `version`; a value is trusted only for the arguments it was read with.
- `check_after_flush`: the key is read at once, whatever `trust_seconds`, when this process
  flushed anything since the last read (`install()` counts the flushes): the person who just
  changed something sees it on their next page. For values that do not track what changed.

Reads take no lock; building and updating run outside the lock too, so a slow build never holds up
the workers' threads that may still serve the previous value (two threads may then build at once;
the last one stored wins, and both are fresh). `update` may change the value in place or return a
new one; it returns None when only a build will do.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session

KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")
T = TypeVar("T")

# `update(session, value, old_key, new_key, changes)`: the value brought up to `new_key`, or None.
Update = Callable[[Session, ValueT, KeyT, KeyT, Any], ValueT | None]


# Flushes of this process (any session, any database), counted once `install()` ran.
_flushes = [0]


def _count_flush(_session: Session, _context: Any, _instances: Any) -> None:
    _flushes[0] += 1


def install() -> None:
    """Count this process's flushes for the caches made with `check_after_flush` (called by
    `referral.hooks.install`; twice changes nothing)."""
    if not event.contains(Session, "before_flush", _count_flush):
        event.listen(Session, "before_flush", _count_flush)


def database_key(session: Session) -> str:
    """Which database a session reads (its engine's URL without password, and the engine itself)."""
    engine = session.get_bind().engine
    return f"{engine.url.render_as_string(hide_password=True)}:{id(engine)}"


@dataclass
class _Entry(Generic[KeyT, ValueT]):
    key: KeyT
    args: tuple[Any, ...]
    value: ValueT
    checked_at: float


class VersionedCache(Generic[KeyT, ValueT]):
    """One value per database, kept fresh by its version key (see the module's docstring).

    `version(session, *args)` reads the key; `build(session, key)` builds the value from scratch;
    `update(session, value, old_key, new_key, changes)`, optional, brings a value up to date or
    answers None. The four are attributes, so a test may count the builds.
    """

    def __init__(
        self,
        *,
        version: Callable[..., KeyT],
        build: Callable[[Session, KeyT], ValueT],
        update: Update[ValueT, KeyT] | None = None,
        trust_seconds: float = 0.0,
        check_after_flush: bool = False,
    ) -> None:
        self.version = version
        self.build = build
        self.update = update
        self.trust_seconds = trust_seconds
        self.check_after_flush = check_after_flush
        self._seen_flushes = _flushes[0]
        self._entries: dict[str, _Entry[KeyT, ValueT]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, *args: Any, changes: Any = None) -> ValueT:
        """The value for this session's database and `args`, fresh.

        Trusted as is within `trust_seconds` of the last read of the key, unless `changes` says
        what this process changed meanwhile; then the key is read, and the value updated or built
        again when it moved (or whenever there are `changes`).
        """
        if self.check_after_flush and self._seen_flushes != _flushes[0]:
            self._seen_flushes = _flushes[0]
            self.check_now()
        database = database_key(session)
        entry = self._entries.get(database)
        now = time.monotonic()
        if (
            entry is not None
            and changes is None
            and entry.args == args
            and now - entry.checked_at < self.trust_seconds
        ):
            return entry.value
        key = self.version(session, *args)
        if entry is not None and changes is None and entry.key == key:
            entry.checked_at = now
            return entry.value
        value = None
        if entry is not None and self.update is not None:
            value = self.update(session, entry.value, entry.key, key, changes)
        if value is None:
            value = self.build(session, key)
        with self._lock:
            self._entries[database] = _Entry(key, args, value, now)
        return value

    def check_now(self, *, rekey: Callable[[KeyT], KeyT] | None = None) -> None:
        """Make the next `get` read the version key, as if the trust delay had passed; `rekey`
        changes the remembered keys (a benchmark makes the hour turn)."""
        with self._lock:
            for entry in self._entries.values():
                entry.checked_at = float("-inf")
                if rekey is not None:
                    entry.key = rekey(entry.key)

    def forget(self, session: Session | None = None) -> None:
        """Drop the value of this session's database (of every database without a session): the
        next `get` builds it from scratch."""
        with self._lock:
            if session is None:
                self._entries.clear()
            else:
                self._entries.pop(database_key(session), None)


class KeptValues:
    """Values built under one version key, by a key of their own (a territory and a filter…),
    the least recently used dropped past `size`: the value of a `VersionedCache` whose build
    is per request argument. A new version key starts an empty one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return cast(T, self.values[key])
        value = build()  # outside the lock: a slow build never holds up the others
        with self.lock:
            self.values[key] = value
            while len(self.values) > self.size:
                self.values.popitem(last=False)
        return value
