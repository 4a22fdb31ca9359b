"""Criteria, one at a time: a participant's facts on a given day, and whether a criterion holds.

This is the reference semantics of every operator. The vectorised index (`index.py`) does not
re-implement it: it calls `holds` on one representative value per class of equivalent values when
it compiles the criteria, so the fast path and this one cannot disagree. The explanations and the
benchmark's double-loop baseline call it directly.

Pure module: no Flask, no session, and the day is always given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from referral.matching.dates import add_months, add_years, whole_months, whole_years
from referral.matching.registry import FIELDS, operators_for
from referral.matching.snapshot import CriterionSnapshot, ParticipantSnapshot, ReferenceTables

# Soft-criterion weights are counted in thousandths: integer sums are exact, so the score of an
# opportunity does not depend on the order its criteria are added in, and every implementation (the
# engine, the NumPy reference, the double loop) ranks exact ties the same way.
WEIGHT_SCALE = 1000
MAX_WEIGHT = 10.0

# A residence permit that ends within this many days makes a residence-related opportunity urgent.
PERMIT_HORIZON_DAYS = 180

# Fields whose value moves with the calendar alone: a near miss on them has a knowable date.
DATE_FIELDS = ("months_in_programme", "age")


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    """A criterion with its value normalised for comparison (ranks for ordered codes, sets for
    ``in``/``not_in``) and its weight in thousandths."""

    field: str
    op: str
    value: Any
    hard: bool
    weight_milli: int
    source: CriterionSnapshot


def weight_milli(weight: float) -> int:
    """A soft weight (0–10) in thousandths, the unit every implementation sums in."""
    return round(weight * WEIGHT_SCALE)


def compile_criterion(criterion: CriterionSnapshot, reference: ReferenceTables) -> CompiledCriterion:
    """Normalise a criterion once, so that evaluating it is a plain comparison.

    Raises ValueError on a field, operator or ordered code the registry does not know: the database
    refuses them, so meeting one here is a bug to surface, not a criterion to skip.
    """
    field, op = criterion.field, criterion.op
    # Normalised below: ranks for ordered codes, a frozenset for ``in``/``not_in``.
    value: Any = criterion.value
    spec = FIELDS.get(field)
    if spec is None or op not in operators_for(field):
        raise ValueError(f"criterion {field!r} {op!r} is not in the registry")
    if not 0.0 <= criterion.weight <= MAX_WEIGHT:
        # The database holds weights to 0–10; the index packs weight sums on that assumption.
        raise ValueError(f"criterion weight must be within 0–{MAX_WEIGHT}, got {criterion.weight}")
    if spec.ordered:

        def rank(code: Any) -> int:
            if code not in reference.language_rank:
                raise ValueError(f"unknown {field} code {code!r} in a criterion")
            return reference.language_rank[code]

        value = tuple(rank(item) for item in value) if isinstance(value, tuple) else rank(value)
    if op in ("in", "not_in"):
        value = frozenset(value if isinstance(value, tuple) else (value,))
    elif op == "between":
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"between needs [minimum, maximum], got {value!r}")
        value = (value[0], value[1])
    return CompiledCriterion(field, op, value, criterion.hard, weight_milli(criterion.weight), criterion)


def compile_criteria(
    criteria: Iterable[CriterionSnapshot], reference: ReferenceTables
) -> tuple[CompiledCriterion, ...]:
    return tuple(compile_criterion(criterion, reference) for criterion in criteria)


def holds(op: str, value: Any, actual: Any) -> bool | None:
    """Whether `actual` satisfies ``op value``; None when `actual` is missing (« non renseigné »).

    For ``has``, `actual` is the set of the participant's open need codes (never missing: no open
    need is a fact, not a gap).
    """
    if actual is None:
        return None
    if op == "eq":
        return bool(actual == value)
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if op == "gte":
        return bool(actual >= value)
    if op == "lte":
        return bool(actual <= value)
    if op == "between":
        return bool(value[0] <= actual <= value[1])
    if op == "has":
        return value in actual
    raise ValueError(f"unknown operator {op!r}")


class ParticipantFacts(NamedTuple):
    """A participant's value for every registry field on `today` (« situation au jour J »).

    `values` holds what criteria compare: months in programme and age computed from the dates,
    the language level as its rank, the territory as its slug, ``has_need`` as the set of open
    need codes (each need's domain and, when given, its subtype). A named tuple rather than a
    frozen dataclass: it is built once per participant per request, on the hot path, and a
    tuple is several times cheaper to build while just as immutable.
    """

    participant: ParticipantSnapshot
    today: date
    values: dict[str, Any]
    need_codes: frozenset[str]
    precarity: int | None
    covered: bool | None
    permit_urgency: float
    permit_days_left: int | None

    @property
    def months_in_programme(self) -> int:
        return self.values["months_in_programme"]

    @property
    def age(self) -> int:
        return self.values["age"]


def permit_urgency(participant: ParticipantSnapshot, reference: ReferenceTables, today: date) -> float:
    """How pressing the residence permit is, 0–1: 1 when expired or absent without a right to work,
    falling linearly to 0 for a permit that ends `PERMIT_HORIZON_DAYS` or more from now."""
    expires = participant.residence_permit_expires_on
    if expires is not None:
        days = (expires - today).days
        if days <= 0:
            return 1.0
        return max(0.0, 1.0 - days / PERMIT_HORIZON_DAYS)
    status = participant.residence_status
    if status is not None and reference.may_work.get(status) is False:
        return 1.0
    return 0.0


def facts_for(participant: ParticipantSnapshot, reference: ReferenceTables, today: date) -> ParticipantFacts:
    """Everything the criteria and the score read about `participant` on `today`."""
    p = participant
    codes = set()
    for need in p.needs:
        codes.add(need.domain)
        if need.subtype:
            codes.add(need.subtype)
    need_codes = frozenset(codes)
    language = p.language_level
    housing = p.housing_status
    coverage = p.health_coverage
    expires = p.residence_permit_expires_on
    values: dict[str, Any] = {
        "territory": reference.territory_slugs.get(p.territory_id),
        "programme": p.programme,
        "months_in_programme": whole_months(p.entered_on, today),
        "weekly_hours": p.weekly_hours,
        "age": whole_years(p.birth_date, today),
        "residence_status": p.residence_status,
        "housing_status": housing,
        "health_coverage": coverage,
        "household_size": p.household_size,
        "children": p.children,
        "monthly_resources": p.monthly_resources,
        "language_level": None if language is None else reference.language_rank.get(language),
        "driving_licence": p.driving_licence,
        "rqth": p.rqth,
        "has_need": need_codes,
    }
    return ParticipantFacts(
        p,
        today,
        values,
        need_codes,
        None if housing is None else reference.precarity.get(housing),
        None if coverage is None else reference.covered.get(coverage),
        permit_urgency(p, reference, today),
        None if expires is None else (expires - today).days,
    )


def evaluate(criterion: CompiledCriterion, facts: ParticipantFacts) -> bool | None:
    """Whether the participant meets `criterion` today; None when the value is not recorded."""
    return holds(criterion.op, criterion.value, facts.values[criterion.field])


def soft_milli(criteria: Iterable[CompiledCriterion], facts: ParticipantFacts) -> tuple[int, int]:
    """(weight met, total weight) of the soft criteria, in thousandths."""
    met = total = 0
    for criterion in criteria:
        if not criterion.hard:
            total += criterion.weight_milli
            if evaluate(criterion, facts):
                met += criterion.weight_milli
    return met, total


def _lower_bound(criterion: CompiledCriterion) -> int | None:
    """The smallest whole value a date field must reach for `criterion` to hold, if it has one."""
    op, value = criterion.op, criterion.value
    if op in ("gte", "eq"):
        bound = value
    elif op == "between":
        bound = value[0]
    else:
        return None
    if isinstance(bound, bool) or not isinstance(bound, int | float):
        return None
    return math.ceil(bound)


def _reached_on(field: str, participant: ParticipantSnapshot, amount: int) -> date:
    if field == "months_in_programme":
        return add_months(participant.entered_on, amount)
    return add_years(participant.birth_date, amount)


def date_values(participant: ParticipantSnapshot, day: date) -> dict[str, int]:
    return {
        "months_in_programme": whole_months(participant.entered_on, day),
        "age": whole_years(participant.birth_date, day),
    }


def eligible_on(
    blockers: Iterable[CompiledCriterion],
    hard: Iterable[CompiledCriterion],
    facts: ParticipantFacts,
    *,
    opens_on: date | None = None,
    closes_on: date | None = None,
) -> date | None:
    """The first day every blocker holds, when only the calendar stands in the way; else None.

    Knowable only when each blocker is a lower bound on months in programme or age (« 6 mois
    d'ancienneté requis » → the day of the 6th month), or the opportunity's opening day (`opens_on`).
    The candidate day is then checked against every hard date criterion, so that an upper bound
    (« au plus 25 ans ») passed by then gives None rather than a day that will never come.
    """
    participant = facts.participant
    days: list[date] = [opens_on] if opens_on is not None else []
    for criterion in blockers:
        if criterion.field not in DATE_FIELDS:
            return None
        bound = _lower_bound(criterion)
        if bound is None or facts.values[criterion.field] >= bound:
            return None
        days.append(_reached_on(criterion.field, participant, bound))
    if not days:
        return None
    day = max(days)
    if closes_on is not None and day > closes_on:
        return None
    then = date_values(participant, day)
    for criterion in hard:
        if criterion.field in DATE_FIELDS and not holds(criterion.op, criterion.value, then[criterion.field]):
            return None
    return day
