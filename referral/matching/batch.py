"""The national batch: the best proposals of every participant at once (« calcul national »).

Same index, same numbers as `TerritoryIndex.match`, but a territory's participants are taken a
block at a time: each field's classes are found for the whole block with one `searchsorted`, and
the table rows are gathered into a (participants × opportunities) matrix. The top `k` per participant is
selected with a partition rather than a full sort, ties broken by opportunity id as everywhere.

Pure module: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from referral.matching.index import NEAR_MISS_MAX, WEIGHT_MASK, FieldClasses, MatchingIndex, TerritoryIndex
from referral.matching.scoring import NO_ANSWER, W_SOFT, W_URGENCY, relevance_rank
from referral.matching.table import ParticipantTable

# Participants per block: the (participants × opportunities) int64 matrices of a block should stay in
# the processor's cache (about 2 MB here), so big territories take smaller blocks.
BLOCK_CELLS = 1 << 18
MIN_BLOCK, MAX_BLOCK = 64, 1024


def block_size(opportunities: int) -> int:
    return max(MIN_BLOCK, min(MAX_BLOCK, BLOCK_CELLS // max(opportunities, 1)))


@dataclass(frozen=True)
class BatchResult:
    """Per participant (in the table's order): the ids and scores of the best `k` eligible
    opportunities (-1 and NaN past the last one), how many opportunities are eligible, how many are
    near misses."""

    participant_ids: np.ndarray
    top_ids: np.ndarray
    top_scores: np.ndarray
    eligible_counts: np.ndarray
    near_miss_counts: np.ndarray

    @classmethod
    def empty(cls, table: ParticipantTable, k: int) -> BatchResult:
        """A result with nobody matched yet (-1, NaN, 0), to be filled territory by territory."""
        n = table.size
        return cls(
            participant_ids=table.ids,
            top_ids=np.full((n, k), -1, dtype=np.int64),
            top_scores=np.full((n, k), np.nan, dtype=np.float64),
            eligible_counts=np.zeros(n, dtype=np.int64),
            near_miss_counts=np.zeros(n, dtype=np.int64),
        )

    def top(self, participant_id: int) -> list[tuple[int, float]]:
        """The (opportunity id, score) pairs of one participant, best first."""
        (row,) = np.flatnonzero(self.participant_ids == participant_id)
        ids = self.top_ids[row]
        keep = ids >= 0
        return list(zip(ids[keep].tolist(), self.top_scores[row][keep].tolist(), strict=True))


def classes_of(classes: FieldClasses, table: ParticipantTable, positions: np.ndarray) -> np.ndarray:
    """`FieldClasses.of` for a block of participants (vectorised twin of the scalar path)."""
    if classes.numeric:
        values = table.numeric[classes.field][positions]
        points = np.asarray(classes.points, dtype=np.float64)
        i = np.searchsorted(points, values, side="left")
        equal = points[np.minimum(i, len(points) - 1)] == values
        result = 1 + 2 * i + equal
        result[np.isnan(values)] = 0
        return result
    vocabulary = table.vocabulary[classes.field]
    # The last entry answers index -1, « not recorded ».
    lookup = np.array([classes.codes.get(code, 1) for code in vocabulary] + [0], dtype=np.int64)
    return lookup[table.codes[classes.field][positions]]


def packed_rows(index: TerritoryIndex, table: ParticipantTable, positions: np.ndarray) -> np.ndarray:
    """The summed table rows (failures × 2³² + soft weight met) of a block: (participants × opportunities)."""
    table_rows = index.table
    packed = np.empty((len(positions), index.size), dtype=np.int64)
    packed[:] = table_rows[0]
    for classes in index.fields:
        packed += table_rows[classes.offset + classes_of(classes, table, positions)]
    if index.need_rows:
        lookup = np.array(
            [index.need_rows.get(code, index.zero_row) for code in table.need_vocabulary] + [index.zero_row],
            dtype=np.int64,
        )
        rows = lookup[table.need_codes[positions]]
        for column in range(rows.shape[1]):
            packed += table_rows[rows[:, column]]
    return packed


def top_k(key: np.ndarray, k: int) -> np.ndarray:
    """Per row, the positions of the `k` smallest keys, ordered by (key, position).

    A partition finds each row's k-th key; every key below it is in, and among keys equal to it
    the lowest positions are taken, so ties resolve exactly as a stable full sort would.
    """
    rows, width = key.shape
    k = min(k, width)
    if k == 0 or rows == 0:
        return np.zeros((rows, k), dtype=np.intp)
    kth = np.partition(key, k - 1, axis=1)[:, k - 1 : k]
    below = key < kth
    equal = key == kth
    room = k - below.sum(axis=1, keepdims=True)
    chosen = below | (equal & (np.cumsum(equal, axis=1) <= room))
    positions = np.nonzero(chosen)[1].reshape(rows, k)
    order = np.argsort(np.take_along_axis(key, positions, axis=1), axis=1, kind="stable")
    return np.take_along_axis(positions, order, axis=1)


def ranking_key(eligible: np.ndarray, relevance: np.ndarray, score: np.ndarray) -> np.ndarray:
    """One integer key per cell ordering eligible cells by (relevance, best score) exactly and every
    other cell last: the scores of the block are replaced by their rank among the block's distinct
    scores, so that no float precision is lost when both are packed into one int64."""
    distinct, inverse = np.unique(score, return_inverse=True)
    worse = (len(distinct) - 1) - inverse.reshape(score.shape)
    key = relevance.astype(np.int64) * np.int64(len(distinct)) + worse
    return np.where(eligible, key, np.iinfo(np.int64).max)


def block_relevance(
    territory: TerritoryIndex, table: ParticipantTable, keys: np.ndarray, answers: np.ndarray
) -> np.ndarray:
    """`TerritoryIndex.relevance` for a block: `keys` are the block's need-key indices (-1 padded),
    `answers` the answer kinds of each need key (last row: no need, answers nothing)."""
    vocabulary = table.need_key_vocabulary
    relevance = np.full((keys.shape[0], territory.size), NO_ANSWER, dtype=np.int64)
    for column in range(keys.shape[1]):
        column_keys = keys[:, column]
        base = np.array(
            [relevance_rank(priority, column, 0) for _, _, priority in vocabulary] + [NO_ANSWER],
            dtype=np.int64,
        )[column_keys]
        kinds = answers[column_keys]
        np.minimum(relevance, np.where(kinds >= 0, base[:, None] + kinds, NO_ANSWER), out=relevance)
    return relevance


def match_batch(
    index: MatchingIndex,
    table: ParticipantTable,
    *,
    k: int = 10,
    block: int | None = None,
    territory_ids: Iterable[int] | None = None,
    into: BatchResult | None = None,
) -> BatchResult:
    """The best `k` eligible opportunities of every participant of `table`, on `table.today`.

    `territory_ids` limits the work to those territories (e.g. the one whose opportunities changed);
    `into` is a result to fill in place (from `BatchResult.empty` or an earlier run).
    """
    result = into if into is not None else BatchResult.empty(table, k)
    k = result.top_ids.shape[1]
    today = table.today
    wanted = (
        table.by_territory
        if territory_ids is None
        else {t: table.by_territory[t] for t in territory_ids if t in table.by_territory}
    )
    for territory_id, positions_all in wanted.items():
        territory = index.territories.get(territory_id)
        if territory is None or territory.size == 0:
            continue
        statics = territory.day(today)
        need_table = np.vstack(
            [territory.need_contribution(*key) for key in table.need_key_vocabulary] + [territory.zeros]
        )
        answer_table = np.vstack(
            [territory.answer_kinds(domain, subtype) for domain, subtype, _ in table.need_key_vocabulary]
            + [np.full(territory.size, -1, dtype=np.int64)]
        )
        urgency_table = np.vstack(
            [
                territory.urgency_contribution(None if p < 0 else p, None if c < 0 else bool(c))
                for p in range(-1, 4)
                for c in range(-1, 2)
            ]
        )
        step = block or block_size(territory.size)
        for start in range(0, len(positions_all), step):
            positions = positions_all[start : start + step]
            packed = packed_rows(territory, table, positions)
            blockers = (packed >> 32) + statics.blockers
            soft = ((packed & WEIGHT_MASK) / territory.soft_total) * W_SOFT

            keys = table.need_keys[positions]
            need = need_table[keys[:, 0]]
            for column in range(1, keys.shape[1]):
                np.maximum(need, need_table[keys[:, column]], out=need)
            urgency = urgency_table[(table.precarity[positions] + 1) * 3 + (table.covered[positions] + 1)]
            if territory.has_residence_opportunities:
                permit = table.permit[positions]
                if permit.any():
                    urgency = np.maximum(urgency, W_URGENCY * (territory.residence_mask * permit[:, None]))
            score = ((need + urgency) + soft) + statics.static

            eligible = blockers == 0
            relevance = block_relevance(territory, table, keys, answer_table)
            chosen = top_k(ranking_key(eligible, relevance, score), k)
            chosen_eligible = np.take_along_axis(eligible, chosen, axis=1)
            width = chosen.shape[1]
            result.top_ids[positions, :width] = np.where(chosen_eligible, territory.ids[chosen], -1)
            result.top_scores[positions, :width] = np.where(
                chosen_eligible, np.take_along_axis(score, chosen, axis=1), np.nan
            )
            result.eligible_counts[positions] = eligible.sum(axis=1)
            result.near_miss_counts[positions] = ((blockers >= 1) & (blockers <= NEAR_MISS_MAX)).sum(axis=1)
    return result
