"""The duplicate warning within one structure (issue 15, point 7): the same name (or a close one) and
birth date entered twice in one structure no longer silently makes two records — the service, the
API (409 with `candidates` unless `confirm_new`) and the page say so and point to the record; the
issue-14 transfer form stays for people another structure follows."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.cases import services
from referral.cases.exceptions import LikelyDuplicate
from referral.cases.models import Participant
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO, csrf_token, login

PERSON = {
    "first_name": "Yasmine",
    "last_name": "Benaïssa",
    "birth_date": "1988-04-02",
    "programme": "PHC",
    "entered_on": "2026-01-05",
    "housing_status": "chu",
    "health_coverage": "aucune",
    "residence_status": "francaise",
}


def count(session: Session, last_name: str) -> int:
    return session.scalar(select(func.count(Participant.id)).where(Participant.last_name == last_name)) or 0


def test_the_service_warns_of_a_record_of_the_same_structure(session: Session) -> None:
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    first = factories.participant(
        session,
        structure_id=cip.structure_id,
        first_name="Yasmine",
        last_name="Benaïssa",
        birth_date=date(1988, 4, 2),
    )
    # A close name (the accent dropped), the same birth date.
    values = {
        **PERSON,
        "last_name": "Benaissa",
        "birth_date": date(1988, 4, 2),
        "entered_on": date(2026, 1, 5),
    }
    with pytest.raises(LikelyDuplicate) as refused:
        services.create_participant(session, cip, values)
    (candidate,) = refused.value.candidates
    assert candidate.same_structure
    assert candidate.participant_id == first.id
    assert "votre structure" in refused.value.message
    # Someone else after all: confirmed, created.
    services.create_participant(session, cip, values, confirm_new=True)
    assert count(session, "Benaissa") == 1


def test_the_api_answers_409_with_the_candidate_unless_confirmed(
    client: FlaskClient, session: Session, bearer
) -> None:
    headers = bearer("cip")
    assert client.post("/api/v1/participants", json=PERSON, headers=headers).status_code == 201
    again = client.post("/api/v1/participants", json=PERSON, headers=headers)
    assert again.status_code == 409
    assert again.content_type.startswith("application/problem+json")
    (candidate,) = again.get_json()["candidates"]
    assert candidate["same_structure"] is True
    assert candidate["participant_id"] == session.scalar(
        select(Participant.id).where(Participant.last_name == "Benaïssa")
    )
    assert count(session, "Benaïssa") == 1
    confirmed = client.post("/api/v1/participants", json={**PERSON, "confirm_new": True}, headers=headers)
    assert confirmed.status_code == 201
    assert count(session, "Benaïssa") == 2


def test_a_different_birth_date_is_no_duplicate(client: FlaskClient, session: Session, bearer) -> None:
    headers = bearer("cip")
    assert client.post("/api/v1/participants", json=PERSON, headers=headers).status_code == 201
    other = client.post("/api/v1/participants", json={**PERSON, "birth_date": "1988-04-03"}, headers=headers)
    assert other.status_code == 201


def test_the_page_links_to_the_existing_record_without_the_transfer_form(
    client: FlaskClient, session: Session, bearer
) -> None:
    assert client.post("/api/v1/participants", json=PERSON, headers=bearer("cip")).status_code == 201
    existing = session.scalar(select(Participant.id).where(Participant.last_name == "Benaïssa"))
    login(client, DEMO["cip"])
    token = csrf_token(client.get("/salaries/nouveau").get_data(as_text=True))
    page = client.post("/salaries/nouveau", data={**PERSON, "csrf_token": token})
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert f'href="/salaries/{existing}"' in html
    assert "ouvrir le dossier existant" in html
    assert "Demander le transfert du dossier" not in html  # a transfer is for another structure
    assert count(session, "Benaïssa") == 1
    confirmed = client.post("/salaries/nouveau", data={**PERSON, "csrf_token": token, "confirm_new": "true"})
    assert confirmed.status_code == 302
    assert count(session, "Benaïssa") == 2


def test_another_structure_still_gets_the_transfer_form(
    client: FlaskClient, session: Session, bearer
) -> None:
    person = {**PERSON, "programme": "CVG"}  # the other structure carries Convergence only
    assert client.post("/api/v1/participants", json=person, headers=bearer("cip")).status_code == 201
    login(client, DEMO["cip_other"])
    token = csrf_token(client.get("/salaries/nouveau").get_data(as_text=True))
    page = client.post("/salaries/nouveau", data={**person, "csrf_token": token})
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "Demander le transfert du dossier" in html
    assert "ouvrir le dossier existant" not in html
