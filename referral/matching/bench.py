"""`referral bench matching`: the engine against two baselines, on generated national-scale data.

Measured in one run, on the same data (`synthetic.generate(scale, seed)`), so that ratios hold
on a shared, noisy machine:

(a) proposals for one participant, pure engine: median and p95 over many participants, for the
    ranking alone and with the French explanations of the first ten proposals;
(b) the proposals service call with the database — NOT measured here: the engine is pure, the
    loader and the service belong to `referral/referrals/`; the JSON keeps the slot
    ``service_call_with_database`` for that benchmark to fill;
(c) proposals for every participant (the national batch).

Baselines, implemented here and used by nothing else:
- `DoubleLoop`: the straightforward Python way — for each participant, for each offer of their
  territory, evaluate each criterion, score the eligible ones, sort;
- `NumpyReference`: a plain vectorised implementation — every criterion of the territory is a row
  of arrays, evaluated across the rows (one participant) or across participants × rows (batch),
  reduced per offer, then sorted.
Both compute the same numbers as the engine; the run checks that the top 10 of the three agree.

Pure module: no Flask, no session.
"""

from __future__ import annotations

import functools
import gc
import json
import math
import os
import pathlib
import platform
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from referral.matching.batch import BatchResult, match_batch
from referral.matching.criteria import (
    CompiledCriterion,
    compile_criteria,
    evaluate,
    facts_for,
)
from referral.matching.index import EXCLUDED, NEAR_MISS_MAX, MatchingIndex, offer_blockers
from referral.matching.scoring import (
    COVERAGE_DOMAINS,
    HOUSING_DOMAINS,
    PRIORITY_WEIGHT,
    QUALITY_DOMAIN,
    QUALITY_OTHER_SUBTYPE,
    QUALITY_SUBTYPE,
    RESIDENCE_SUBTYPES,
    W_NEED,
    W_SOFT,
    W_URGENCY,
    score_pair,
    static_contributions,
)
from referral.matching.snapshot import OpportunitySnapshot, ParticipantSnapshot, ReferenceTables
from referral.matching.synthetic import Dataset, generate
from referral.matching.table import CODE_FIELDS, NUMERIC_FIELDS, ParticipantTable

TOP_K = 10
ONE_PARTICIPANT_SAMPLE = 3000
DOUBLE_LOOP_ONE_SAMPLE = 300
TOP10_SAMPLE = 1000
# The double loop runs on everybody up to this many participants, else on one in DOUBLE_LOOP_STRIDE.
DOUBLE_LOOP_FULL = 20_000
DOUBLE_LOOP_STRIDE = 10

TARGETS = {
    "one_participant_median_ms": 0.2,
    "one_participant_vs_numpy_max": 2.0,
    "batch_vs_numpy_max": 1.5,
    "batch_speedup_vs_double_loop_min": 5.0,
}

Top = list[tuple[int, float]]


# ---------------------------------------------------------------------------------------------
# Baseline 1: the straightforward Python double loop.


class DoubleLoop:
    """For each participant, for each offer of their territory: criteria one by one, then score."""

    def __init__(self, opportunities: Sequence[OpportunitySnapshot], reference: ReferenceTables) -> None:
        self.reference = reference
        self.offers: dict[int, list[tuple[OpportunitySnapshot, tuple[CompiledCriterion, ...]]]] = defaultdict(
            list
        )
        for offer in sorted(opportunities, key=lambda o: o.id):
            compiled = compile_criteria(offer.criteria, reference)
            for territory in offer.territory_ids:
                self.offers[territory].append((offer, compiled))

    def match(self, participant: ParticipantSnapshot, today: date, k: int = TOP_K) -> tuple[Top, int, int]:
        """(top k (id, score) eligible, number eligible, number of near misses)."""
        facts = facts_for(participant, self.reference, today)
        ranked: list[tuple[float, int]] = []
        near = 0
        for offer, criteria in self.offers.get(participant.territory_id, ()):
            blockers = offer_blockers(offer, today)
            if blockers >= EXCLUDED:
                continue
            met = total = 0
            for criterion in criteria:
                outcome = evaluate(criterion, facts)
                if criterion.hard:
                    if not outcome:
                        blockers += 1
                else:
                    total += criterion.weight_milli
                    if outcome:
                        met += criterion.weight_milli
            if blockers == 0:
                score, _ = score_pair(facts, offer, met, total, today)
                ranked.append((-score, offer.id))
            elif blockers <= NEAR_MISS_MAX:
                near += 1
        ranked.sort()
        return [(oid, -negative) for negative, oid in ranked[:k]], len(ranked), near


