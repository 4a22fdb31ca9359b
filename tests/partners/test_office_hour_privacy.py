"""Office hours' pseudonyms cannot be reversed, and coordinators and the national team see
nothing about the person (issue 14, point 3): service, API and page, on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.partners import office_hours
from referral.territories.queries import user_by_email
from referral.web.app import create_app
from tests import factories
from tests.helpers import DEMO, login

TOPIC = "Dossier DALO à relancer"
NOTES = "Rappeler le bailleur avant vendredi"


@pytest.fixture
def booked(session: Session) -> int:
    """A slot of the housing CP, booked by the demo CIP about Émile Zorba, with notes."""
    cp = user_by_email(session, DEMO["cp_logement"])
    cip = user_by_email(session, DEMO["cip"])
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    slot = office_hours.publish_office_hour(
        session, cp, {"starts_at": start, "ends_at": start + timedelta(minutes=45), "place": "Local"}
    )
    person = factories.participant(session, first_name="Émile", last_name="Zorba")
    office_hours.book_office_hour(session, cip, slot.id, {"participant_id": person.id, "topic": TOPIC})
    slot.notes_after = NOTES
    session.commit()
    return slot.id


def test_the_pseudonym_is_a_keyed_digest(session: Session, booked: int) -> None:
    cp = user_by_email(session, DEMO["cp_logement"])
    one = office_hours.office_hour_view(session, cp, booked, pseudonym_key=b"a" * 32)
    other = office_hours.office_hour_view(session, cp, booked, pseudonym_key=b"b" * 32)
    assert one.participant_label.startswith("É. Z. · ")
    assert one.participant_label != other.participant_label  # the key makes the code
    assert (
        one.participant_label
        == office_hours.office_hour_view(session, cp, booked, pseudonym_key=b"a" * 32).participant_label
    )  # the same code from one slot to the next
    # Anyone knowing the id could recompute the old code: an unsalted hash of it.
    person_id = one.slot.participant_id
    for digest in (hashlib.sha256(f"participant:{person_id}".encode()).hexdigest(), str(person_id)):
        assert digest[:6].upper() not in one.participant_label.split(" · ")[1]


def test_the_application_key_comes_from_the_secret(client: FlaskClient, db, booked: int, bearer) -> None:
    headers = bearer("cp_logement")
    label = client.get("/api/v1/territories/lyon/office-hours", headers=headers).get_json()[0][
        "participant_label"
    ]
    other_app = create_app(
        {"TESTING": True, "DATABASE": db, "SECRET_KEY": "another-secret-key-for-this-test"}
    )
    again = other_app.test_client().get("/api/v1/territories/lyon/office-hours", headers=headers).get_json()
    assert label.startswith("É. Z. · ")
    assert again[0]["participant_label"] != label


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_those_who_see_nobody_get_no_initials_no_topic_no_notes(
    client: FlaskClient, session: Session, booked: int, bearer, who: str
) -> None:
    view = office_hours.office_hour_view(
        session, user_by_email(session, DEMO[who]), booked, pseudonym_key=b"k" * 32
    )
    assert (view.participant_label, view.topic, view.notes_after) == (None, None, None)
    listed = client.get("/api/v1/territories/lyon/office-hours", headers=bearer(who)).get_json()
    mine = next(item for item in listed if item["id"] == booked)
    assert mine["booked"] is True
    assert (mine["participant_label"], mine["topic"], mine["notes_after"]) == (None, None, None)
    login(client, DEMO[who])
    html = client.get("/reseau/permanences?territoire=lyon").get_data(as_text=True)
    assert "Réservé par" in html
    for secret in ("É. Z.", "Zorba", TOPIC, NOTES):
        assert secret not in html


def test_the_cp_and_the_cip_still_see_the_topic(client: FlaskClient, booked: int, bearer) -> None:
    for who in ("cp_logement", "cip"):
        listed = client.get("/api/v1/territories/lyon/office-hours", headers=bearer(who)).get_json()
        mine = next(item for item in listed if item["id"] == booked)
        assert mine["topic"] == TOPIC, who
    login(client, DEMO["cp_logement"])
    html = client.get("/reseau/permanences?territoire=lyon").get_data(as_text=True)
    assert TOPIC in html
    assert "É. Z. · " in html
