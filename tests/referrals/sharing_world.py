"""A referral submitted with everything shared, for the tests of consent at display and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, HealthRecord
from referral.referrals import matching_index
from tests import factories


@dataclass
class Shared:
    person: int
    referral: int
    consents: dict[tuple[str, str], int]  # (recipient, category) → consent id


def submitted_health_referral(client: FlaskClient, session: Session, bearer) -> Shared:
    """A health referral of the demo CIP's structure, submitted with health, resources and
    situation shared (every consent to CPs and partners given ten days ago)."""
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, first_name="Léonie", last_name="Partagée", entered_on=clock.today() - timedelta(days=200)
    )
    session.add(HealthRecord(participant_id=person.id, has_treating_doctor=True, rqth=True, css=True))
    consents = {}
    for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
        for category in DataCategory:
            consent = Consent(
                participant_id=person.id,
                recipient=recipient,
                data_category=category,
                given_on=clock.today() - timedelta(days=10),
            )
            session.add(consent)
            session.flush()
            consents[(recipient.value, category.value)] = consent.id
    opportunity = factories.opportunity(
        session,
        territory_id=lyon.id,
        domain_code="sante",
        shared_categories=["resources", "health"],
        title="Bilan de santé accompagné",
    )
    session.commit()
    matching_index.forget_index()
    cip = bearer("cip")
    created = client.post(
        "/api/v1/referrals", json={"participant_id": person.id, "opportunity_id": opportunity.id}, headers=cip
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    submitted = client.post(
        f"/api/v1/referrals/{body['id']}/transitions",
        json={"action": "submit", "version": body["version"]},
        headers=cip,
    )
    assert submitted.status_code == 200, submitted.get_json()
    return Shared(person.id, body["id"], consents)
