"""A person with two open needs (housing, priority 1; health, priority 2), an opportunity of a
named partner answering the first and sharing resources, and only the CPs' identity consent on
the record: the world of the need-first referral tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.referrals import matching_index
from tests import factories


@dataclass
class World:
    person_id: int
    need_id: int
    other_need_id: int
    opportunity_id: int
    partner_id: int


def build_world(session: Session) -> World:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, first_name="Salomé", last_name="Frein", entered_on=clock.today() - timedelta(days=120)
    )
    housing = factories.need(
        session, participant_id=person.id, domain_code="logement", subtype_code="logement.social", priority=1
    )
    other = factories.need(session, participant_id=person.id, domain_code="sante", priority=2)
    partner = factories.partner(session, name="CHRS Horizon Saône")
    opportunity = factories.opportunity(
        session,
        partner_id=partner.id,
        territory_id=lyon.id,
        domain_code="logement",
        title="Logement passerelle",
        shared_categories=["resources"],
    )
    # Only the CP's consent to identity and situation is on the record so far.
    session.add(
        Consent(
            participant_id=person.id,
            recipient=ConsentRecipient.CP,
            data_category=DataCategory.SITUATION,
            given_on=clock.today() - timedelta(days=2),
        )
    )
    session.commit()
    matching_index.forget_index()
    return World(person.id, housing.id, other.id, opportunity.id, partner.id)


def create_draft(client: FlaskClient, bearer, world: World, **extra) -> dict:
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": world.person_id, "opportunity_id": world.opportunity_id, **extra},
        headers=bearer("cip"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def consents_of(session: Session, person_id: int) -> list[tuple[str, int | None, str]]:
    session.expire_all()
    return [
        (c.recipient.value, c.partner_id, c.data_category.value)
        for c in session.scalars(
            select(Consent).where(Consent.participant_id == person_id).order_by(Consent.id)
        )
    ]


def submit_everything(client: FlaskClient, bearer, world: World, draft: dict) -> None:
    response = client.post(
        f"/api/v1/referrals/{draft['id']}/consents",
        json={
            "version": draft["version"],
            "consents": ["partner:situation", "cp:resources", "partner:resources"],
            "agreed": True,
        },
        headers=bearer("cip"),
    )
    assert response.status_code == 200, response.get_json()