# ---------------------------------------------------------------------------------------------
# Baseline 2: a plain NumPy vectorised reference.

_NUMERIC_INDEX = {field: i for i, field in enumerate(NUMERIC_FIELDS)}
_CODE_INDEX = {field: i for i, field in enumerate(CODE_FIELDS)}


@dataclass
class _RefTerritory:
    """One territory's offers as flat criterion rows (sorted by offer), for the reference."""

    size: int
    ids: np.ndarray
    starts: np.ndarray  # first row of each offer (every offer has at least its padding row)
    row_offer: np.ndarray
    hard: np.ndarray
    weight: np.ndarray  # soft weight in thousandths (0 for hard rows)
    # interval rows: lo <= x <= hi on a numeric column
    interval_rows: np.ndarray
    interval_column: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    # numeric set rows (in / not_in on numbers): x == any of values (NaN padded)
    set_rows: np.ndarray
    set_column: np.ndarray
    set_values: np.ndarray
    set_negated: np.ndarray
    # code rows: allowed[row, code index] (the last column is « not recorded »)
    code_rows: np.ndarray
    code_column: np.ndarray
    code_allowed: np.ndarray
    # need rows: the participant has this need code
    need_rows: np.ndarray
    need_code: np.ndarray
    soft_total: np.ndarray
    always_ok: np.ndarray  # padding rows
    offer_blockers: np.ndarray
    static: np.ndarray
    domain: np.ndarray  # domain index per offer
    subtype_member: np.ndarray  # (offers, subtype vocabulary) bool
    no_subtypes: np.ndarray
    housing: np.ndarray
    coverage: np.ndarray
    residence: np.ndarray


