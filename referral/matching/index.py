"""The matching index: each territory's opportunities with their criteria compiled into one table.

Why a table. Whether a criterion holds depends on one value of the participant, and only on
which side of the criterion's thresholds that value falls. So for each field the values split
into a few classes (« moins de 6 mois », « exactement 6 », « plus de 6 »; « rue », « un autre
code », « non renseigné »…), and for each class the outcome of every criterion of the territory on
that field is known in advance. The index stores, per class, one row over the territory's opportunities:
how many hard criteria fail, and the weight (in thousandths) of the soft criteria met, packed in
one 64-bit integer (failures × 2³² + weight). Matching a participant is then: find their class for
each field (a bisection or a dict look-up), add up those rows, and read the failures and weights
off the sum. Open needs (``has_need``) add one row per open need code.

The classes are decided, and every row filled, by calling `criteria.holds` on one representative
value per class: the index cannot disagree with the reference semantics of an operator.

Everything else a score needs from the opportunity alone (capacity, answer rate, freshness, fair share,
whether it is open) is computed once per day; what depends on a need or on the housing and
coverage situation is cached per distinct need and situation. The French words are produced
only for the proposals actually returned (`ProposalSet.eligible(limit)`).

An index is immutable once built: web workers may share it, and the loader replaces a territory's
index when its opportunities change (`MatchingIndex.updated`).

Pure module: no Flask, no session.
"""

from __future__ import annotations

import copy
import dataclasses
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from referral.matching import explain, tags
from referral.matching.criteria import (
    CompiledCriterion,
    ParticipantFacts,
    compile_criteria,
    facts_for,
    holds,
)
from referral.matching.explain import Wording, wording
from referral.matching.proposals import ProposalSet
from referral.matching.registry import FIELDS, ValueKind
from referral.matching.scoring import (
    ANSWER_DOMAIN,
    ANSWER_EXACT,
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
    relevance_rank,
    static_contributions,
)
from referral.matching.snapshot import (
    NO_HISTORY,
    OpportunitySnapshot,
    ParticipantSnapshot,
    ReferenceTables,
    ReferralHistory,
)

FAIL = np.int64(1) << np.int64(32)
WEIGHT_MASK = np.int64(0xFFFFFFFF)
# Added to the blockers of an opportunity that is not open (draft, paused, closed, past its end): larger
# than any count of failing criteria, so it is never eligible nor a near miss.
EXCLUDED = 1 << 20
# Near misses fail at most this many hard conditions (« presque éligible »).
NEAR_MISS_MAX = 2

_OTHER = object()  # a code no criterion names: stands for every such code


@dataclass(frozen=True, slots=True)
class FieldClasses:
    """How one field's values split into classes for the criteria of one territory.

    Class 0 is « not recorded ». Numbers: with thresholds p₀ < p₁ < … the classes are
    ]-∞, p₀[, {p₀}, ]p₀, p₁[, {p₁}, … , ]pₙ, +∞[, numbered from 1. Codes: 1 is « any code no
    criterion names », then one class per named code.
    """

    field: str
    offset: int
    numeric: bool
    points: tuple[float, ...]
    codes: Mapping[Any, int]

    @property
    def size(self) -> int:
        return 2 + 2 * len(self.points) if self.numeric else 2 + len(self.codes)

    def representatives(self) -> list[Any]:
        """One value per class (None for « not recorded »), for filling the rows with `holds`."""
        if not self.numeric:
            return [None, _OTHER, *self.codes]
        points = self.points
        values: list[Any] = [None, points[0] - 1]
        for i, point in enumerate(points):
            values.append(point)
            values.append((point + points[i + 1]) / 2 if i + 1 < len(points) else point + 1)
        return values

    def of(self, value: Any) -> int:
        """The class of one value (the scalar path; the batch has a vectorised twin)."""
        if value is None:
            return 0
        if self.numeric:
            i = bisect_left(self.points, value)
            return 1 + 2 * i + (i < len(self.points) and self.points[i] == value)
        return self.codes.get(value, 1)


