"""Page sessions end on the server: at logout (every copy of the cookie), after a password change
or a deactivation, 2 hours after the last request and 10 hours after login."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.territories.models import Structure, User
from referral.territories.queries import user_by_email
from referral.territories.services import change_password, deactivate_user, end_sessions
from tests import factories
from tests.helpers import DEMO, csrf_token, login

RECORD = "/salaries/{id}"
HEALTH = "/api/v1/participants/{id}/health"


@pytest.fixture
def person_id(session: Session) -> int:
    structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
    person = factories.participant(session, structure_id=structure.id, last_name="Sessiontest")
    session.commit()
    return person.id


def copy_of_cookie(client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (copied, stolen, or left on a shared PC)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = client.application.test_client()
    other.set_cookie("session", cookie.value)
    return other


def opens(client: FlaskClient, person_id: int) -> tuple[int, int]:
    return (
        client.get(RECORD.format(id=person_id)).status_code,
        client.get(HEALTH.format(id=person_id)).status_code,
    )


def test_a_cookie_copied_before_logout_opens_nothing_after_it(client: FlaskClient, person_id: int) -> None:
    login(client, DEMO["cip"])
    copy = copy_of_cookie(client)
    assert opens(copy, person_id) == (200, 200)

    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302

    record, health = opens(copy, person_id)
    assert record == 302  # to the login page
    assert health == 401
    assert opens(client, person_id) == (302, 401)


def test_logout_ends_the_other_sessions_of_the_account_too(client: FlaskClient, person_id: int) -> None:
    login(client, DEMO["cip"])
    elsewhere = client.application.test_client()
    login(elsewhere, DEMO["cip"])
    token = csrf_token(client.get("/").get_data(as_text=True))
    client.post("/deconnexion", data={"csrf_token": token})
    assert opens(elsewhere, person_id) == (302, 401)
    # Logging in again works, and only the new session holds.
    login(elsewhere, DEMO["cip"])
    assert opens(elsewhere, person_id) == (200, 200)


def test_another_account_is_not_logged_out(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    other = client.application.test_client()
    login(other, DEMO["cp_emploi"])
    token = csrf_token(client.get("/").get_data(as_text=True))
    client.post("/deconnexion", data={"csrf_token": token})
    assert other.get("/").status_code == 200


def test_a_password_change_ends_the_sessions(client: FlaskClient, session: Session, person_id: int) -> None:
    login(client, DEMO["cip"])
    assert opens(client, person_id) == (200, 200)
    user = user_by_email(session, DEMO["cip"])
    change_password(session, user, user, password="cheval agrafe batterie correcte")
    session.commit()
    assert opens(client, person_id) == (302, 401)
    assert login(client, DEMO["cip"], "cheval agrafe batterie correcte").status_code == 302


def test_a_password_change_refuses_a_weak_password_and_strangers(session: Session) -> None:
    user = user_by_email(session, DEMO["cip"])
    other = user_by_email(session, DEMO["cp_emploi"])
    generation = user.session_generation
    with pytest.raises(InvalidInput) as refused:
        change_password(session, user, user, password="aaaaaaaaaaaa")
    assert "password" in refused.value.errors
    with pytest.raises(PermissionDenied):
        change_password(session, other, user, password="cheval agrafe batterie correcte")
    assert user.session_generation == generation


def test_deactivation_ends_the_sessions(client: FlaskClient, session: Session, person_id: int) -> None:
    login(client, DEMO["cip"])
    admin = user_by_email(session, DEMO["admin"])
    deactivate_user(session, admin, user_by_email(session, DEMO["cip"]))
    session.commit()
    assert opens(client, person_id) == (302, 401)
    with pytest.raises(PermissionDenied):
        deactivate_user(session, user_by_email(session, DEMO["coordinator"]), admin)


def test_end_sessions_raises_the_generation(session: Session) -> None:
    user: User = user_by_email(session, DEMO["cip"])
    before = user.session_generation
    end_sessions(session, user)
    assert user.session_generation == before + 1


def test_idle_for_two_hours_ends_the_session(client: FlaskClient, person_id: int) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        login(client, DEMO["cip"])
        clock.shift(timedelta(hours=1, minutes=59))
        assert opens(client, person_id) == (200, 200)  # and that request counts as activity
        clock.shift(timedelta(hours=1, minutes=59))
        assert opens(client, person_id) == (200, 200)
        clock.shift(timedelta(hours=2, minutes=1))
        assert opens(client, person_id) == (302, 401)


def test_ten_hours_after_login_the_session_ends_even_when_busy(client: FlaskClient, person_id: int) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        login(client, DEMO["cip"])
        for _ in range(6):
            clock.shift(timedelta(hours=1, minutes=30))
            assert opens(client, person_id) == (200, 200)
        clock.shift(timedelta(hours=1, minutes=1))  # 10 h 01 after login, 1 h 01 after the last request
        assert opens(client, person_id) == (302, 401)


def test_the_cookie_lifetime_is_ten_hours_not_a_month(client: FlaskClient) -> None:
    assert client.application.permanent_session_lifetime == timedelta(hours=10)
    response = login(client, DEMO["cip"])
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie
    assert client.get_cookie("session").expires is not None
    remaining = client.get_cookie("session").expires - utcnow()
    assert timedelta(hours=9) < remaining <= timedelta(hours=10)