class NumpyReference:
    """A straightforward vectorised implementation of the same ranking (see module docstring)."""

    def __init__(
        self, opportunities: Sequence[OpportunitySnapshot], reference: ReferenceTables, today: date
    ) -> None:
        self.reference = reference
        self.today = today
        self.code_vocabulary: dict[str, dict[str, int]] = {}
        self.need_vocabulary: dict[str, int] = {}
        self.domain_vocabulary: dict[str, int] = {}
        self.subtype_vocabulary: dict[str, int] = {}
        grouped: dict[int, list[OpportunitySnapshot]] = defaultdict(list)
        for offer in opportunities:
            for territory in offer.territory_ids:
                grouped[territory].append(offer)
            for code in (offer.domain, *offer.subtypes):
                self.need_vocabulary.setdefault(code, len(self.need_vocabulary))
            self.domain_vocabulary.setdefault(offer.domain, len(self.domain_vocabulary))
            for subtype in offer.subtypes:
                self.subtype_vocabulary.setdefault(subtype, len(self.subtype_vocabulary))
            for criterion in offer.criteria:
                if criterion.field == "has_need":
                    self.need_vocabulary.setdefault(str(criterion.value), len(self.need_vocabulary))
                elif criterion.field in _CODE_INDEX:
                    values = criterion.value if isinstance(criterion.value, tuple) else (criterion.value,)
                    vocabulary = self.code_vocabulary.setdefault(criterion.field, {})
                    for value in values:
                        vocabulary.setdefault(str(value), len(vocabulary))
        self.territories = {
            t: self._prepare(sorted(offers, key=lambda o: o.id)) for t, offers in grouped.items()
        }

    def _prepare(self, offers: list[OpportunitySnapshot]) -> _RefTerritory:
        reference, today = self.reference, self.today
        n = len(offers)
        rows: list[tuple[int, CompiledCriterion | None]] = []
        for position, offer in enumerate(offers):
            rows.append((position, None))  # padding row, always met: every offer has a row
            rows.extend((position, criterion) for criterion in compile_criteria(offer.criteria, reference))
        row_offer = np.array([p for p, _ in rows], dtype=np.intp)
        starts = np.searchsorted(row_offer, np.arange(n))
        hard = np.array([c is not None and c.hard for _, c in rows], dtype=bool)
        weight = np.array([0 if c is None or c.hard else c.weight_milli for _, c in rows], dtype=np.float64)
        interval, numeric_set, code, need, padding = [], [], [], [], []
        for r, (_, c) in enumerate(rows):
            if c is None:
                padding.append(r)
            elif c.field == "has_need":
                need.append(r)
            elif c.field in _CODE_INDEX:
                code.append(r)
            elif c.op in ("in", "not_in"):
                numeric_set.append(r)
            else:
                interval.append(r)

        def bounds(c: CompiledCriterion) -> tuple[float, float]:
            v = c.value
            if c.op == "eq":
                return float(v), float(v)
            if c.op == "gte":
                return float(v), math.inf
            if c.op == "lte":
                return -math.inf, float(v)
            return float(v[0]), float(v[1])

        crit = [c for _, c in rows]
        lo_hi = np.array([bounds(crit[r]) for r in interval], dtype=np.float64).reshape(-1, 2)  # type: ignore[arg-type]
        width = max((len(crit[r].value) for r in numeric_set), default=1)  # type: ignore[union-attr]
        set_values = np.full((len(numeric_set), width), np.nan)
        for i, r in enumerate(numeric_set):
            values = sorted(float(v) for v in crit[r].value)  # type: ignore[union-attr]
            set_values[i, : len(values)] = values
        code_width = max((len(v) for v in self.code_vocabulary.values()), default=0) + 2
        allowed = np.zeros((len(code), code_width), dtype=bool)
        for i, r in enumerate(code):
            c = crit[r]
            assert c is not None
            vocabulary = self.code_vocabulary[c.field]
            members = c.value if isinstance(c.value, frozenset) else {c.value}
            member = np.zeros(code_width, dtype=bool)
            for value in members:
                member[vocabulary[str(value)]] = True
            if c.op == "not_in":
                member = ~member
            member[-1] = False  # not recorded: never met
            allowed[i] = member
        soft_total = np.zeros(n, dtype=np.float64)
        np.add.at(soft_total, row_offer, weight)
        subtype_member = np.zeros((n, max(1, len(self.subtype_vocabulary))), dtype=bool)
        for position, offer in enumerate(offers):
            for subtype in offer.subtypes:
                subtype_member[position, self.subtype_vocabulary[subtype]] = True
        static = np.array(
            [
                ((parts[0] + parts[1]) + parts[2]) + parts[3]
                for parts in (static_contributions(offer, today) for offer in offers)
            ]
        )
        as_rows = lambda items: np.array(items, dtype=np.intp)  # noqa: E731
        return _RefTerritory(
            size=n,
            ids=np.array([o.id for o in offers], dtype=np.int64),
            starts=starts,
            row_offer=row_offer,
            hard=hard,
            weight=weight,
            interval_rows=as_rows(interval),
            interval_column=as_rows([_NUMERIC_INDEX[crit[r].field] for r in interval]),  # type: ignore[union-attr]
            lo=lo_hi[:, 0].copy(),
            hi=lo_hi[:, 1].copy(),
            set_rows=as_rows(numeric_set),
            set_column=as_rows([_NUMERIC_INDEX[crit[r].field] for r in numeric_set]),  # type: ignore[union-attr]
            set_values=set_values,
            set_negated=np.array([crit[r].op == "not_in" for r in numeric_set], dtype=bool),  # type: ignore[union-attr]
            code_rows=as_rows(code),
            code_column=as_rows([_CODE_INDEX[crit[r].field] for r in code]),  # type: ignore[union-attr]
            code_allowed=allowed,
            need_rows=as_rows(need),
            need_code=as_rows([self.need_vocabulary[str(crit[r].value)] for r in need]),  # type: ignore[union-attr]
            soft_total=soft_total,
            always_ok=as_rows(padding),
            offer_blockers=np.array([offer_blockers(o, today) for o in offers], dtype=np.int64),
            static=static,
            domain=np.array([self.domain_vocabulary[o.domain] for o in offers], dtype=np.int64),
            subtype_member=subtype_member,
            no_subtypes=np.array([not o.subtypes for o in offers], dtype=bool),
            housing=np.array([o.domain in HOUSING_DOMAINS for o in offers], dtype=np.float64),
            coverage=np.array([o.domain in COVERAGE_DOMAINS for o in offers], dtype=np.float64),
            residence=np.array(
                [any(s in RESIDENCE_SUBTYPES for s in o.subtypes) for o in offers], dtype=np.float64
            ),
        )

    # -- participants as matrices ----------------------------------------------------------------

    def participant_columns(self, table: ParticipantTable) -> dict[str, np.ndarray]:
        """The table's columns re-coded in the reference's own vocabularies."""
        numeric = np.column_stack([table.numeric[field] for field in NUMERIC_FIELDS])
        code_width = max((len(v) for v in self.code_vocabulary.values()), default=0) + 2
        codes = np.empty((table.size, len(CODE_FIELDS)), dtype=np.intp)
        for j, field in enumerate(CODE_FIELDS):
            vocabulary = self.code_vocabulary.get(field, {})
            # Codes no criterion names share the column before last; « not recorded » is the last.
            lookup = np.array(
                [vocabulary.get(code, code_width - 2) for code in table.vocabulary[field]] + [code_width - 1]
            )
            codes[:, j] = lookup[table.codes[field]]
        need_lookup = np.array([self.need_vocabulary.get(code, -1) for code in table.need_vocabulary] + [-1])
        need_codes = need_lookup[table.need_codes]
        has_need = np.zeros((table.size, len(self.need_vocabulary) + 1), dtype=bool)
        rows = np.repeat(np.arange(table.size), need_codes.shape[1])
        has_need[rows, need_codes.ravel()] = True
        has_need[:, -1] = False
        keys = table.need_key_vocabulary
        domain = np.array([self.domain_vocabulary.get(k[0], -1) for k in keys] + [-2])
        subtype = np.array([self.subtype_vocabulary.get(k[1], -1) if k[1] else -1 for k in keys] + [-1])
        has_subtype = np.array([k[1] is not None for k in keys] + [False])
        priority = np.array([PRIORITY_WEIGHT[k[2]] for k in keys] + [0.0])
        return {
            "numeric": numeric,
            "codes": codes,
            "has_need": has_need,
            "need_domain": domain[table.need_keys],
            "need_subtype": subtype[table.need_keys],
            "need_has_subtype": has_subtype[table.need_keys],
            "need_priority": priority[table.need_keys],
            "precarity": table.precarity.astype(np.float64),
            "covered": table.covered,
            "permit": table.permit,
        }

    def _scores(self, t: _RefTerritory, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(blockers, score), each (participants × offers), for the participants in `cols`."""
        p = cols["numeric"].shape[0]
        ok = np.ones((p, len(t.row_offer)), dtype=bool)
        x = cols["numeric"][:, t.interval_column]
        ok[:, t.interval_rows] = (x >= t.lo) & (x <= t.hi)
        if len(t.set_rows):
            xs = cols["numeric"][:, t.set_column]
            member = (t.set_values[None, :, :] == xs[:, :, None]).any(axis=2)
            ok[:, t.set_rows] = np.where(t.set_negated, ~member & ~np.isnan(xs), member)
        codes = cols["codes"][:, t.code_column]
        ok[:, t.code_rows] = t.code_allowed[np.arange(len(t.code_rows))[None, :], codes]
        ok[:, t.need_rows] = cols["has_need"][:, t.need_code]
        failures = np.add.reduceat((~ok & t.hard).astype(np.int64), t.starts, axis=1)
        met = np.add.reduceat(ok * t.weight, t.starts, axis=1)
        blockers = failures + t.offer_blockers
        soft = np.where(t.soft_total > 0, met / np.where(t.soft_total > 0, t.soft_total, 1.0), 0.5) * W_SOFT

        need = np.zeros((p, t.size))
        for j in range(cols["need_domain"].shape[1]):
            same_domain = t.domain[None, :] == cols["need_domain"][:, j : j + 1]
            subtype = cols["need_subtype"][:, j]
            exact = t.subtype_member[:, np.maximum(subtype, 0)].T & (subtype >= 0)[:, None]
            broad = ~cols["need_has_subtype"][:, j : j + 1] | t.no_subtypes[None, :]
            quality = np.where(
                same_domain,
                np.where(exact, QUALITY_SUBTYPE, np.where(broad, QUALITY_DOMAIN, QUALITY_OTHER_SUBTYPE)),
                0.0,
            )
            need = np.maximum(need, cols["need_priority"][:, j : j + 1] * quality)
        precarity = cols["precarity"][:, None]
        housing = np.where(precarity >= 0, precarity / 3, 0.0) * t.housing
        coverage = (cols["covered"] == 0).astype(np.float64)[:, None] * t.coverage
        permit = cols["permit"][:, None] * t.residence
        urgency = np.maximum(np.maximum(housing, coverage), permit)
        score = (((W_NEED * need) + (W_URGENCY * urgency)) + soft) + t.static
        return blockers, score

    def match_one(
        self, table: ParticipantTable, cols: dict[str, np.ndarray], row: int
    ) -> tuple[Top, list[int]]:
        """Top k eligible (id, score) and near-miss ids for the participant at `row` of `table`."""
        t = self.territories.get(int(table.territory_ids[row]))
        if t is None:
            return [], []
        one = {key: value[row : row + 1] for key, value in cols.items()}
        blockers, score = self._scores(t, one)
        blockers, score = blockers[0], score[0]
        eligible = np.flatnonzero(blockers == 0)
        eligible = eligible[np.lexsort((eligible, -score[eligible]))]
        near = np.flatnonzero((blockers >= 1) & (blockers <= NEAR_MISS_MAX))
        near = near[np.lexsort((near, -score[near], blockers[near]))]
        top = eligible[:TOP_K]
        return list(zip(t.ids[top].tolist(), score[top].tolist(), strict=True)), t.ids[near].tolist()

    def match_batch(
        self,
        table: ParticipantTable,
        *,
        columns: dict[str, np.ndarray] | None = None,
        territory_ids: Sequence[int] | None = None,
        into: tuple[np.ndarray, np.ndarray] | None = None,
        block: int = 512,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(top ids, top scores) of the participants of `table` (of `territory_ids` only, when given),
        k = TOP_K, -1/NaN padded; `into` is filled in place when given."""
        cols = columns if columns is not None else self.participant_columns(table)
        if into is None:
            into = (np.full((table.size, TOP_K), -1, dtype=np.int64), np.full((table.size, TOP_K), np.nan))
        top_ids, top_scores = into
        wanted = (
            table.by_territory if territory_ids is None else {t: table.by_territory[t] for t in territory_ids}
        )
        for territory_id, positions_all in wanted.items():
            t = self.territories.get(territory_id)
            if t is None:
                continue
            for start in range(0, len(positions_all), block):
                positions = positions_all[start : start + block]
                blockers, score = self._scores(t, {key: value[positions] for key, value in cols.items()})
                key = np.where(blockers == 0, -score, np.inf)
                order = np.argsort(key, axis=1, kind="stable")[:, :TOP_K]
                ok = np.take_along_axis(key, order, axis=1) < np.inf
                width = order.shape[1]
                top_ids[positions, :width] = np.where(ok, t.ids[order], -1)
                top_scores[positions, :width] = np.where(ok, np.take_along_axis(score, order, axis=1), np.nan)
        return top_ids, top_scores


# ---------------------------------------------------------------------------------------------
# The run.


def _ms(ns: Sequence[int]) -> dict[str, float]:
    values = sorted(ns)
    p95 = values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]
    return {
        "median_ms": statistics.median(values) / 1e6,
        "p95_ms": p95 / 1e6,
        "mean_ms": statistics.fmean(values) / 1e6,
        "samples": len(values),
    }


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _sample(count: int, size: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(size, size=min(count, size), replace=False).tolist())