def _field_classes(field: str, offset: int, criteria: Iterable[CompiledCriterion]) -> FieldClasses:
    kind = FIELDS[field].kind
    numeric = kind in (ValueKind.NUMBER, ValueKind.BOOLEAN) or FIELDS[field].ordered
    values: set[Any] = set()
    for criterion in criteria:
        value = criterion.value
        if isinstance(value, tuple | frozenset):
            values.update(value)
        else:
            values.add(value)
    if numeric:
        points = tuple(sorted({float(v) for v in values}))
        return FieldClasses(field, offset, True, points, {})
    codes = {code: 2 + i for i, code in enumerate(sorted(values, key=str))}
    return FieldClasses(field, offset, False, (), codes)


@dataclass(frozen=True, slots=True)
class DayStatics:
    """What depends on the opportunities and the day only (freshness and opening dates move with it)."""

    day: date
    static: np.ndarray  # capacity + answer rate + freshness + fair share contributions
    parts: np.ndarray  # shape (4, n): those four contributions, for the breakdown
    blockers: np.ndarray  # int64: 0, 1 (full without waiting list, not open yet) or EXCLUDED
    # The opportunity-only reasons in French, filled on demand (position -> factor -> sentence).
    reasons: dict[int, dict[str, str | None]] = dataclasses.field(default_factory=dict)


