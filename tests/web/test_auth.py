"""Signing in and out: French messages, no account enumeration, limited attempts, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.territories.exceptions import LOCKED_OUT, WRONG_CREDENTIALS
from referral.territories.models import LoginAttempt
from referral.territories.services import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from referral.web.app import create_app
from tests.helpers import DEMO, csrf_token, login


def test_login_then_home_then_logout(client: FlaskClient) -> None:
    response = login(client, DEMO["cip"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Mes salarié·es" in home.get_data(as_text=True)

    token = csrf_token(home.get_data(as_text=True))
    response = client.post("/deconnexion", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # signed out


@pytest.mark.parametrize("email", [DEMO["cip"], "personne@inconnue.test"])
def test_wrong_password_and_unknown_account_answer_the_same(client: FlaskClient, email: str) -> None:
    response = login(client, email, "mauvais-mot-de-passe")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert WRONG_CREDENTIALS in html
    assert client.get("/").status_code == 302


def test_failed_attempts_are_kept_and_lock_the_account(client: FlaskClient, session: Session) -> None:
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert login(client, DEMO["cip"], "mauvais-mot-de-passe").status_code == 401
    # Even the right password is refused while locked, with a French explanation.
    response = login(client, DEMO["cip"])
    assert response.status_code == 429
    assert LOCKED_OUT in response.get_data(as_text=True)
    attempts = session.scalars(select(LoginAttempt).where(LoginAttempt.email == DEMO["cip"])).all()
    assert len(attempts) == MAX_FAILURES_PER_ACCOUNT + 1
    # Another account is not affected.
    assert login(client, DEMO["cp_emploi"]).status_code == 302


def test_an_unknown_address_locks_the_same_way(client: FlaskClient) -> None:
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        login(client, "personne@inconnue.test", "x")
    response = login(client, "personne@inconnue.test", "x")
    assert response.status_code == 429
    assert LOCKED_OUT in response.get_data(as_text=True)


def test_old_failures_no_longer_count(client: FlaskClient, session: Session) -> None:
    long_ago = utcnow() - timedelta(hours=1)
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        session.add(LoginAttempt(email=DEMO["cip"], remote_addr="127.0.0.1", at=long_ago, succeeded=False))
    session.commit()
    assert login(client, DEMO["cip"]).status_code == 302


def test_too_many_failures_from_one_address(client: FlaskClient, session: Session) -> None:
    now = utcnow()
    for index in range(MAX_FAILURES_PER_ADDRESS):
        session.add(
            LoginAttempt(email=f"essai{index}@x.test", remote_addr="127.0.0.1", at=now, succeeded=False)
        )
    session.commit()
    response = login(client, DEMO["cip"])
    assert response.status_code == 429


def test_forms_need_their_csrf_token(client: FlaskClient) -> None:
    response = client.post("/connexion", data={"email": DEMO["cip"], "password": "demo-convergence-2026"})
    assert response.status_code == 400
    login(client, DEMO["cip"])
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_login_form_with_missing_fields_explains_in_french(client: FlaskClient) -> None:
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    response = client.post("/connexion", data={"email": "", "csrf_token": token})
    assert response.status_code == 422
    assert "Champ obligatoire." in response.get_data(as_text=True)


def test_next_only_redirects_within_the_site(client: FlaskClient) -> None:
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    response = client.post(
        "/connexion",
        data={
            "email": DEMO["cip"],
            "password": "demo-convergence-2026",
            "csrf_token": token,
            "next": "https://ailleurs.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client: FlaskClient) -> None:
    response = login(client, DEMO["cip"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain HTTP on 127.0.0.1


def test_production_config_sets_secure_cookies(monkeypatch: pytest.MonkeyPatch, db) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    app: Flask = create_app({"DATABASE": db, "SECRET_KEY": "x" * 32})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/connexion")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
