"""The baselines the benches measure against, which are also the tests' oracles.

One copy of each slow-but-obvious implementation: the benches time the engines against them and
the property tests check that the engines give exactly their results.

Matching (`referral bench matching`, `bench/matching.py`; oracle of `tests/matching/test_properties.py`):
- `DoubleLoop`: the straightforward Python way — for each participant, for each opportunity of their
  territory, evaluate each criterion, score the eligible ones, sort;
- `NumpyReference`: a plain vectorised implementation — every criterion of the territory is a row
  of arrays, evaluated across the rows (one participant) or across participants × rows (batch),
  reduced per opportunity, then sorted.
Both compute the same numbers as the engine (`referral.matching`): they call its scalar
definitions (`criteria.evaluate`, `scoring.score_pair`, `index.opportunity_blockers`), not its index.

Network (`referral bench network`, `bench/network.py`; oracle of `tests/network/test_projection.py`):
- `bipartite_graph` + `project_networkx`: the partner ↔ structure projection by networkx's
  `weighted_projected_graph`, against the sparse product of `referral.network.projection`.
The other baselines are library calls made where they are measured: networkx's
`betweenness_centrality` (`bench/network.py`, `tests/network/test_analytics.py`) and rapidfuzz's
`process.extract` over every name (`bench/search.py`).

Pure module: no Flask, no session.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import networkx as nx
import numpy as np
from networkx.algorithms import bipartite

from referral.matching.criteria import (
    CompiledCriterion,
    compile_criteria,
    evaluate,
    facts_for,
)
from referral.matching.index import EXCLUDED, NEAR_MISS_MAX, opportunity_blockers
from referral.matching.scoring import (
    COVERAGE_DOMAINS,
    HOUSING_DOMAINS,
    NO_ANSWER,
    PRIORITY_WEIGHT,
    QUALITY_DOMAIN,
    QUALITY_OTHER_SUBTYPE,
    QUALITY_SUBTYPE,
    RESIDENCE_SUBTYPES,
    W_NEED,
    W_SOFT,
    W_URGENCY,
    relevance,
    relevance_rank,
    score_pair,
    static_contributions,
)
from referral.matching.snapshot import OpportunitySnapshot, ParticipantSnapshot, ReferenceTables
from referral.matching.table import CODE_FIELDS, NUMERIC_FIELDS, ParticipantTable
from referral.network.graph import PARTNER, STRUCTURE, node_id
from referral.network.projection import SIDES

TOP_K = 10

Top = list[tuple[int, float]]


# ---------------------------------------------------------------------------------------------
# Baseline 1: the straightforward Python double loop.


class DoubleLoop:
    """For each participant, for each opportunity of their territory: criteria one by one, then score."""

    def __init__(self, opportunities: Sequence[OpportunitySnapshot], reference: ReferenceTables) -> None:
        self.reference = reference
        self.by_territory: dict[int, list[tuple[OpportunitySnapshot, tuple[CompiledCriterion, ...]]]] = (
            defaultdict(list)
        )
        for opportunity in sorted(opportunities, key=lambda o: o.id):
            compiled = compile_criteria(opportunity.criteria, reference)
            for territory in opportunity.territory_ids:
                self.by_territory[territory].append((opportunity, compiled))

    def match(self, participant: ParticipantSnapshot, today: date, k: int = TOP_K) -> tuple[Top, int, int]:
        """(top k (id, score) eligible, number eligible, number of near misses)."""
        facts = facts_for(participant, self.reference, today)
        ranked: list[tuple[int, float, int]] = []
        near = 0
        for opportunity, criteria in self.by_territory.get(participant.territory_id, ()):
            blockers = opportunity_blockers(opportunity, today)
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
                score, _ = score_pair(facts, opportunity, met, total, today)
                rank, _ = relevance(participant.needs, opportunity)
                ranked.append((rank, -score, opportunity.id))
            elif blockers <= NEAR_MISS_MAX:
                near += 1
        ranked.sort()
        return [(oid, -negative) for _, negative, oid in ranked[:k]], len(ranked), near


# ---------------------------------------------------------------------------------------------
# Baseline 2: a plain NumPy vectorised reference.

_NUMERIC_INDEX = {field: i for i, field in enumerate(NUMERIC_FIELDS)}
_CODE_INDEX = {field: i for i, field in enumerate(CODE_FIELDS)}


@dataclass
class _RefTerritory:
    """One territory's opportunities as flat criterion rows (sorted by opportunity), for the reference."""

    size: int
    ids: np.ndarray
    starts: np.ndarray  # first row of each opportunity (every opportunity has at least its padding row)
    row_opportunity: np.ndarray
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
    opportunity_blockers: np.ndarray
    static: np.ndarray
    domain: np.ndarray  # domain index per opportunity
    subtype_member: np.ndarray  # (opportunities, subtype vocabulary) bool
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
        for opportunity in opportunities:
            for territory in opportunity.territory_ids:
                grouped[territory].append(opportunity)
            for code in (opportunity.domain, *opportunity.subtypes):
                self.need_vocabulary.setdefault(code, len(self.need_vocabulary))
            self.domain_vocabulary.setdefault(opportunity.domain, len(self.domain_vocabulary))
            for subtype in opportunity.subtypes:
                self.subtype_vocabulary.setdefault(subtype, len(self.subtype_vocabulary))
            for criterion in opportunity.criteria:
                if criterion.field == "has_need":
                    self.need_vocabulary.setdefault(str(criterion.value), len(self.need_vocabulary))
                elif criterion.field in _CODE_INDEX:
                    values = criterion.value if isinstance(criterion.value, tuple) else (criterion.value,)
                    vocabulary = self.code_vocabulary.setdefault(criterion.field, {})
                    for value in values:
                        vocabulary.setdefault(str(value), len(vocabulary))
        self.territories = {
            t: self._prepare(sorted(members, key=lambda o: o.id)) for t, members in grouped.items()
        }

    def _prepare(self, opportunities: list[OpportunitySnapshot]) -> _RefTerritory:
        reference, today = self.reference, self.today
        n = len(opportunities)
        rows: list[tuple[int, CompiledCriterion | None]] = []
        for position, opportunity in enumerate(opportunities):
            rows.append((position, None))  # padding row, always met: every opportunity has a row
            rows.extend(
                (position, criterion) for criterion in compile_criteria(opportunity.criteria, reference)
            )
        row_opportunity = np.array([p for p, _ in rows], dtype=np.intp)
        starts = np.searchsorted(row_opportunity, np.arange(n))
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
        np.add.at(soft_total, row_opportunity, weight)
        subtype_member = np.zeros((n, max(1, len(self.subtype_vocabulary))), dtype=bool)
        for position, opportunity in enumerate(opportunities):
            for subtype in opportunity.subtypes:
                subtype_member[position, self.subtype_vocabulary[subtype]] = True
        static = np.array(
            [
                ((parts[0] + parts[1]) + parts[2]) + parts[3]
                for parts in (static_contributions(opportunity, today) for opportunity in opportunities)
            ]
        )
        as_rows = lambda items: np.array(items, dtype=np.intp)  # noqa: E731
        return _RefTerritory(
            size=n,
            ids=np.array([o.id for o in opportunities], dtype=np.int64),
            starts=starts,
            row_opportunity=row_opportunity,
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
            opportunity_blockers=np.array(
                [opportunity_blockers(o, today) for o in opportunities], dtype=np.int64
            ),
            static=static,
            domain=np.array([self.domain_vocabulary[o.domain] for o in opportunities], dtype=np.int64),
            subtype_member=subtype_member,
            no_subtypes=np.array([not o.subtypes for o in opportunities], dtype=bool),
            housing=np.array([o.domain in HOUSING_DOMAINS for o in opportunities], dtype=np.float64),
            coverage=np.array([o.domain in COVERAGE_DOMAINS for o in opportunities], dtype=np.float64),
            residence=np.array(
                [any(s in RESIDENCE_SUBTYPES for s in o.subtypes) for o in opportunities], dtype=np.float64
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
        level = np.array([k[2] for k in keys] + [0])
        return {
            "numeric": numeric,
            "codes": codes,
            "has_need": has_need,
            "need_domain": domain[table.need_keys],
            "need_subtype": subtype[table.need_keys],
            "need_has_subtype": has_subtype[table.need_keys],
            "need_priority": priority[table.need_keys],
            "need_level": level[table.need_keys],
            "precarity": table.precarity.astype(np.float64),
            "covered": table.covered,
            "permit": table.permit,
        }

    def _scores(
        self, t: _RefTerritory, cols: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(blockers, score, relevance), each (participants × opportunities), for the participants in
        `cols`."""
        p = cols["numeric"].shape[0]
        ok = np.ones((p, len(t.row_opportunity)), dtype=bool)
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
        blockers = failures + t.opportunity_blockers
        soft = np.where(t.soft_total > 0, met / np.where(t.soft_total > 0, t.soft_total, 1.0), 0.5) * W_SOFT

        need = np.zeros((p, t.size))
        rank = np.full((p, t.size), NO_ANSWER, dtype=np.int64)
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
            # Answers: the exact subtype (kind 0) or the whole domain (kind 1); another subtype does not.
            kind = np.where(same_domain & exact, 0, np.where(same_domain & broad, 1, -1))
            base = np.array([relevance_rank(int(level), j, 0) for level in cols["need_level"][:, j]])
            answered = np.where(kind >= 0, base[:, None] + kind, NO_ANSWER)
            rank = np.minimum(rank, answered)
        precarity = cols["precarity"][:, None]
        housing = np.where(precarity >= 0, precarity / 3, 0.0) * t.housing
        coverage = (cols["covered"] == 0).astype(np.float64)[:, None] * t.coverage
        permit = cols["permit"][:, None] * t.residence
        urgency = np.maximum(np.maximum(housing, coverage), permit)
        score = (((W_NEED * need) + (W_URGENCY * urgency)) + soft) + t.static
        return blockers, score, rank

    def match_one(
        self, table: ParticipantTable, cols: dict[str, np.ndarray], row: int
    ) -> tuple[Top, list[int]]:
        """Top k eligible (id, score) and near-miss ids for the participant at `row` of `table`."""
        t = self.territories.get(int(table.territory_ids[row]))
        if t is None:
            return [], []
        one = {key: value[row : row + 1] for key, value in cols.items()}
        blockers, score, rank = self._scores(t, one)
        blockers, score, rank = blockers[0], score[0], rank[0]
        eligible = np.flatnonzero(blockers == 0)
        eligible = eligible[np.lexsort((eligible, -score[eligible], rank[eligible]))]
        near = np.flatnonzero((blockers >= 1) & (blockers <= NEAR_MISS_MAX))
        near = near[np.lexsort((near, -score[near], rank[near], blockers[near]))]
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
                blockers, score, rank = self._scores(
                    t, {key: value[positions] for key, value in cols.items()}
                )
                eligible = blockers == 0
                key = np.where(eligible, -score, np.inf)
                order = np.lexsort((key, np.where(eligible, rank, NO_ANSWER + 1)), axis=1)[:, :TOP_K]
                ok = np.take_along_axis(key, order, axis=1) < np.inf
                width = order.shape[1]
                top_ids[positions, :width] = np.where(ok, t.ids[order], -1)
                top_scores[positions, :width] = np.where(ok, np.take_along_axis(score, order, axis=1), np.nan)
        return top_ids, top_scores


# ---------------------------------------------------------------------------------------------
# Network: networkx's partner ↔ structure projection.


def bipartite_graph(structures: Iterable[int], partners: Iterable[int]) -> nx.Graph:
    """B as a networkx graph: nodes ``structure:…`` and ``partner:…`` with ``bipartite`` 0/1."""
    graph = nx.Graph()
    edges = [
        (node_id(STRUCTURE, int(s)), node_id(PARTNER, int(p)))
        for s, p in zip(structures, partners, strict=True)
    ]
    graph.add_nodes_from({u for u, _ in edges}, bipartite=0)
    graph.add_nodes_from({v for _, v in edges}, bipartite=1)
    graph.add_edges_from(edges)
    return graph


def project_networkx(graph: nx.Graph, onto: str = STRUCTURE) -> nx.Graph:
    """The baseline: networkx's weighted projection of B onto one side."""
    if onto not in SIDES:
        raise ValueError(f"onto must be one of {SIDES}, not {onto!r}")
    side = 0 if onto == STRUCTURE else 1
    nodes = [node for node, data in graph.nodes(data="bipartite") if data == side]
    return bipartite.weighted_projected_graph(graph, nodes)