def _same_top(a: Top, b: Top) -> bool:
    return [oid for oid, _ in a] == [oid for oid, _ in b] and all(
        math.isclose(x, y, rel_tol=0.0, abs_tol=1e-12) for (_, x), (_, y) in zip(a, b, strict=True)
    )


def run(
    output: pathlib.Path, *, scale: float = 1.0, seed: int = 20261123, echo: Callable[[str], Any] = print
) -> dict[str, Any]:
    """Generate the dataset of (scale, seed), measure (a) and (c) against both baselines, write the
    figures and ratios to `output` (JSON) and print a table. Returns what it wrote."""
    output = pathlib.Path(output)
    echo(f"Génération des données (échelle {scale}, graine {seed})…")
    generation_s, data = _timed(lambda: generate(scale, seed))
    today = data.today
    reference = data.reference
    open_offers = [o for o in data.opportunities if o.status == "published"]
    echo(
        f"  {len(data.territories)} territoires, {len(data.participants)} participant·es, "
        f"{len(open_offers)} opportunités ouvertes ({len(data.opportunities)} en tout) — {generation_s:.1f} s"
    )

    echo("Construction des index…")

    def build_index() -> MatchingIndex:
        built = MatchingIndex(data.opportunities, reference)
        for territory in built.territories.values():
            territory.day(today)  # the offer-only part of the score, computed once a day
        return built

    index_s, index = _timed(build_index)
    numpy_setup_s, numpy_ref = _timed(lambda: NumpyReference(data.opportunities, reference, today))
    loop_setup_s, loop = _timed(lambda: DoubleLoop(data.opportunities, reference))
    offers_per_territory = [t.size for t in index.territories.values()]
    # Hundreds of thousands of long-lived snapshots: move them out of the collector's way, as a
    # worker that keeps an index in memory should (gc.freeze after loading), so that a full
    # collection triggered by unrelated garbage does not walk them during a measurement.
    gc.collect()
    gc.freeze()
    try:
        return _measure(
            output,
            scale,
            seed,
            echo,
            data,
            index,
            numpy_ref,
            loop,
            offers_per_territory,
            {
                "generation_s": generation_s,
                "engine_index_build_s": index_s,
                "numpy_reference_setup_s": numpy_setup_s,
                "double_loop_setup_s": loop_setup_s,
            },
        )
    finally:
        gc.unfreeze()