class TerritoryIndex:
    """The opportunities of one territory, compiled for matching (see the module docstring)."""

    def __init__(
        self,
        territory_id: int,
        opportunities: Iterable[OpportunitySnapshot],
        reference: ReferenceTables,
        *,
        criterion_wordings: dict[tuple[str, str, Any], Wording] | None = None,
    ) -> None:
        self.territory_id = territory_id
        self.reference = reference
        # Sorted by id, so that a stable sort on the score breaks ties by opportunity id.
        self.opportunities: tuple[OpportunitySnapshot, ...] = tuple(sorted(opportunities, key=lambda o: o.id))
        ordered = self.opportunities
        n = len(ordered)
        self.size = n
        self.ids = np.fromiter((o.id for o in ordered), dtype=np.int64, count=n)
        self.compiled: tuple[tuple[CompiledCriterion, ...], ...] = tuple(
            compile_criteria(o.criteria, reference) for o in ordered
        )
        self._compile_table()
        self._compile_scoring()
        self._day_statics: DayStatics | None = None
        self._need_cache: dict[tuple[str, str | None, int], np.ndarray] = {}
        self._wordings: dict[int, tuple[Wording, ...]] = {}
        # Sentences per criterion (field, operator, value), shared by the territories of one
        # `MatchingIndex`: a national opportunity, and the same criterion on many opportunities, is
        # worded once.
        self._criterion_wordings = {} if criterion_wordings is None else criterion_wordings
        self._texts: tuple[tuple[str, ...], ...] | None = None
        self._urgency_cache: dict[tuple[int, int], np.ndarray] = {}
        self._answer_cache: dict[tuple[str, str | None], np.ndarray] = {}

    # -- compilation ---------------------------------------------------------------------------

    def _compile_table(self) -> None:
        by_field: dict[str, list[tuple[int, CompiledCriterion]]] = defaultdict(list)
        needs: list[tuple[int, CompiledCriterion]] = []
        for position, criteria in enumerate(self.compiled):
            for criterion in criteria:
                if criterion.field == "has_need":
                    needs.append((position, criterion))
                else:
                    by_field[criterion.field].append((position, criterion))

        n = self.size
        fields: list[FieldClasses] = []
        offset = 1  # row 0: what every participant gets (has_need failures, neutral soft weight)
        for field in FIELDS:  # registry order: deterministic
            if field in by_field:
                classes = _field_classes(field, offset, (c for _, c in by_field[field]))
                fields.append(classes)
                offset += classes.size
        need_codes = sorted({c.value for _, c in needs})
        need_rows = {code: offset + i for i, code in enumerate(need_codes)}
        zero_row = offset + len(need_codes)
        table = np.zeros((zero_row + 1, n), dtype=np.int64)

        soft_total = np.zeros(n, dtype=np.int64)
        for position, criteria in enumerate(self.compiled):
            for criterion in criteria:
                if not criterion.hard:
                    soft_total[position] += criterion.weight_milli
        # An opportunity without soft criteria scores them as neutral: ½, i.e. 1 met out of 2.
        no_soft = soft_total == 0
        soft_total[no_soft] = 2
        table[0, no_soft] += 1

        # (row, opportunity position, amount) triples, added to the table in one go at the end.
        rows: list[int] = []
        columns: list[int] = []
        amounts: list[int] = []
        fail = int(FAIL)
        for classes in fields:
            representatives = classes.representatives()
            for position, criterion in by_field[classes.field]:
                for klass, value in enumerate(representatives):
                    outcome = holds(criterion.op, criterion.value, value)
                    if criterion.hard and not outcome:
                        amount = fail
                    elif not criterion.hard and outcome:
                        amount = criterion.weight_milli
                    else:
                        continue
                    rows.append(classes.offset + klass)
                    columns.append(position)
                    amounts.append(amount)
        for position, criterion in needs:
            if criterion.hard:
                rows += [0, need_rows[criterion.value]]
                columns += [position, position]
                amounts += [fail, -fail]
            else:
                rows.append(need_rows[criterion.value])
                columns.append(position)
                amounts.append(criterion.weight_milli)
        np.add.at(
            table,
            (np.array(rows, dtype=np.intp), np.array(columns, dtype=np.intp)),
            np.array(amounts, dtype=np.int64),
        )

        self.fields: tuple[FieldClasses, ...] = tuple(fields)
        self.need_rows = need_rows
        self.zero_row = zero_row
        self.table = table
        self.soft_total = soft_total
        # The scalar path walks these tuples: fewer attribute look-ups per participant.
        self._walk = tuple((f.field, f.offset, f.numeric, list(f.points), dict(f.codes)) for f in fields)

    def _compile_scoring(self) -> None:
        opportunities = self.opportunities
        self.housing_mask = np.array([o.domain in HOUSING_DOMAINS for o in opportunities], dtype=np.float64)
        self.coverage_mask = np.array([o.domain in COVERAGE_DOMAINS for o in opportunities], dtype=np.float64)
        self.residence_mask = np.array(
            [any(s in RESIDENCE_SUBTYPES for s in o.subtypes) for o in opportunities], dtype=np.float64
        )
        self.has_residence_opportunities = bool(self.residence_mask.any())
        by_domain: dict[str, list[int]] = defaultdict(list)
        # Keyed by (domain, subtype): a need answers an opportunity of its own domain only.
        by_subtype: dict[tuple[str, str], list[int]] = defaultdict(list)
        whole_domain: dict[str, list[int]] = defaultdict(list)
        for position, opportunity in enumerate(opportunities):
            by_domain[opportunity.domain].append(position)
            if not opportunity.subtypes:
                whole_domain[opportunity.domain].append(position)
            for subtype in set(opportunity.subtypes):
                by_subtype[(opportunity.domain, subtype)].append(position)
        as_array = lambda groups: {k: np.array(v, dtype=np.intp) for k, v in groups.items()}  # noqa: E731
        self._by_domain = as_array(by_domain)
        self._by_subtype = as_array(by_subtype)
        self._whole_domain = as_array(whole_domain)
        self.zeros = np.zeros(self.size, dtype=np.float64)
        self.zeros.flags.writeable = False

    # -- per day, per need, per situation ------------------------------------------------------

    def day(self, today: date) -> DayStatics:
        """The opportunity-only part of the score and the opportunity-level blockers on `today` (cached)."""
        cached = self._day_statics
        if cached is not None and cached.day == today:
            return cached
        n = self.size
        parts = np.zeros((4, n), dtype=np.float64)
        static = np.zeros(n, dtype=np.float64)
        blockers = np.zeros(n, dtype=np.int64)
        for position, opportunity in enumerate(self.opportunities):
            contributions = static_contributions(opportunity, today)
            parts[:, position] = contributions
            capacity, answer, fresh, fair = contributions
            static[position] = ((capacity + answer) + fresh) + fair
            blockers[position] = opportunity_blockers(opportunity, today)
        for array in (parts, static, blockers):
            array.flags.writeable = False
        statics = DayStatics(today, static, parts, blockers)
        self._day_statics = statics
        return statics

    def need_contribution(self, domain: str, subtype: str | None, priority: int) -> np.ndarray:
        """W_NEED × priority weight × how well each opportunity answers the need (cached per need)."""
        key = (domain, subtype, priority)
        cached = self._need_cache.get(key)
        if cached is not None:
            return cached
        quality = np.zeros(self.size, dtype=np.float64)
        positions = self._by_domain.get(domain)
        if positions is not None:
            quality[positions] = QUALITY_DOMAIN if subtype is None else QUALITY_OTHER_SUBTYPE
            whole = self._whole_domain.get(domain)
            if whole is not None:
                quality[whole] = QUALITY_DOMAIN
            exact = self._by_subtype.get((domain, subtype)) if subtype is not None else None
            if exact is not None:
                quality[exact] = QUALITY_SUBTYPE
        contribution = W_NEED * (PRIORITY_WEIGHT[priority] * quality)
        contribution.flags.writeable = False
        self._need_cache[key] = contribution
        return contribution

    def answer_kinds(self, domain: str, subtype: str | None) -> np.ndarray:
        """How each opportunity answers a need of this domain and subtype: `ANSWER_EXACT`,
        `ANSWER_DOMAIN`, or -1 when it does not answer it (see `scoring.answer_kind`; cached)."""
        key = (domain, subtype)
        cached = self._answer_cache.get(key)
        if cached is not None:
            return cached
        kinds = np.full(self.size, -1, dtype=np.int64)
        positions = self._by_domain.get(domain)
        if positions is not None:
            if subtype is None:
                kinds[positions] = ANSWER_DOMAIN
            else:
                whole = self._whole_domain.get(domain)
                if whole is not None:
                    kinds[whole] = ANSWER_DOMAIN
                exact = self._by_subtype.get((domain, subtype))
                if exact is not None:
                    kinds[exact] = ANSWER_EXACT
        kinds.flags.writeable = False
        self._answer_cache[key] = kinds
        return kinds

    def relevance(self, needs: Sequence[Any]) -> np.ndarray:
        """Each opportunity's relevance rank for these open needs (`scoring.relevance`, vectorised)."""
        rank = np.full(self.size, NO_ANSWER, dtype=np.int64)
        for position, need in enumerate(needs):
            kinds = self.answer_kinds(need.domain, need.subtype)
            base = relevance_rank(need.priority, position, 0)
            np.minimum(rank, np.where(kinds >= 0, base + kinds, NO_ANSWER), out=rank)
        return rank

    def urgency_contribution(self, precarity: int | None, covered: bool | None) -> np.ndarray:
        """W_URGENCY × the housing or coverage urgency of each opportunity for this situation (cached)."""
        key = (-1 if precarity is None else precarity, -1 if covered is None else int(covered))
        cached = self._urgency_cache.get(key)
        if cached is not None:
            return cached
        housing = precarity / 3 if precarity is not None else 0.0
        coverage = 1.0 if covered is False else 0.0
        urgency = W_URGENCY * np.maximum(self.housing_mask * housing, self.coverage_mask * coverage)
        urgency.flags.writeable = False
        self._urgency_cache[key] = urgency
        return urgency

    def refreshed(self, replacements: Mapping[int, OpportunitySnapshot]) -> TerritoryIndex | None:
        """A copy with these opportunities replaced, sharing the compiled criteria, when every one of them
        is already here with the same criteria, domain and subtypes (None otherwise)."""
        opportunities = list(self.opportunities)
        for opportunity_id, opportunity in replacements.items():
            position = int(np.searchsorted(self.ids, opportunity_id))
            if position >= self.size or self.ids[position] != opportunity_id:
                return None
            before = opportunities[position]
            if (before.criteria, before.domain, before.subtypes) != (
                opportunity.criteria,
                opportunity.domain,
                opportunity.subtypes,
            ):
                return None
            opportunities[position] = opportunity
        clone = copy.copy(self)
        clone.opportunities = tuple(opportunities)
        # What depends on the figures or the words of an opportunity is computed again on demand; the
        # caches of needs, situations and criteria wordings stay valid and are shared.
        clone._day_statics = None
        clone._texts = None
        return clone

    def opportunity_reasons(self, position: int, today: date) -> dict[str, str | None]:
        """The French sentences of the factors that depend on the opportunity alone (cached per day)."""
        statics = self.day(today)
        cached = statics.reasons.get(position)
        if cached is None:
            opportunity = self.opportunities[position]
            cached = {
                "capacity": explain.capacity_reason(opportunity),
                "answer_rate": explain.answer_reason(opportunity),
                "freshness": explain.freshness_reason(opportunity, today),
                "fair_share": explain.fair_share_reason(opportunity),
            }
            statics.reasons[position] = cached
        return cached

    def texts(self) -> tuple[tuple[str, ...], ...]:
        """Each opportunity's folded title, partner name and tags, for free-text search (built on demand)."""
        if self._texts is None:
            self._texts = tuple(tags.opportunity_texts(opportunity) for opportunity in self.opportunities)
        return self._texts

    def wordings(self, position: int) -> tuple[Wording, ...]:
        """The French sentences of an opportunity's criteria, its part filled in (cached per
        opportunity)."""
        cached = self._wordings.get(position)
        if cached is None:
            shared = self._criterion_wordings
            words = []
            for criterion in self.compiled[position]:
                key = (criterion.field, criterion.op, criterion.source.value)
                words_of = shared.get(key)
                if words_of is None:
                    words_of = shared[key] = wording(criterion, self.reference)
                words.append(words_of)
            cached = self._wordings[position] = tuple(words)
        return cached

    def prepare(self, today: date) -> None:
        """Compute now what the first request would otherwise pay for: the opportunities' figures of
        the day, their own reasons and their criteria's sentences."""
        for position in range(self.size):
            self.opportunity_reasons(position, today)  # computes the day's figures on the first one
            self.wordings(position)

    # -- one participant -----------------------------------------------------------------------

    def rows_for(self, facts: ParticipantFacts) -> list[int]:
        """The table rows of the participant's classes and open needs (row 0 always)."""
        values = facts.values
        rows = [0]
        append = rows.append
        for field, offset, numeric, points, codes in self._walk:
            value = values[field]
            if value is None:
                append(offset)
            elif numeric:
                i = bisect_left(points, value)
                append(offset + 1 + 2 * i + (i < len(points) and points[i] == value))
            else:
                append(offset + codes.get(value, 1))
        need_rows = self.need_rows
        if need_rows:
            for code in facts.need_codes:
                row = need_rows.get(code)
                if row is not None:
                    append(row)
        return rows

    def match_facts(
        self, facts: ParticipantFacts, today: date, history: ReferralHistory = NO_HISTORY
    ) -> ProposalSet:
        """Rank this territory's opportunities for one participant (arrays only; words on demand)."""
        statics = self.day(today)
        packed = np.add.reduce(self.table.take(self.rows_for(facts), axis=0), axis=0)
        blockers = (packed >> 32) + statics.blockers
        soft = ((packed & WEIGHT_MASK) / self.soft_total) * W_SOFT

        needs = facts.participant.needs
        if not needs:
            need = self.zeros
        else:
            first = needs[0]
            need = self.need_contribution(first.domain, first.subtype, first.priority)
            for other in needs[1:]:
                need = np.maximum(need, self.need_contribution(other.domain, other.subtype, other.priority))
        urgency = self.urgency_contribution(facts.precarity, facts.covered)
        if facts.permit_urgency > 0.0 and self.has_residence_opportunities:
            urgency = np.maximum(urgency, W_URGENCY * (self.residence_mask * facts.permit_urgency))
        score = ((need + urgency) + soft) + statics.static

        relevance = self.relevance(needs)
        # One sort for both lists: by blockers (0 = eligible, then near misses), then relevance to
        # the open needs (DESIGN §6: the need first), best score next, then position — i.e.
        # opportunity id, since the index is sorted by id.
        candidates = np.flatnonzero(blockers <= NEAR_MISS_MAX)
        candidate_blockers = blockers[candidates]
        ranked = candidates[np.lexsort((-score[candidates], relevance[candidates], candidate_blockers))]
        split = int(np.count_nonzero(candidate_blockers == 0))
        eligible, near = ranked[:split], ranked[split:]
        return ProposalSet(
            index=self,
            facts=facts,
            history=history,
            today=today,
            statics=statics,
            score=score,
            need=need,
            urgency=urgency,
            soft=soft,
            blockers=blockers,
            relevance=relevance,
            eligible_positions=eligible,
            near_positions=near,
        )

    def match(
        self, participant: ParticipantSnapshot, today: date, history: ReferralHistory = NO_HISTORY
    ) -> ProposalSet:
        return self.match_facts(facts_for(participant, self.reference, today), today, history)


