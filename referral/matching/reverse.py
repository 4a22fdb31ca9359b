"""Reverse matching: who fits one opportunity (« qui peut en bénéficier ? »).

For the CP who publishes an opportunity: how many participants of each structure meet its hard
criteria, and how many miss only one or two (they may fit soon). For a CIP: which of their own
participants fit — `ReverseMatch.for_structure`, so the web layer never hands out another
structure's people (DESIGN §6, §8).

It compiles the one opportunity exactly as the index compiles a territory, so a person is counted here
if and only if the opportunity has no failing hard criterion for them in their proposals. Conditions of
the opportunity itself (published, places left) are left out on purpose: they do not depend on the
person, and a CP wants the count before publishing too.

Pure module: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from referral.matching.batch import packed_rows
from referral.matching.index import NEAR_MISS_MAX, TerritoryIndex
from referral.matching.snapshot import OpportunitySnapshot
from referral.matching.table import ParticipantTable


@dataclass(frozen=True)
class ReverseMatch:
    """The participants who fit one opportunity, and counts per structure.

    `participant_ids` (sorted) and `structure_ids` are parallel; counts are keyed by structure id
    in increasing order. Show `counts_by_structure` to a CP or coordinator and `for_structure`
    to a CIP, never the ids of another structure.
    """

    opportunity_id: int
    participant_ids: tuple[int, ...]
    structure_ids: tuple[int, ...]
    counts_by_structure: Mapping[int, int]
    near_miss_counts_by_structure: Mapping[int, int]

    @property
    def total(self) -> int:
        return len(self.participant_ids)

    def for_structure(self, structure_id: int) -> tuple[int, ...]:
        """The fitting participants of one structure (what a CIP of that structure may see)."""
        return tuple(
            pid
            for pid, sid in zip(self.participant_ids, self.structure_ids, strict=True)
            if sid == structure_id
        )


def _counts(structure_ids: np.ndarray) -> Mapping[int, int]:
    values, counts = np.unique(structure_ids, return_counts=True)
    return MappingProxyType(dict(zip(values.tolist(), counts.tolist(), strict=True)))


def reverse_match(opportunity: OpportunitySnapshot, table: ParticipantTable) -> ReverseMatch:
    """Who, among the participants of `table` in the territories where the opportunity is open, fits it."""
    index = TerritoryIndex(0, (opportunity,), table.reference)
    positions = table.positions_in(opportunity.territory_ids)
    failures = (packed_rows(index, table, positions)[:, 0] >> 32) if len(positions) else np.zeros(0, np.int64)
    fits = positions[failures == 0]
    near = positions[(failures >= 1) & (failures <= NEAR_MISS_MAX)]
    order = np.argsort(table.ids[fits], kind="stable")
    fits = fits[order]
    return ReverseMatch(
        opportunity_id=opportunity.id,
        participant_ids=tuple(table.ids[fits].tolist()),
        structure_ids=tuple(table.structure_ids[fits].tolist()),
        counts_by_structure=_counts(table.structure_ids[fits]),
        near_miss_counts_by_structure=_counts(table.structure_ids[near]),
    )
