"""Partners and opportunities: capacity, delays, criteria vocabulary, held by the database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from referral.partners.models import Criterion, Opportunity, Partner
from tests import factories
from tests.helpers import accepted_by_database, refused_by_database


@pytest.mark.parametrize(
    ("values", "accepted"),
    [
        ({"places_taken": 2}, True),  # capacity 2: the last place can be taken
        ({"places_taken": 3}, False),  # never more than the capacity
        ({"places_taken": -1}, False),
        ({"capacity": -1}, False),
        ({"answer_delay_days": 0}, False),
        ({"answer_delay_days": 366}, False),
        ({"valid_from": date(2026, 6, 1), "valid_until": date(2026, 5, 31)}, False),
        ({"title": ""}, False),
        ({"domain_code": "inconnu"}, False),
    ],
)
def test_opportunity_rules(session: Session, values: dict[str, object], accepted: bool) -> None:
    opportunity = factories.opportunity(session)
    action = lambda: session.execute(  # noqa: E731
        update(Opportunity).where(Opportunity.id == opportunity.id).values(values)
    )
    (accepted_by_database if accepted else refused_by_database)(session, action)


@pytest.mark.parametrize(
    ("field", "op", "accepted"),
    [
        ("months_in_programme", "gte", True),
        ("has_need", "has", True),
        ("shoe_size", "gte", False),  # not in the registry
        ("age", "approximately", False),
    ],
)
def test_criterion_vocabulary_is_closed(session: Session, field: str, op: str, accepted: bool) -> None:
    opportunity = factories.opportunity(session)

    def add() -> None:
        session.add(Criterion(opportunity_id=opportunity.id, field=field, op=op, value=6))

    (accepted_by_database if accepted else refused_by_database)(session, add)


def test_partner_siret_is_fourteen_characters_and_unique(session: Session) -> None:
    refused_by_database(session, lambda: factories.partner(session, siret="123"))
    accepted_by_database(session, lambda: factories.partner(session, siret="12345678901234"))
    refused_by_database(session, lambda: factories.partner(session, name="Autre nom", siret="12345678901234"))


def test_partner_with_opportunities_cannot_be_deleted(session: Session) -> None:
    opportunity = factories.opportunity(session)
    partner = session.get(Partner, opportunity.partner_id)
    refused_by_database(session, lambda: session.delete(partner))
