"""Keyword-only builders of engine snapshots, with sensible defaults, for the matching tests.

No database: the engine takes plain snapshots, so the tests build them directly.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from referral.bench.synthetic import reference_tables
from referral.matching.index import MatchingIndex
from referral.matching.snapshot import (
    CriterionSnapshot,
    OpenNeed,
    OpportunitySnapshot,
    ParticipantSnapshot,
    ReferenceTables,
)

TODAY = date(2026, 11, 23)
LYON, PARIS = 1, 2
TERRITORIES = ((LYON, "lyon", "Lyon"), (PARIS, "paris", "Paris"))


@cache
def reference() -> ReferenceTables:
    """The real reference lists of `seeds/reference/`, with two territories."""
    return reference_tables(TERRITORIES)


def criterion(
    field: str, op: str, value: Any, *, hard: bool = True, weight: float = 1.0
) -> CriterionSnapshot:
    return CriterionSnapshot.of(field, op, value, hard, weight)


def participant(**overrides: Any) -> ParticipantSnapshot:
    """A person in Lyon, 36 years old, 8 months in Convergence, in the street, no coverage."""
    values: dict[str, Any] = {
        "id": 1,
        "structure_id": 10,
        "territory_id": LYON,
        "programme": "CVG",
        "entered_on": date(2026, 3, 15),
        "birth_date": date(1990, 5, 2),
        "weekly_hours": 26.0,
        "residence_status": "francaise",
        "residence_permit_expires_on": None,
        "housing_status": "rue",
        "health_coverage": "aucune",
        "household_size": 1,
        "children": 0,
        "monthly_resources": 610,
        "language_level": "c2",
        "driving_licence": False,
        "rqth": False,
        "needs": (OpenNeed("logement", "logement.social", 1),),
    }
    values.update(overrides)
    return ParticipantSnapshot(**values)


def opportunity(**overrides: Any) -> OpportunitySnapshot:
    """A published opportunity in Lyon with free places, no criteria, published a month ago."""
    values: dict[str, Any] = {
        "id": 100,
        "title": "Offre",
        "partner_id": 7,
        "partner_name": "Partenaire",
        "territory_ids": frozenset({LYON}),
        "domain": "logement",
        "subtypes": ("logement.social",),
        "criteria": (),
        "capacity": 4,
        "places_left": 4,
        "published_on": date(2026, 10, 23),
        "status": "published",
        "recent_referrals": 0,
        "partner_answer_rate": 0.8,
    }
    values.update(overrides)
    return OpportunitySnapshot(**values)


def index_of(*opportunities: OpportunitySnapshot) -> MatchingIndex:
    return MatchingIndex(opportunities, reference())


def match(
    person: ParticipantSnapshot, *opportunities: OpportunitySnapshot, today: date = TODAY, history: Any = None
):
    """The ProposalSet of `person` among `opportunities` on `today`."""
    return index_of(*opportunities).match(person, today, history)


def only(person: ParticipantSnapshot, snapshot: OpportunitySnapshot, today: date = TODAY):
    """The single proposal of `snapshot` for `person`: eligible, near miss, or None when neither."""
    result = match(person, snapshot, today=today)
    proposals = result.eligible() + result.near_misses()
    return proposals[0] if proposals else None
