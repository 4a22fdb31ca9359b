"""The score of a (participant, opportunity) pair, factor by factor (DESIGN §6).

Each factor is a value in [0, 1] multiplied by its weight; the weights sum to 1, so the score
is in [0, 1] and is exactly the sum of its breakdown. The functions here are the scalar
definition: the vectorised index computes the same numbers with the same floating-point
operations in the same order (no transcendental functions, only + − × ÷ min max), so the
engine, the NumPy reference and the double loop agree to the last bit and rank ties alike.

Factors (« facteurs ») and why:
- ``need_match`` — the opportunity answers an open need (« frein ») of its domain; a need of priority 1
  counts more, and a need of the exact subtype more than one of the domain only;
- ``urgency`` — the situation makes this kind of opportunity pressing: precarity of housing for housing
  and shelter opportunities, no health coverage for rights and health opportunities, a residence permit that
  has ended or ends soon for residence-permit opportunities;
- ``soft_criteria`` — the share (by weight) of the opportunity's preferences met; neutral (½) without any;
- ``capacity`` — the share of places still open;
- ``answer_rate`` — how often the partner answers referrals; neutral (½) when unknown;
- ``freshness`` — a recently published opportunity is likely to have places and an attentive partner;
- ``fair_share`` — recent referrals per open place: an opportunity already flooded ranks below an
  equally fitting one that is not, so a single partner is not saturated while others wait.

Pure module: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from referral.matching.criteria import ParticipantFacts
from referral.matching.snapshot import OpenNeed, OpportunitySnapshot

FACTORS: tuple[str, ...] = (
    "need_match",
    "urgency",
    "soft_criteria",
    "capacity",
    "answer_rate",
    "freshness",
    "fair_share",
)

WEIGHTS: dict[str, float] = {
    "need_match": 0.35,
    "urgency": 0.15,
    "soft_criteria": 0.15,
    "capacity": 0.10,
    "answer_rate": 0.08,
    "freshness": 0.05,
    "fair_share": 0.12,
}

# The one table of French labels for the factors, shown beside each figure of the breakdown.
FACTOR_LABELS: dict[str, str] = {
    "need_match": "Réponse à un frein",
    "urgency": "Urgence de la situation",
    "soft_criteria": "Critères souhaités",
    "capacity": "Places disponibles",
    "answer_rate": "Réactivité du partenaire",
    "freshness": "Nouveauté de l'offre",
    "fair_share": "Répartition équitable",
}

W_NEED = WEIGHTS["need_match"]
W_URGENCY = WEIGHTS["urgency"]
W_SOFT = WEIGHTS["soft_criteria"]
W_CAPACITY = WEIGHTS["capacity"]
W_ANSWER = WEIGHTS["answer_rate"]
W_FRESH = WEIGHTS["freshness"]
W_FAIR = WEIGHTS["fair_share"]

# A need of priority 1 (most urgent) counts fully, 3 (least) less than half.
PRIORITY_WEIGHT: dict[int, float] = {1: 1.0, 2: 0.7, 3: 0.4}
# How well the opportunity answers the need: its exact subtype; the domain as a whole (a need without a
# subtype, or an opportunity covering its whole domain); another subtype of the same domain.
QUALITY_SUBTYPE = 1.0
QUALITY_DOMAIN = 0.75
QUALITY_OTHER_SUBTYPE = 0.5

HOUSING_DOMAINS = frozenset({"logement", "hebergement"})
COVERAGE_DOMAINS = frozenset({"acces_droits", "sante"})
RESIDENCE_SUBTYPES = frozenset({"acces_droits.titre_sejour"})

# Days after publication when an opportunity stops counting as new.
FRESHNESS_DAYS = 180
NEUTRAL = 0.5


def need_quality(need: OpenNeed, domain: str, subtypes: Iterable[str]) -> float:
    """How well an opportunity of `domain`/`subtypes` answers `need` (0 when another domain)."""
    if need.domain != domain:
        return 0.0
    subtypes = tuple(subtypes)
    if need.subtype is not None and need.subtype in subtypes:
        return QUALITY_SUBTYPE
    if need.subtype is None or not subtypes:
        return QUALITY_DOMAIN
    return QUALITY_OTHER_SUBTYPE


# Relevance (DESIGN §6, « le frein d'abord »): an opportunity ANSWERS a need when it is in the need's
# domain and, if the need names a subtype, offers that subtype (exact) or covers the whole domain.
# Another subtype of the same domain scores a little (`QUALITY_OTHER_SUBTYPE`) but answers nothing.
# Proposals are ranked by relevance first — answers to the most urgent need first, an exact answer
# before a whole-domain one, then answers to the next need, and opportunities answering no need
# last — and only then by score: capacity, answer rate, freshness and fair share order offers of
# equal relevance, they never lift an offer above a better answer to a need.
ANSWER_EXACT = 0
ANSWER_DOMAIN = 1
NO_ANSWER = 1 << 20
# Needs are ordered by (priority, position in the snapshot); the rank packs that order in one int.
MAX_NEEDS = 64


def answer_kind(need: OpenNeed, domain: str, subtypes: Iterable[str]) -> int | None:
    """`ANSWER_EXACT`, `ANSWER_DOMAIN`, or None when the opportunity does not answer `need`."""
    if need.domain != domain:
        return None
    subtypes = tuple(subtypes)
    if need.subtype is not None and need.subtype in subtypes:
        return ANSWER_EXACT
    if need.subtype is None or not subtypes:
        return ANSWER_DOMAIN
    return None


def relevance_rank(priority: int, position: int, kind: int) -> int:
    """The relevance of answering the need at `position` (of `priority`) this way: smaller is better."""
    return (priority * MAX_NEEDS + min(position, MAX_NEEDS - 1)) * 2 + kind


def relevance(needs: Iterable[OpenNeed], opportunity: OpportunitySnapshot) -> tuple[int, OpenNeed | None]:
    """The opportunity's relevance rank (`NO_ANSWER` when it answers no need) and the need it answers
    best — the scalar definition the index, the batch and the baselines all follow."""
    best, chosen = NO_ANSWER, None
    for position, need in enumerate(needs):
        kind = answer_kind(need, opportunity.domain, opportunity.subtypes)
        if kind is not None:
            rank = relevance_rank(need.priority, position, kind)
            if rank < best:
                best, chosen = rank, need
    return best, chosen


def need_value(need: OpenNeed, domain: str, subtypes: Iterable[str]) -> float:
    return PRIORITY_WEIGHT[need.priority] * need_quality(need, domain, subtypes)


def best_need(needs: Iterable[OpenNeed], opportunity: OpportunitySnapshot) -> tuple[float, OpenNeed | None]:
    """The open need the opportunity answers best, and its value (first one wins a tie)."""
    best, chosen = 0.0, None
    for need in needs:
        value = need_value(need, opportunity.domain, opportunity.subtypes)
        if value > best:
            best, chosen = value, need
    return best, chosen


def urgency_kinds(opportunity: OpportunitySnapshot) -> tuple[bool, bool, bool]:
    """Which urgencies apply to the opportunity: (housing, coverage, residence permit)."""
    return (
        opportunity.domain in HOUSING_DOMAINS,
        opportunity.domain in COVERAGE_DOMAINS,
        any(subtype in RESIDENCE_SUBTYPES for subtype in opportunity.subtypes),
    )


def urgency_parts(facts: ParticipantFacts) -> tuple[float, float, float]:
    """The participant's urgency for each kind of opportunity: (housing, coverage, residence permit)."""
    housing = facts.precarity / 3 if facts.precarity is not None else 0.0
    coverage = 1.0 if facts.covered is False else 0.0
    return housing, coverage, facts.permit_urgency