class _Clock:
    """Wall and CPU time of what runs inside it, added up (CPU time is what this process used:
    it moves less than wall time when other processes share the machine)."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": self.wall, "cpu_s": self.cpu}


def _measure(
    output: pathlib.Path,
    scale: float,
    seed: int,
    echo: Callable[[str], Any],
    data: Dataset,
    index: MatchingIndex,
    numpy_ref: NumpyReference,
    loop: DoubleLoop,
    offers_per_territory: list[int],
    setup: dict[str, float],
) -> dict[str, Any]:
    today = data.today
    reference = data.reference
    people = data.participants
    open_offers = [o for o in data.opportunities if o.status == "published"]
    load_before = os.getloadavg()

    # (c) the national batch — first, so that (a) then runs on warm caches, as in a long-lived
    # worker. Engine and NumPy reference alternate territory by territory (one first, then the
    # other), so that a change of load on a shared machine weighs on both alike.
    echo("(c) Calcul national : moteur et référence NumPy, territoire par territoire…")
    table_clock, engine_clock, numpy_clock = _Clock(), _Clock(), _Clock()
    with table_clock:
        table = ParticipantTable(people, reference, today)
    with numpy_clock:
        columns = numpy_ref.participant_columns(table)
    batch = BatchResult.empty(table, TOP_K)
    numpy_top = (np.full((table.size, TOP_K), -1, dtype=np.int64), np.full((table.size, TOP_K), np.nan))
    for turn, territory_id in enumerate(sorted(table.by_territory)):
        runs = [
            (engine_clock, lambda t=territory_id: match_batch(index, table, territory_ids=[t], into=batch)),
            (
                numpy_clock,
                lambda t=territory_id: numpy_ref.match_batch(
                    table, columns=columns, territory_ids=[t], into=numpy_top
                ),
            ),
        ]
        for clock, action in runs if turn % 2 == 0 else runs[::-1]:
            with clock:
                action()

    # The double loop takes minutes at national scale: it runs on a systematic sample of every
    # territory (one participant in DOUBLE_LOOP_STRIDE) and its time is extrapolated territory by
    # territory. Below DOUBLE_LOOP_FULL participants it runs on everybody.
    echo("(c) Calcul national : double boucle Python…")
    stride = 1 if len(people) <= DOUBLE_LOOP_FULL else DOUBLE_LOOP_STRIDE
    loop_tops: dict[int, Top] = {}
    loop_clock = _Clock()
    loop_extrapolated = 0.0
    loop_measured_people = 0
    for _, positions in sorted(table.by_territory.items()):
        sample_positions = positions[::stride].tolist()
        before = loop_clock.wall
        with loop_clock:
            for position in sample_positions:
                person = people[position]
                loop_tops[person.id] = loop.match(person, today)[0]
        loop_measured_people += len(sample_positions)
        loop_extrapolated += (loop_clock.wall - before) * len(positions) / len(sample_positions)

    # Identical top 10: the engine's batch and single calls against the double loop on a sample of
    # participants, and the batch against the NumPy reference on everybody.
    sample = _sample(TOP10_SAMPLE, len(people), seed + 1)
    for row in sample:
        person = people[row]
        if person.id not in loop_tops:
            loop_tops[person.id] = loop.match(person, today)[0]
    mismatches_loop = sum(
        1 for row in sample if not _same_top(batch.top(people[row].id), loop_tops[people[row].id])
    )
    mismatches_single = 0
    for row in sample:
        person = people[row]
        single = index.match(person, today, data.histories.get(person.id))
        ranked = single.scores()
        if not _same_top([(oid, ranked[oid]) for oid in single.eligible_ids[:TOP_K]], loop_tops[person.id]):
            mismatches_single += 1
    numpy_ids, numpy_scores = numpy_top
    same_ids = (numpy_ids == batch.top_ids).all(axis=1)
    same_scores = np.isclose(numpy_scores, batch.top_scores, rtol=0.0, atol=1e-12, equal_nan=True).all(axis=1)
    mismatches_numpy_all = int(np.count_nonzero(~(same_ids & same_scores)))

    # (a) one participant, interleaved the same way: engine, engine with words, NumPy reference.
    echo("(a) Un·e participant·e, moteur pur…")
    rows = _sample(ONE_PARTICIPANT_SAMPLE, len(people), seed + 2)
    for row in rows:  # warm-up: caches of needs, situations and wordings, as in a long-lived worker
        warm = index.match(people[row], today)
        warm.eligible(TOP_K)
        warm.near_misses(TOP_K)
        numpy_ref.match_one(table, columns, row)
    wall_ns = time.perf_counter_ns
    cpu_ns = time.process_time_ns
    timings: dict[str, tuple[list[int], list[int]]] = {
        name: ([], [])
        for name in ("engine", "engine_with_explanations_top10", "numpy_reference", "double_loop")
    }

    def timed(name: str, action: Callable[[], Any]) -> None:
        wall, cpu = wall_ns(), cpu_ns()
        action()
        timings[name][1].append(cpu_ns() - cpu)
        timings[name][0].append(wall_ns() - wall)

    def explained(person: ParticipantSnapshot, history: Any) -> None:
        result = index.match(person, today, history)
        result.eligible(TOP_K)
        result.near_misses(TOP_K)

    for row in rows:
        person = people[row]
        history = data.histories.get(person.id)
        timed("engine", functools.partial(index.match, person, today, history))
        timed("engine_with_explanations_top10", functools.partial(explained, person, history))
        timed("numpy_reference", functools.partial(numpy_ref.match_one, table, columns, row))
    for row in rows[:DOUBLE_LOOP_ONE_SAMPLE]:
        timed("double_loop", functools.partial(loop.match, people[row], today))
    one: dict[str, dict[str, Any]] = {
        name: {**_ms(wall), "cpu": _ms(cpu)} for name, (wall, cpu) in timings.items()
    }
    one_ratio = one["engine"]["median_ms"] / one["numpy_reference"]["median_ms"]
    one_ratio_cpu = one["engine"]["cpu"]["median_ms"] / one["numpy_reference"]["cpu"]["median_ms"]

    engine_total = table_clock.wall + engine_clock.wall
    numpy_total = table_clock.wall + numpy_clock.wall
    results: dict[str, Any] = {
        "benchmark": "matching",
        "scale": scale,
        "seed": seed,
        "today": today.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
        },
        "dataset": {
            "territories": len(data.territories),
            "structures": len(data.structures),
            "participants": len(people),
            "open_opportunities": len(open_offers),
            "opportunities_including_not_open": len(data.opportunities),
            "offers_per_territory_median": statistics.median(offers_per_territory)
            if offers_per_territory
            else 0,
            "offers_per_territory_max": max(offers_per_territory, default=0),
            "pairs_evaluated": int(
                sum(
                    index.territories[t].size * len(p)
                    for t, p in table.by_territory.items()
                    if t in index.territories
                )
            ),
            "generation_s": setup["generation_s"],
        },
        "setup": {key: value for key, value in setup.items() if key != "generation_s"},
        "one_participant": {
            **one,
            "ratio_engine_to_numpy_median": one_ratio,
            "ratio_engine_to_numpy_median_cpu": one_ratio_cpu,
            "ratio_engine_to_double_loop_median": one["engine"]["median_ms"]
            / one["double_loop"]["median_ms"],
        },
        "service_call_with_database": {
            "status": "not_measured",
            "note": (
                "Slot for (b), the proposals service call with the database (loader + engine), p95 on "
                "SQLite and PostgreSQL; to be filled by the benchmark of referral/referrals/."
            ),
            "sqlite": None,
            "postgresql": None,
        },
        "national_batch": {
            "participant_table": table_clock.as_dict(),
            "engine": engine_clock.as_dict(),
            "numpy_reference": numpy_clock.as_dict(),
            "engine_s": engine_clock.wall,
            "engine_total_s": engine_total,
            "numpy_reference_s": numpy_clock.wall,
            "numpy_reference_total_s": numpy_total,
            "double_loop_s": loop_extrapolated,
            "double_loop_measured": {
                **loop_clock.as_dict(),
                "participants": loop_measured_people,
                "extrapolated": stride > 1,
                "note": (
                    f"one participant in {stride} of every territory, time extrapolated per territory"
                    if stride > 1
                    else "every participant"
                ),
            },
            "ratio_engine_to_numpy": engine_clock.wall / numpy_clock.wall,
            "ratio_engine_to_numpy_cpu": engine_clock.cpu / numpy_clock.cpu,
            "ratio_engine_to_numpy_total": engine_total / numpy_total,
            "speedup_engine_vs_double_loop": loop_extrapolated / engine_total,
        },
        "top10_check": {
            "sample": len(sample),
            "batch_vs_double_loop_mismatches": mismatches_loop,
            "single_vs_double_loop_mismatches": mismatches_single,
            "batch_vs_numpy_mismatches_all_participants": mismatches_numpy_all,
            "identical": mismatches_loop == 0 and mismatches_single == 0 and mismatches_numpy_all == 0,
        },
    }
    batch_ratio = results["national_batch"]["ratio_engine_to_numpy_total"]
    speedup = results["national_batch"]["speedup_engine_vs_double_loop"]
    identical = results["top10_check"]["identical"]
    results["targets_apply_at_scale"] = 1.0
    results["targets"] = {
        "one_participant_median_ms": _target(
            "<= 0.2", one["engine"]["median_ms"], TARGETS["one_participant_median_ms"]
        ),
        "one_participant_vs_numpy": _target("<= 2x", one_ratio, TARGETS["one_participant_vs_numpy_max"]),
        "batch_vs_numpy": _target("<= 1.5x", batch_ratio, TARGETS["batch_vs_numpy_max"]),
        "batch_speedup_vs_double_loop": {
            "target": ">= 5x",
            "value": speedup,
            "met": speedup >= TARGETS["batch_speedup_vs_double_loop_min"],
        },
        "top10_identical": {"target": "identical", "value": identical, "met": identical},
        "service_call_sqlite_p95_ms": {"target": "<= 5", "value": None, "met": None},
        "service_call_postgresql_p95_ms": {"target": "<= 10", "value": None, "met": None},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_table(results, echo)
    return results


def _target(text: str, value: float, limit: float) -> dict[str, Any]:
    return {"target": text, "value": value, "met": value <= limit}


def _print_table(results: dict[str, Any], echo: Callable[[str], Any]) -> None:
    one = results["one_participant"]
    batch = results["national_batch"]

    def cpu(name: str) -> float:
        return float(one[name]["cpu"]["median_ms"])

    lines = [
        "",
        f"{'mesure':<46} {'moteur':>12} {'réf. NumPy':>12} {'double boucle':>14}",
        "-" * 88,
        f"{'(a) un·e participant·e, médiane (ms)':<46} {one['engine']['median_ms']:>12.4f} "
        f"{one['numpy_reference']['median_ms']:>12.4f} {one['double_loop']['median_ms']:>14.4f}",
        f"{'(a) un·e participant·e, p95 (ms)':<46} {one['engine']['p95_ms']:>12.4f} "
        f"{one['numpy_reference']['p95_ms']:>12.4f} {one['double_loop']['p95_ms']:>14.4f}",
        f"{'(a) avec explications des 10 premières (ms)':<46} "
        f"{one['engine_with_explanations_top10']['median_ms']:>12.4f} {'':>12} {'':>14}",
        f"{'(a) médiane en temps CPU (ms)':<46} {cpu('engine'):>12.4f} "
        f"{cpu('numpy_reference'):>12.4f} {cpu('double_loop'):>14.4f}",
        f"{'(c) calcul national (s, table incluse)':<46} {batch['engine_total_s']:>12.2f} "
        f"{batch['numpy_reference_total_s']:>12.2f} {batch['double_loop_s']:>14.2f}"
        + (" (extrapolé)" if batch["double_loop_measured"]["extrapolated"] else ""),
        f"{'(c) temps CPU hors table (s)':<46} {batch['engine']['cpu_s']:>12.2f} "
        f"{batch['numpy_reference']['cpu_s']:>12.2f} {batch['double_loop_measured']['cpu_s']:>14.2f}"
        + (" (mesuré)" if batch["double_loop_measured"]["extrapolated"] else ""),
        "-" * 88,
        "(b) appel du service avec la base : non mesuré ici (emplacement réservé dans le JSON)",
        f"charge de la machine (1 min) : {results['machine']['load_average_before'][0]:.2f} avant, "
        f"{results['machine']['load_average_after'][0]:.2f} après, {results['machine']['cpus']} processeurs",
        "",
    ]
    for name, target in results["targets"].items():
        value = target["value"]
        shown = "—" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
        verdict = {True: "atteint", False: "MANQUÉ", None: "à mesurer"}[target["met"]]
        if results["scale"] < 1.0 and target["met"] is not None:
            # The targets are set for the national scale; a small run only shows the trend.
            verdict += " (indicatif : cibles fixées à l'échelle 1.0)"
        lines.append(f"  {name:<34} {target['target']:>12}  {shown:>10}  {verdict}")
    for line in lines:
        echo(line)