def opportunity_blockers(opportunity: OpportunitySnapshot, today: date) -> int:
    """Conditions of the opportunity itself that stop a referral today, whoever the person.

    Not open (draft, paused, closed, past its end) excludes it altogether. Full without a
    waiting list, or not open yet, is one blocker: such an opportunity can still be a near miss.
    """
    if opportunity.status != "published" or (
        opportunity.valid_until is not None and opportunity.valid_until < today
    ):
        return EXCLUDED
    count = 0
    if opportunity.places_left <= 0 and not opportunity.waitlist:
        count += 1
    if opportunity.valid_from is not None and opportunity.valid_from > today:
        count += 1
    return count


class MatchingIndex:
    """Every territory's `TerritoryIndex`, built once from all open opportunities.

    A national opportunity appears in the index of every territory in its `territory_ids`.
    """

    def __init__(
        self,
        opportunities: Iterable[OpportunitySnapshot],
        reference: ReferenceTables,
        *,
        territories: Mapping[int, TerritoryIndex] | None = None,
        criterion_wordings: dict[tuple[str, str, Any], Wording] | None = None,
    ) -> None:
        self.reference = reference
        self.criterion_wordings: dict[tuple[str, str, Any], Wording] = (
            {} if criterion_wordings is None else criterion_wordings
        )
        if territories is not None:
            self.territories: dict[int, TerritoryIndex] = dict(territories)
            return
        grouped: dict[int, list[OpportunitySnapshot]] = defaultdict(list)
        for opportunity in opportunities:
            for territory_id in opportunity.territory_ids:
                grouped[territory_id].append(opportunity)
        self.territories = {
            territory_id: self._territory_index(territory_id, members)
            for territory_id, members in sorted(grouped.items())
        }

    def _territory_index(
        self, territory_id: int, opportunities: Iterable[OpportunitySnapshot]
    ) -> TerritoryIndex:
        return TerritoryIndex(
            territory_id, opportunities, self.reference, criterion_wordings=self.criterion_wordings
        )

    def prepare(self, today: date) -> MatchingIndex:
        """Compute every territory's figures and sentences for `today` now, at build time, so
        that no request pays for being the first of its territory (see `TerritoryIndex.prepare`)."""
        for index in self.territories.values():
            index.prepare(today)
        return self

    def territory(self, territory_id: int) -> TerritoryIndex:
        index = self.territories.get(territory_id)
        if index is None:
            index = self._territory_index(territory_id, ())
        return index

    def match(
        self, participant: ParticipantSnapshot, today: date, history: ReferralHistory | None = None
    ) -> ProposalSet:
        """The ranked proposals for one participant among their territory's opportunities on `today`."""
        return self.territory(participant.territory_id).match(participant, today, history or NO_HISTORY)

    def opportunities(self) -> list[OpportunitySnapshot]:
        seen: dict[int, OpportunitySnapshot] = {}
        for index in self.territories.values():
            for opportunity in index.opportunities:
                seen.setdefault(opportunity.id, opportunity)
        return [seen[key] for key in sorted(seen)]

    def updated(
        self, upserted: Sequence[OpportunitySnapshot] = (), removed_ids: Iterable[int] = ()
    ) -> MatchingIndex:
        """A new index with these opportunities added, replaced or removed; untouched territories are
        shared with this one. A territory whose opportunities only changed in figures (places left,
        recent referrals, status, answer rate, title…) keeps its compiled criteria; only one
        whose criteria, domain or subtypes changed, or that gained or lost an opportunity, is compiled
        again. This one is left as it was: requests running on it are not disturbed."""
        removed = set(removed_ids) | {opportunity.id for opportunity in upserted}
        touched: set[int] = set()
        for territory_id, index in self.territories.items():
            if any(opportunity.id in removed for opportunity in index.opportunities):
                touched.add(territory_id)
        for opportunity in upserted:
            touched.update(opportunity.territory_ids)
        territories = {tid: index for tid, index in self.territories.items() if tid not in touched}
        for territory_id in sorted(touched):
            current = self.territory(territory_id)
            replacements = {o.id: o for o in upserted if territory_id in o.territory_ids}
            # Same opportunities before and after (none leaves, none arrives): maybe only figures changed.
            same_opportunities = {o.id for o in current.opportunities} & removed == set(replacements)
            refreshed = current.refreshed(replacements) if same_opportunities else None
            if refreshed is not None:
                territories[territory_id] = refreshed
                continue
            opportunities = [o for o in current.opportunities if o.id not in removed]
            opportunities += list(replacements.values())
            if opportunities:
                territories[territory_id] = self._territory_index(territory_id, opportunities)
        return MatchingIndex(
            (), self.reference, territories=territories, criterion_wordings=self.criterion_wordings
        )
