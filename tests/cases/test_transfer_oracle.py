"""Transfers are no existence oracle (issue 14, point 4), on both databases: the request names
the person; whether or not anyone matches, the asking CIP gets the same answer and sees nothing
pending; the structure that follows the person is told, with the asking structure's name."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import CaseTransfer
from referral.tasks.models import Notification
from referral.territories.models import Structure
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO, csrf_token, login

TODAY = clock.today().isoformat()


@pytest.fixture
def followed(session: Session) -> int:
    """A person the demo CIP's structure follows."""
    person = factories.participant(
        session, first_name="Anouk", last_name="Transférée", birth_date=date(1990, 6, 1)
    )
    session.commit()
    return person.id


def ask(client: FlaskClient, headers: dict[str, str], **person: str):
    return client.post("/api/v1/transfers", json={"consent_given_on": TODAY, **person}, headers=headers)


def test_the_answer_is_the_same_whether_or_not_the_person_exists(
    client: FlaskClient, session: Session, bearer, followed: int
) -> None:
    headers = bearer("cip_other")
    existing = ask(client, headers, first_name="Anouk", last_name="Transferee", birth_date="1990-06-01")
    nobody = ask(client, headers, first_name="Personne", last_name="Inconnue", birth_date="1970-01-01")
    again = ask(
        client, headers, first_name="Anouk", last_name="Transférée", birth_date="1990-06-01"
    )  # pending
    assert existing.status_code == nobody.status_code == again.status_code == 202
    assert existing.get_json() == nobody.get_json() == again.get_json()
    assert client.get("/api/v1/transfers", headers=headers).get_json() == []
    (transfer,) = session.scalars(select(CaseTransfer).where(CaseTransfer.participant_id == followed)).all()
    assert transfer.to_structure_id == user_by_email(session, DEMO["cip_other"]).structure_id


def test_an_id_is_no_longer_accepted(client: FlaskClient, bearer, followed: int) -> None:
    response = client.post(
        "/api/v1/transfers",
        json={"participant_id": followed, "consent_given_on": TODAY},
        headers=bearer("cip_other"),
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"participant_id", "first_name", "last_name", "birth_date"}


def test_bad_input_is_refused_alike_for_anyone(client: FlaskClient, bearer, followed: int) -> None:
    future = "2999-01-01"
    for first, last, born in (("Anouk", "Transférée", "1990-06-01"), ("Personne", "Inconnue", "1970-01-01")):
        response = client.post(
            "/api/v1/transfers",
            json={"first_name": first, "last_name": last, "birth_date": born, "consent_given_on": future},
            headers=bearer("cip_other"),
        )
        assert response.status_code == 422
        assert response.get_json()["errors"] == {"consent_given_on": ["Date future."]}


def test_the_holding_structure_learns_who_asks(
    client: FlaskClient, session: Session, bearer, followed: int
) -> None:
    ask(client, bearer("cip_other"), first_name="Anouk", last_name="Transférée", birth_date="1990-06-01")
    asking = session.get(Structure, user_by_email(session, DEMO["cip_other"]).structure_id).name
    cip = user_by_email(session, DEMO["cip"])
    (note,) = session.scalars(
        select(Notification).where(Notification.user_id == cip.id, Notification.kind == "transfer_requested")
    ).all()
    assert asking in note.message
    (pending,) = client.get("/api/v1/transfers", headers=bearer("cip")).get_json()
    assert pending["to_structure_name"] == asking
    login(client, DEMO["cip"])
    html = client.get("/salaries/").get_data(as_text=True)
    assert f"<strong>{asking}</strong> demande à reprendre le dossier de" in html
    assert "Anouk Transférée" in html


def test_the_page_gives_the_same_answer_too(client: FlaskClient, session: Session, followed: int) -> None:
    login(client, DEMO["cip_other"])
    token = csrf_token(client.get("/salaries/nouveau").get_data(as_text=True))
    answers = []
    for first, last, born in (("Anouk", "Transférée", "1990-06-01"), ("Personne", "Inconnue", "1970-01-01")):
        response = client.post(
            "/salaries/transferts",
            data={
                "first_name": first,
                "last_name": last,
                "birth_date": born,
                "consent_given_on": TODAY,
                "csrf_token": token,
            },
            follow_redirects=True,
        )
        assert response.status_code == 200
        answers.append(
            "Demande enregistrée : si une autre structure du territoire suit cette personne"
            in response.get_data(as_text=True)
        )
    assert answers == [True, True]
    assert "Transférée" not in client.get("/salaries/").get_data(as_text=True)