def urgency_value(facts: ParticipantFacts, opportunity: OpportunitySnapshot) -> tuple[float, int | None]:
    """The urgency of this opportunity for this person (0–1) and which kind gave it (0, 1, 2 or None)."""
    best, kind = 0.0, None
    for index, (applies, value) in enumerate(
        zip(urgency_kinds(opportunity), urgency_parts(facts), strict=True)
    ):
        if applies and value > best:
            best, kind = value, index
    return best, kind


def soft_value(met_milli: int, total_milli: int) -> float:
    return met_milli / total_milli if total_milli else NEUTRAL


def capacity_value(opportunity: OpportunitySnapshot) -> float:
    if opportunity.capacity <= 0:
        return 0.0
    return min(1.0, max(0.0, opportunity.places_left / opportunity.capacity))


def answer_rate_value(opportunity: OpportunitySnapshot) -> float:
    rate = opportunity.partner_answer_rate
    return NEUTRAL if rate is None else rate


def freshness_value(opportunity: OpportunitySnapshot, today: date) -> float:
    if opportunity.published_on is None:
        return 0.0
    age = (today - opportunity.published_on).days
    return min(1.0, max(0.0, 1.0 - age / FRESHNESS_DAYS))


def pressure(opportunity: OpportunitySnapshot) -> float:
    """Recent referrals per open place (a full opportunity counts as one place: its waiting list)."""
    return opportunity.recent_referrals / max(opportunity.places_left, 1)


def fair_share_value(opportunity: OpportunitySnapshot) -> float:
    return 1.0 / (1.0 + pressure(opportunity))


def static_contributions(opportunity: OpportunitySnapshot, today: date) -> tuple[float, float, float, float]:
    """The contributions that depend on the opportunity only: capacity, answer rate, freshness, fair share."""
    return (
        W_CAPACITY * capacity_value(opportunity),
        W_ANSWER * answer_rate_value(opportunity),
        W_FRESH * freshness_value(opportunity, today),
        W_FAIR * fair_share_value(opportunity),
    )


def static_sum(parts: tuple[float, float, float, float]) -> float:
    capacity, answer, fresh, fair = parts
    return ((capacity + answer) + fresh) + fair


def combine(need: float, urgency: float, soft: float, static: float) -> float:
    """The score from its contributions, always added in this order (see module docstring)."""
    return ((need + urgency) + soft) + static


def breakdown(
    need: float, urgency: float, soft: float, static_parts: tuple[float, float, float, float]
) -> dict[str, float]:
    return dict(zip(FACTORS, (need, urgency, soft, *static_parts), strict=True))


def score_pair(
    facts: ParticipantFacts, opportunity: OpportunitySnapshot, soft_met: int, soft_total: int, today: date
) -> tuple[float, dict[str, float]]:
    """The score and breakdown of one pair, the straightforward way (the baseline's definition)."""
    need = W_NEED * best_need(facts.participant.needs, opportunity)[0]
    urgency = W_URGENCY * urgency_value(facts, opportunity)[0]
    soft = W_SOFT * soft_value(soft_met, soft_total)
    parts = static_contributions(opportunity, today)
    return combine(need, urgency, soft, static_sum(parts)), breakdown(need, urgency, soft, parts)
