"""Drafts are the CIP's alone (issue 14, point 2): a referral nobody submitted is invisible to
CPs, coordinators and the national team — API, pages, lists — on both databases; it appears once
submitted, and a draft cancelled before ever leaving the structure stays invisible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.referrals import matching_index
from tests import factories
from tests.helpers import DEMO, login

STAFF = ["cp_logement", "coordinator", "admin"]


@dataclass
class Draft:
    id: int
    version: int


@pytest.fixture
def draft(client: FlaskClient, session: Session, bearer) -> Draft:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, last_name="Brouillonne", entered_on=clock.today() - timedelta(days=90)
    )
    for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
        session.add(
            Consent(
                participant_id=person.id,
                recipient=recipient,
                data_category=DataCategory.SITUATION,
                given_on=clock.today() - timedelta(days=1),
            )
        )
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Studio relais"
    )
    session.commit()
    matching_index.forget_index()
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": person.id, "opportunity_id": opportunity.id},
        headers=bearer("cip"),
    )
    assert response.status_code == 201, response.get_json()
    return Draft(response.get_json()["id"], response.get_json()["version"])


def move(client: FlaskClient, headers: dict[str, str], draft: Draft, action: str) -> None:
    response = client.post(
        f"/api/v1/referrals/{draft.id}/transitions",
        json={"action": action, "version": draft.version},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    draft.version = response.get_json()["version"]


@pytest.mark.parametrize("who", STAFF)
def test_a_draft_is_invisible_to_staff_through_the_api(
    client: FlaskClient, bearer, draft: Draft, who: str
) -> None:
    headers = bearer(who)
    one = client.get(f"/api/v1/referrals/{draft.id}", headers=headers)
    assert one.status_code == 404
    assert one.get_json() == client.get("/api/v1/referrals/999999", headers=headers).get_json()
    assert draft.id not in {
        item["id"] for item in client.get("/api/v1/referrals", headers=headers).get_json()
    }
    refused = client.post(
        f"/api/v1/referrals/{draft.id}/transitions",
        json={"action": "validate", "version": 1},
        headers=headers,
    )
    assert refused.status_code == 404


@pytest.mark.parametrize("who", STAFF)
def test_a_draft_is_invisible_to_staff_on_the_pages(client: FlaskClient, draft: Draft, who: str) -> None:
    login(client, DEMO[who])
    assert client.get(f"/orientations/{draft.id}").status_code == 404
    assert client.get(f"/orientations/{draft.id}/dossier").status_code == 404
    assert f'/orientations/{draft.id}"' not in client.get("/orientations/").get_data(as_text=True)


def test_the_cip_sees_their_draft(client: FlaskClient, bearer, draft: Draft) -> None:
    assert client.get(f"/api/v1/referrals/{draft.id}", headers=bearer("cip")).status_code == 200
    login(client, DEMO["cip"])
    assert client.get(f"/orientations/{draft.id}").status_code == 200


def test_once_submitted_the_cp_sees_it(client: FlaskClient, bearer, draft: Draft) -> None:
    move(client, bearer("cip"), draft, "submit")
    cp = bearer("cp_logement")
    assert client.get(f"/api/v1/referrals/{draft.id}", headers=cp).status_code == 200
    # Sent back for more information, it stays in the CP's view.
    move(client, cp, draft, "request_info")
    assert client.get(f"/api/v1/referrals/{draft.id}", headers=cp).get_json()["state"] == "needs_info"
    login(client, DEMO["cp_logement"])
    assert client.get(f"/orientations/{draft.id}").status_code == 200


def test_a_draft_cancelled_before_submission_stays_the_cips(
    client: FlaskClient, bearer, draft: Draft
) -> None:
    move(client, bearer("cip"), draft, "cancel")
    for who in STAFF:
        assert client.get(f"/api/v1/referrals/{draft.id}", headers=bearer(who)).status_code == 404


def test_a_referral_cancelled_after_submission_stays_visible(
    client: FlaskClient, bearer, draft: Draft
) -> None:
    cip = bearer("cip")
    move(client, cip, draft, "submit")
    move(client, cip, draft, "cancel")
    body = client.get(f"/api/v1/referrals/{draft.id}", headers=bearer("cp_logement")).get_json()
    assert body["state"] == "cancelled"
