"""Two-factor sign-in (issue 19, point 6): TOTP with recovery codes, required for the national
team, offered to everyone, required for every role handling health data when the deployment says
so (REFERRAL_TWO_FACTOR=health). These tests build their apps with the real policies."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.config import ConfigurationError, account_settings
from referral.db import Database, utcnow
from referral.exceptions import PermissionDenied
from referral.territories import two_factor
from referral.web.app import create_app
from tests.accounts.conftest import demo
from tests.helpers import DEMO, DEMO_PASSWORD, csrf_token, login


@pytest.fixture
def app(db: Database) -> Flask:
    return create_app({"TESTING": True, "DATABASE": db, "SECRET_KEY": "test-secret-key"})


@pytest.fixture
def health_app(db: Database) -> Flask:
    return create_app(
        {"TESTING": True, "DATABASE": db, "SECRET_KEY": "test-secret-key", "TWO_FACTOR": "health"}
    )


def later(secret: str, steps: int = 1) -> str:
    """The code of a coming time step (accepted: one step of drift), never the one already used."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * steps))


def set_up(client: FlaskClient) -> tuple[str, list[str]]:
    """Go through the setup page as a signed-in person; the secret and the recovery codes."""
    page = client.get("/mon-compte/double-authentification").get_data(as_text=True)
    secret = re.search(r'id="cle-secrete">([A-Z2-7]+)<', page).group(1)
    wrong = client.post(
        "/mon-compte/double-authentification", data={"code": "000000", "csrf_token": csrf_token(page)}
    )
    assert wrong.status_code == 422
    assert "Code incorrect" in wrong.get_data(as_text=True)
    done = client.post(
        "/mon-compte/double-authentification",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)},
    )
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == two_factor.RECOVERY_CODES
    return secret, codes


def sign_out(client: FlaskClient) -> None:
    client.post(
        "/deconnexion", data={"csrf_token": csrf_token(client.get("/mon-compte").get_data(as_text=True))}
    )


def enter_code(client: FlaskClient, code: str):
    page = client.get("/connexion/code")
    assert page.status_code == 200
    return client.post(
        "/connexion/code", data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))}
    )


def test_the_national_team_must_set_it_up_before_anything_else(client: FlaskClient) -> None:
    response = login(client, DEMO["admin"])
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302
    assert home.headers["Location"].endswith("/mon-compte/double-authentification")
    assert client.get("/comptes").headers["Location"].endswith("/mon-compte/double-authentification")
    secret, codes = set_up(client)
    assert client.get("/").status_code == 200

    sign_out(client)
    assert login(client, DEMO["admin"]).headers["Location"].endswith("/connexion/code")
    assert client.get("/").status_code == 302  # not signed in until the code
    wrong = enter_code(client, "123456")
    assert wrong.status_code == 401
    assert "Code de vérification incorrect ou déjà utilisé." in unescape(wrong.get_data(as_text=True))
    code = later(secret)
    assert enter_code(client, code).status_code == 302
    assert client.get("/").status_code == 200

    sign_out(client)
    login(client, DEMO["admin"])
    assert enter_code(client, code).status_code == 401  # the same code twice: refused
    assert enter_code(client, codes[0].upper()).status_code == 302  # a recovery code, once
    sign_out(client)
    login(client, DEMO["admin"])
    assert enter_code(client, codes[0]).status_code == 401


def test_a_recovery_code_of_digits_only_is_still_a_recovery_code(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten hex characters are all digits for about one code in a hundred: such a code was taken
    # for a TOTP code and refused.
    admin = demo(session, "admin")
    secret = two_factor.new_secret()
    digits = iter(f"{number:010d}" for number in range(1234567890, 1234567900))
    with monkeypatch.context() as patched:
        patched.setattr(two_factor.secrets, "token_hex", lambda _size: next(digits))
        codes = two_factor.enable(session, admin, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    assert codes[0] == "12345-67890"
    login(client, DEMO["admin"])
    assert enter_code(client, codes[0]).status_code == 302
    sign_out(client)
    login(client, DEMO["admin"])
    assert enter_code(client, codes[0]).status_code == 401  # single use, as any recovery code


def test_wrong_codes_are_limited(client: FlaskClient, session: Session) -> None:
    admin = demo(session, "admin")
    secret = two_factor.new_secret()
    two_factor.enable(session, admin, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    login(client, DEMO["admin"])
    for _ in range(two_factor.MAX_FAILURES):
        assert enter_code(client, "999999").status_code == 401
    blocked = enter_code(client, later(secret))
    assert blocked.status_code == 429
    assert "Trop de codes incorrects" in blocked.get_data(as_text=True)


def test_offered_to_a_cip_by_default_and_required_with_the_health_policy(
    client: FlaskClient, health_app: Flask
) -> None:
    login(client, DEMO["cip"])
    assert client.get("/").status_code == 200
    assert "Activer la double authentification" in client.get("/mon-compte").get_data(as_text=True)

    strict = health_app.test_client()
    login(strict, DEMO["cip"])
    assert strict.get("/").headers["Location"].endswith("/mon-compte/double-authentification")
    coordinator = health_app.test_client()
    login(coordinator, DEMO["coordinator"])
    assert coordinator.get("/").status_code == 200  # sees no named person, no health data


def test_a_cip_may_turn_it_off_with_the_password_but_not_the_national_team(
    client: FlaskClient, session: Session
) -> None:
    login(client, DEMO["cip"])
    set_up(client)
    page = client.get("/mon-compte").get_data(as_text=True)
    assert "Codes de secours restants : 10" in page
    wrong = client.post(
        "/mon-compte/double-authentification/desactiver",
        data={"password": "x", "csrf_token": csrf_token(page)},
    )
    assert wrong.status_code == 422
    done = client.post(
        "/mon-compte/double-authentification/desactiver",
        data={"password": DEMO_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert done.status_code == 302
    session.expire_all()
    assert not two_factor.enabled(demo(session, "cip"))
    with pytest.raises(PermissionDenied, match="obligatoire"):
        two_factor.disable(session, demo(session, "admin"), password=DEMO_PASSWORD, policy="national")


def test_api_tokens_need_the_code_when_two_factor_is_on(client: FlaskClient, session: Session) -> None:
    credentials = {"email": DEMO["admin"], "password": DEMO_PASSWORD}
    not_set_up = client.post("/api/v1/tokens", json=credentials)
    assert not_set_up.status_code == 403
    assert "obligatoire pour votre rôle" in not_set_up.get_json()["detail"]
    admin = demo(session, "admin")
    secret = two_factor.new_secret()
    two_factor.enable(session, admin, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    without = client.post("/api/v1/tokens", json=credentials)
    assert without.status_code == 401
    assert "otp" in without.get_json()["detail"]
    assert client.post("/api/v1/tokens", json={**credentials, "otp": "000000"}).status_code == 401
    assert client.post("/api/v1/tokens", json={**credentials, "otp": later(secret)}).status_code == 201
    assert (
        client.post("/api/v1/tokens", json={"email": DEMO["cip"], "password": DEMO_PASSWORD}).status_code
        == 201
    )


def test_the_policy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_TWO_FACTOR", "health")
    assert account_settings()["TWO_FACTOR"] == "health"
    monkeypatch.setenv("REFERRAL_TWO_FACTOR", "off")  # the tests' own setting is not a deployment's
    with pytest.raises(ConfigurationError, match="REFERRAL_TWO_FACTOR"):
        account_settings()
