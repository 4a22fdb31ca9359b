"""Lists are pages (STYLE, « Lists are pages »): what a page of a list is, for every room.

A service that lists takes a `PageRequest` (how many rows, which page) and returns a `Page`: the
rows of that page, the total and the request, so the web layer can write the links to the other
pages. The rows are read with LIMIT/OFFSET in the database (`page_of`), so the statements of a list
do not grow with its length and a page never carries more than `MAX_LIMIT` rows.

Why pages numbered rather than an opaque cursor: the lists of this service are a structure's or a
territory's (hundreds of rows, not millions), people want « page 3 of 11 » and the total, and a
number is what a CIP can type in an address. Offsets past a few thousand rows would be slow; no
list in scope gets there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far beyond any list's last page; keeps OFFSET within what both databases accept.
MAX_PAGE = 100_000

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: `limit` rows (1–`MAX_LIMIT`) from page `number` (1 is the first)."""

    limit: int = DEFAULT_LIMIT
    number: int = 1

    def __post_init__(self) -> None:
        # The web layer refuses bad values with a French message first; this is the last guard.
        if not 1 <= self.limit <= MAX_LIMIT or not 1 <= self.number <= MAX_PAGE:
            raise ValueError(f"page request out of bounds: limit={self.limit}, number={self.number}")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.limit


FIRST_PAGE = PageRequest()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    @property
    def number(self) -> int:
        return self.request.number

    @property
    def limit(self) -> int:
        return self.request.limit

    @property
    def last_number(self) -> int:
        """The last page's number (1 for an empty list: page 1 exists and is empty)."""
        return max(1, math.ceil(self.total / self.limit))

    @property
    def has_next(self) -> bool:
        return self.number < self.last_number

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def map(self, function: Callable[[T], U]) -> Page[U]:
        return Page([function(item) for item in self.items], self.total, self.request)


def page_of(
    session: Session, query: Select[*tuple[Any, ...]], request: PageRequest, *, scalars: bool = True
) -> Page[Any]:
    """One page of `query` (which must have its ORDER BY, ties broken), read in the database.

    The total is counted only when it is not known from the page itself: a first page shorter
    than the limit is the whole list. `scalars=False` returns rows (a query of columns).
    """
    paged = query.limit(request.limit).offset(request.offset)
    items: list[Any] = list(session.scalars(paged)) if scalars else list(session.execute(paged))
    if request.number == 1 and len(items) < request.limit:
        total = len(items)
    else:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Page(items, total, request)


def page_of_list(items: Sequence[T], request: PageRequest) -> Page[T]:
    """One page of a list already built in memory (short lists a service composes: a timeline,
    a territory's meetings)."""
    return Page(list(items[request.offset : request.offset + request.limit]), len(items), request)
