"""What is searched and what a search or a duplicate check answers, as plain data."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

TerritoryId = Hashable


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """One searchable partner or opportunity, as plain data.

    For an opportunity, `name` is its title and `aliases` holds the partner's name; for a partner,
    `aliases` may hold an acronym or a former name. `territory_ids` are the territories the record
    serves (a national partner lists each territory where it is deployed); `None` means every
    territory; an empty set, none (found by national searches only). `siret` (spaces allowed) is
    used by `partner_duplicates` only.
    """

    id: int
    name: str
    town: str = ""
    tags: tuple[str, ...] = ()
    territory_ids: frozenset[TerritoryId] | None = frozenset()
    kind: str = ""
    siret: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept any iterable from callers (lists from the database) but keep the record hashable.
        if not isinstance(self.tags, tuple):
            object.__setattr__(self, "tags", tuple(self.tags))
        if not isinstance(self.aliases, tuple):
            object.__setattr__(self, "aliases", tuple(self.aliases))
        if self.territory_ids is not None and not isinstance(self.territory_ids, frozenset):
            object.__setattr__(self, "territory_ids", frozenset(self.territory_ids))


class SearchHit(NamedTuple):
    """A search result: the record's id and a score from 0 to 100 (100: the query is the name)."""

    id: int
    score: float


class Duplicate(NamedTuple):
    """A likely duplicate: its id, a score from 0 to 100 and the reason, in French, for the user."""

    id: int
    score: float
    reason: str
