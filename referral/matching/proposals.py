"""Proposals (« propositions d'orientation »): the ranked result for one participant, in words.

`TerritoryIndex.match` ranks with arrays; a `ProposalSet` keeps them and turns into `Proposal`
objects — with their French reasons, blocking criteria, flags and eligibility date — only the
proposals asked for (`eligible(limit)`, `near_misses(limit)`). A page showing ten proposals pays
for ten explanations, not for every opportunity of the territory.

`Proposal.to_dict()` is the API contract of DESIGN §9: ``{opportunity_id, opportunity_title,
partner_id, partner_name, domain, score, breakdown: {factor: contribution}, reasons: [French],
flags: [code], eligible_on?}``, plus ``blocking``, ``criteria`` and ``answers_need`` (added, never
renamed). `ProposalSet.to_dict` adds ``by_need``, ``others`` and ``gaps`` beside ``eligible`` and
``near_misses``: the proposals grouped by open need, in the need's priority order (DESIGN §6).

Pure module: no Flask, no session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from referral.matching import explain, gaps, tags
from referral.matching.criteria import CompiledCriterion, ParticipantFacts, eligible_on, holds
from referral.matching.dates import add_months
from referral.matching.scoring import FACTORS, NO_ANSWER, best_need, relevance, urgency_value
from referral.matching.snapshot import OpenNeed, OpportunitySnapshot, ReferralHistory

if TYPE_CHECKING:
    from referral.matching.index import DayStatics, TerritoryIndex

# Flags (codes of the contract).
ALREADY_REFERRED = "already_referred"
REFUSED_RECENTLY = "refused_recently"
NEARLY_FULL = "nearly_full"
FULL = "full"
FLAGS = (ALREADY_REFERRED, REFUSED_RECENTLY, NEARLY_FULL, FULL)
# The one table of French labels for the flags: the page's badges and the reasons both read it.
FLAG_LABELS: dict[str, str] = {
    ALREADY_REFERRED: "Déjà orienté·e vers cette offre",
    REFUSED_RECENTLY: "Refusé·e récemment par ce partenaire",
    NEARLY_FULL: "Presque complète",
    FULL: "Complète : liste d'attente",
}

# A refusal by the partner counts as recent for this many months (« refusé·e récemment »).
REFUSAL_MONTHS = 6
# An opportunity is nearly full when at most this share of its capacity is left (and at least one place).
NEARLY_FULL_SHARE = 0.2


class CriterionOutcome(NamedTuple):
    """One criterion of the opportunity checked against the person, with its French sentence."""

    field: str
    op: str
    hard: bool
    met: bool | None  # None: the information is not recorded
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "op": self.op, "hard": self.hard, "met": self.met, "text": self.text}


@dataclass(frozen=True, slots=True)
class Proposal:
    """A ranked, explained (participant, opportunity) match.

    `score` is exactly the sum of `breakdown` (factor → contribution, see `scoring.FACTORS`).
    `blocking` lists, in French, what stops the referral today (empty when `eligible`);
    `eligible_on` is the day a near miss becomes eligible when only the calendar stands in the way.
    """

    opportunity_id: int
    opportunity_title: str
    partner_id: int
    partner_name: str
    domain: str
    score: float
    breakdown: Mapping[str, float]
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    eligible: bool
    blocking: tuple[str, ...] = ()
    criteria: tuple[CriterionOutcome, ...] = ()
    eligible_on: date | None = None
    # The open need this opportunity answers best (None: it answers none), and its French label.
    answers_need: OpenNeed | None = None
    answers_need_label: str | None = None

    @property
    def answers_need_text(self) -> str | None:
        """« Répond au frein : Logement social, priorité 1 » (None when it answers no need)."""
        need = self.answers_need
        if need is None:
            return None
        return f"Répond au frein : {self.answers_need_label}, priorité {need.priority}"

    def to_dict(self) -> dict[str, Any]:
        """The API shape (DESIGN §9); ``eligible_on`` only on near misses, ISO 8601 or null."""
        data: dict[str, Any] = {
            "opportunity_id": self.opportunity_id,
            "opportunity_title": self.opportunity_title,
            "partner_id": self.partner_id,
            "partner_name": self.partner_name,
            "domain": self.domain,
            "score": self.score,
            "breakdown": dict(self.breakdown),
            "reasons": list(self.reasons),
            "flags": list(self.flags),
        }
        if not self.eligible:
            data["eligible_on"] = self.eligible_on.isoformat() if self.eligible_on else None
        data["blocking"] = list(self.blocking)
        data["criteria"] = [outcome.to_dict() for outcome in self.criteria]
        need = self.answers_need
        data["answers_need"] = (
            None
            if need is None
            else {
                "id": need.id,
                "domain": need.domain,
                "subtype": need.subtype,
                "priority": need.priority,
                "label": self.answers_need_label,
            }
        )
        return data


@dataclass(frozen=True, slots=True)
class NeedGroup:
    """One open need and what answers it: eligible proposals, near misses, and when no eligible
    opportunity answers it, the sentence that says so and what is missing (`gap`)."""

    need: OpenNeed
    label: str
    eligible: list[Proposal]
    near_misses: list[Proposal]
    gap: gaps.Gap | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "need": {
                "id": self.need.id,
                "domain": self.need.domain,
                "subtype": self.need.subtype,
                "priority": self.need.priority,
                "label": self.label,
            },
            "eligible": [proposal.to_dict() for proposal in self.eligible],
            "near_misses": [proposal.to_dict() for proposal in self.near_misses],
            "gap": None if self.gap is None else self.gap.sentence,
        }


def flags_for(opportunity: OpportunitySnapshot, history: ReferralHistory, today: date) -> tuple[str, ...]:
    """Flag, never hide: a person already referred there, refused by that partner lately, a full
    opportunity."""
    return _flags(opportunity, history, _refusal_since(today), today)


def _refusal_since(today: date) -> date:
    return add_months(today, -REFUSAL_MONTHS)


def _flags(
    opportunity: OpportunitySnapshot, history: ReferralHistory, since: date, today: date
) -> tuple[str, ...]:
    flags: list[str] = []
    if opportunity.id in history.referred_opportunity_ids:
        flags.append(ALREADY_REFERRED)
    if history.refusals and _recent_refusal(opportunity, history, since, today) is not None:
        flags.append(REFUSED_RECENTLY)
    left = opportunity.places_left
    if left <= 0:
        flags.append(FULL)
    elif left <= max(1, math.ceil(opportunity.capacity * NEARLY_FULL_SHARE)):
        flags.append(NEARLY_FULL)
    return tuple(flags)


def _recent_refusal(
    opportunity: OpportunitySnapshot, history: ReferralHistory, since: date, today: date
) -> date | None:
    days = [
        day
        for partner, day in history.refusals
        if partner == opportunity.partner_id and since <= day <= today
    ]
    return max(days) if days else None


class ProposalSet:
    """The ranking of one territory's opportunities for one participant on one day.

    Holds the arrays the index computed (scores and contributions per opportunity, in the index's
    order) and the positions of the eligible opportunities and near misses, best first. Words are made
    on demand by `eligible()` and `near_misses()`.
    """

    __slots__ = (
        "index",
        "facts",
        "history",
        "today",
        "statics",
        "score",
        "need",
        "urgency",
        "soft",
        "blockers",
        "relevance",
        "eligible_positions",
        "near_positions",
        "_actual",
        "_explained",
    )

    def __init__(
        self,
        *,
        index: TerritoryIndex,
        facts: ParticipantFacts,
        history: ReferralHistory,
        today: date,
        statics: DayStatics,
        score: np.ndarray,
        need: np.ndarray,
        urgency: np.ndarray,
        soft: np.ndarray,
        blockers: np.ndarray,
        eligible_positions: np.ndarray,
        near_positions: np.ndarray,
        relevance: np.ndarray | None = None,
    ) -> None:
        self.index = index
        self.facts = facts
        self.history = history
        self.today = today
        self.statics = statics
        self.score = score
        self.need = need
        self.urgency = urgency
        self.soft = soft
        self.blockers = blockers
        self.relevance = relevance if relevance is not None else index.relevance(facts.participant.needs)
        self.eligible_positions = eligible_positions
        self.near_positions = near_positions
        self._actual: dict[str, str] = {}
        # Each opportunity is explained once: the API's answer lists many twice or more (in
        # `eligible`, in its need's group, in a gap's near misses), and explaining is most of its cost.
        self._explained: dict[int, Proposal] = {}

    @property
    def participant_id(self) -> int:
        return self.facts.participant.id

    @property
    def eligible_ids(self) -> list[int]:
        """Ids of the eligible opportunities, best first."""
        return self.index.ids[self.eligible_positions].tolist()

    @property
    def near_miss_ids(self) -> list[int]:
        """Ids of the near misses (one or two hard conditions missing), fewest blockers first."""
        return self.index.ids[self.near_positions].tolist()

    def scores(self, ids: list[int] | None = None) -> dict[int, float]:
        """Score per eligible opportunity id (or per given id among this territory's opportunities)."""
        positions = (
            self.eligible_positions if ids is None else np.searchsorted(self.index.ids, np.asarray(ids))
        )
        return dict(zip(self.index.ids[positions].tolist(), self.score[positions].tolist(), strict=True))

    def eligible(self, limit: int | None = None) -> list[Proposal]:
        """The eligible proposals, best first, explained (the first `limit` only, when given)."""
        return self.proposals(self.eligible_positions if limit is None else self.eligible_positions[:limit])

    def near_misses(self, limit: int | None = None) -> list[Proposal]:
        """Opportunities missing one or two hard conditions, with what is missing and when it will not be."""
        return self.proposals(self.near_positions if limit is None else self.near_positions[:limit])

    def search(
        self, query: str, limit: int | None = None, *, threshold: float = tags.DEFAULT_THRESHOLD
    ) -> list[Proposal]:
        """The eligible proposals whose opportunity's title, tags or partner name look like `query`
        (« sans cv » finds « Embauche sans CV »), in ranking order."""
        folded = tags.fold(query)
        texts = self.index.texts()
        found = [
            p for p in self.eligible_positions.tolist() if tags.similarity(folded, texts[p]) >= threshold
        ]
        return self.proposals(np.array(found[:limit] if limit is not None else found, dtype=np.intp))

    @property
    def needs(self) -> tuple[OpenNeed, ...]:
        return self.facts.participant.needs

    def first_answers_need(self) -> bool | None:
        """Whether the first eligible proposal answers an open need (None: nothing is eligible)."""
        if not len(self.eligible_positions):
            return None
        return int(self.relevance[self.eligible_positions[0]]) < NO_ANSWER

    def by_need(self, limit: int | None = None) -> list[NeedGroup]:
        """For each open need, in priority order: the eligible opportunities answering it (an exact
        answer before a whole-domain one, then by score), its near misses, and the gap sentence when
        nothing eligible answers it. `limit` applies to each list."""
        groups = []
        # Priority order; the snapshot's order among equals (the loader's: by need id).
        for need in sorted(self.needs, key=lambda need: need.priority):
            kinds = self.index.answer_kinds(need.domain, need.subtype)
            lists = []
            for positions in (self.eligible_positions, self.near_positions):
                answering = positions[kinds[positions] >= 0]
                # Eligible: exact first, then score; near misses: fewest blockers, exact first, score.
                order = np.lexsort((-self.score[answering], kinds[answering], self.blockers[answering]))
                answering = answering[order]
                lists.append(answering if limit is None else answering[:limit])
            eligible, near = lists
            gap = None
            if not len(eligible):
                gap = gaps.gap_for(
                    need,
                    self.index,
                    self.statics,
                    self.near_misses_answering(kinds),
                )
            groups.append(
                NeedGroup(
                    need=need,
                    label=explain.need_label(need, self.index.reference),
                    eligible=self.proposals(eligible),
                    near_misses=self.proposals(near),
                    gap=gap,
                )
            )
        return groups

    def near_misses_answering(self, kinds: np.ndarray) -> list[Proposal]:
        """Every near miss answering the need whose answer kinds are `kinds` (for its gap sentence)."""
        return self.proposals(self.near_positions[kinds[self.near_positions] >= 0])

    def others(self, limit: int | None = None) -> list[Proposal]:
        """Eligible opportunities answering no open need (« Autres opportunités »), best first."""
        positions = self.eligible_positions[self.relevance[self.eligible_positions] >= NO_ANSWER]
        return self.proposals(positions if limit is None else positions[:limit])

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        """``{eligible, near_misses, by_need, others, gaps}`` as `GET /participants/{id}/proposals`
        answers (the last three added to the contract)."""
        groups = self.by_need(limit)
        return {
            "eligible": [proposal.to_dict() for proposal in self.eligible(limit)],
            "near_misses": [proposal.to_dict() for proposal in self.near_misses(limit)],
            "by_need": [group.to_dict() for group in groups],
            "others": [proposal.to_dict() for proposal in self.others(limit)],
            "gaps": [group.gap.to_dict() for group in groups if group.gap is not None],
        }

    def proposal(self, position: int) -> Proposal:
        """One opportunity of the territory (by its position in the index), fully explained."""
        return self.proposals(np.array([position], dtype=np.intp))[0]

    def proposals(self, positions: np.ndarray) -> list[Proposal]:
        """Opportunities of the territory (by position in the index), fully explained, in that order."""
        wanted = positions.tolist()
        explained = self._explained
        missing = [position for position in dict.fromkeys(wanted) if position not in explained]
        if missing:
            fresh = np.array(missing, dtype=np.intp)
            # Numbers leave NumPy in one go per array: element access is slow, words are per opportunity.
            contributions = np.vstack(
                (
                    self.need[fresh],
                    self.urgency[fresh],
                    self.soft[fresh],
                    self.statics.parts[:, fresh],
                )
            ).T.tolist()
            scores = self.score[fresh].tolist()
            blockers = self.blockers[fresh].tolist()
            since = _refusal_since(self.today)
            for position, parts, score, count in zip(missing, contributions, scores, blockers, strict=True):
                explained[position] = self._proposal(
                    position, dict(zip(FACTORS, parts, strict=True)), score, count == 0, since
                )
        return [explained[position] for position in wanted]

    def _proposal(
        self, position: int, breakdown: dict[str, float], score: float, is_eligible: bool, since: date
    ) -> Proposal:
        index, facts, today = self.index, self.facts, self.today
        opportunity = index.opportunities[position]
        values = facts.values
        actuals = self._actual
        criteria: list[CriterionOutcome] = []
        hard: list[CompiledCriterion] = []
        failing: list[CompiledCriterion] = []
        blocking: list[str] = []
        soft_count = soft_met = 0
        # One pass per criterion: outcome, sentence, and what it means for the opportunity. Written out
        # rather than composed of helpers: it runs for every criterion of every proposal shown.
        for criterion, words in zip(index.compiled[position], index.wordings(position), strict=True):
            field = criterion.field
            outcome = holds(criterion.op, criterion.value, values[field])
            if outcome is None:
                text = words.missing
            else:
                actual = actuals.get(field)
                if actual is None:
                    actual = actuals[field] = explain.actual(field, facts, index.reference)
                text = (words.met if outcome else words.unmet).format(actual=actual)
            criteria.append(CriterionOutcome(field, criterion.op, criterion.hard, outcome, text))
            if criterion.hard:
                hard.append(criterion)
                if not outcome:
                    failing.append(criterion)
                    blocking.append(text)
            else:
                soft_count += 1
                soft_met += bool(outcome)
        opens_on = (
            opportunity.valid_from
            if opportunity.valid_from is not None and opportunity.valid_from > today
            else None
        )
        no_place = opportunity.places_left <= 0 and not opportunity.waitlist
        if no_place:
            blocking.append("Plus aucune place et pas de liste d'attente")
        if opens_on is not None:
            blocking.append(f"Offre ouverte à partir du {explain.french_date(opens_on)}")
        when = None
        if not is_eligible and not no_place:
            when = eligible_on(failing, hard, facts, opens_on=opens_on, closes_on=opportunity.valid_until)
        flags = _flags(opportunity, self.history, since, today)
        soft_words = explain.soft_counts_reason(soft_met, soft_count)
        _, answered = relevance(facts.participant.needs, opportunity)
        return Proposal(
            opportunity_id=opportunity.id,
            opportunity_title=opportunity.title,
            partner_id=opportunity.partner_id,
            partner_name=opportunity.partner_name,
            domain=opportunity.domain,
            score=score,
            breakdown=breakdown,
            reasons=self._reasons(opportunity, answered, breakdown, soft_words, flags, since, position),
            flags=flags,
            eligible=is_eligible,
            blocking=tuple(blocking),
            criteria=tuple(criteria),
            eligible_on=when,
            answers_need=answered,
            answers_need_label=None if answered is None else explain.need_label(answered, index.reference),
        )

    def _reasons(
        self,
        opportunity: OpportunitySnapshot,
        answered: OpenNeed | None,
        breakdown: Mapping[str, float],
        soft_words: str | None,
        flags: tuple[str, ...],
        since: date,
        position: int,
    ) -> tuple[str, ...]:
        """The breakdown in words, the largest contributions first, then the flags."""
        facts, reference, today = self.facts, self.index.reference, self.today
        # The need it answers; else the need of its domain it only comes close to (another subtype).
        need = answered if answered is not None else best_need(facts.participant.needs, opportunity)[1]
        _, urgency_kind = urgency_value(facts, opportunity)
        words: dict[str, str | None] = {
            "need_match": explain.need_reason(need, opportunity, reference),
            "urgency": explain.urgency_reason(urgency_kind, facts, reference),
            "soft_criteria": soft_words,
            **self.index.opportunity_reasons(position, today),
        }
        order = sorted(FACTORS, key=lambda factor: -breakdown[factor])
        reasons = [text for factor in order if (text := words[factor]) is not None]
        for flag in flags:
            if flag == REFUSED_RECENTLY:
                refused_on = _recent_refusal(opportunity, self.history, since, today)
                assert refused_on is not None
                reasons.append(explain.refused_reason(refused_on))
            elif flag != FULL:  # « Complet » is already said by the capacity reason
                reasons.append(FLAG_LABELS[flag])
        return tuple(reasons)
