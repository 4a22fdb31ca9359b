"""Signing in and out: French messages, no account enumeration, limited attempts, CSRF."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.config import ConfigurationError
from referral.db import utcnow
from referral.territories.exceptions import LOCKED_OUT, WRONG_CREDENTIALS
from referral.territories.models import LoginAttempt
from referral.territories.services import (
    ATTEMPT_WINDOW,
    FIRST_DELAY,
    FREE_FAILURES,
    MAX_DELAY,
    MAX_FAILURES_PER_ADDRESS,
    pair_delay,
)
from referral.web.app import create_app
from referral.web.auth import client_address
from tests.helpers import DEMO, DEMO_PASSWORD, csrf_token, login


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


def login_from(client: FlaskClient, address: str, email: str, password: str = DEMO_PASSWORD):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/connexion", environ_overrides=environ).get_data(as_text=True))
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": token},
        environ_overrides=environ,
    )


def test_pair_delay_grows_then_caps() -> None:
    delays = [pair_delay(failures) for failures in range(1, 12)]
    assert delays[:FREE_FAILURES] == [timedelta(0)] * FREE_FAILURES
    assert delays[FREE_FAILURES] == FIRST_DELAY
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    assert delays[-1] == MAX_DELAY


def test_an_attacker_is_slowed_but_the_owner_still_logs_in_from_elsewhere(
    client: FlaskClient, session: Session
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(FREE_FAILURES + 1):
            assert login_from(client, "203.0.113.7", DEMO["cip"], "mauvais-mot-de-passe").status_code == 401
        # The attacker's address waits, even with the right password, and is told how long in French.
        response = login_from(client, "203.0.113.7", DEMO["cip"])
        assert response.status_code == 429
        html = response.get_data(as_text=True)
        assert LOCKED_OUT in html
        assert "réessayez dans 30 secondes" in html
        assert response.headers["Retry-After"] == "30"
        # The owner, from their own address, is not locked out.
        owner = client.application.test_client()
        assert login_from(owner, "198.51.100.20", DEMO["cip"]).status_code == 302
        # Each further failure doubles the wait for the attacker's pair.
        clock.shift(FIRST_DELAY)
        assert login_from(client, "203.0.113.7", DEMO["cip"], "encore-faux").status_code == 401
        response = login_from(client, "203.0.113.7", DEMO["cip"], "encore-faux")
        assert response.status_code == 429
        assert "réessayez dans 1 minute" in response.get_data(as_text=True)
    # Real failures are kept (the refused request rolls back everything else); waits are not
    # attempts (no password was checked) and are not recorded.
    failures = session.scalars(
        select(LoginAttempt).where(
            LoginAttempt.email == DEMO["cip"],
            LoginAttempt.remote_addr == "203.0.113.7",
            LoginAttempt.succeeded.is_(False),
        )
    ).all()
    assert len(failures) == FREE_FAILURES + 2


def test_the_wait_is_the_same_whether_the_account_exists_or_not(client: FlaskClient) -> None:
    answers = []
    with time_machine.travel(utcnow(), tick=False):
        for email in (DEMO["cip"], "personne@inconnue.test"):
            for _ in range(FREE_FAILURES + 1):
                login_from(client, "203.0.113.8", email, "mauvais-mot-de-passe")
            response = login_from(client, "203.0.113.8", email, "mauvais-mot-de-passe")
            assert response.status_code == 429
            html = response.get_data(as_text=True)
            answers.append(html[html.index(LOCKED_OUT) :].split("<", 1)[0])
    assert answers[0] == answers[1]


def test_a_success_starts_the_count_again(client: FlaskClient) -> None:
    with time_machine.travel(utcnow(), tick=False):
        for _ in range(FREE_FAILURES):
            login_from(client, "203.0.113.9", DEMO["cip"], "faux-mot-de-passe")
        assert login_from(client, "203.0.113.9", DEMO["cip"]).status_code == 302
        other = client.application.test_client()
        for _ in range(FREE_FAILURES):
            assert login_from(other, "203.0.113.9", DEMO["cip"], "faux-mot-de-passe").status_code == 401


def test_old_failures_no_longer_count(client: FlaskClient, session: Session) -> None:
    long_ago = utcnow() - ATTEMPT_WINDOW - timedelta(minutes=1)
    for _ in range(FREE_FAILURES + 5):
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
    assert LOCKED_OUT in response.get_data(as_text=True)
    # Another address is not concerned.
    assert login_from(client.application.test_client(), "198.51.100.21", DEMO["cip"]).status_code == 302


def test_tokens_are_throttled_the_same_way(client: FlaskClient) -> None:
    environ = {"REMOTE_ADDR": "203.0.113.10"}
    with time_machine.travel(utcnow(), tick=False):
        for _ in range(FREE_FAILURES + 1):
            client.post(
                "/api/v1/tokens", json={"email": DEMO["cip"], "password": "faux"}, environ_overrides=environ
            )
        response = client.post(
            "/api/v1/tokens",
            json={"email": DEMO["cip"], "password": DEMO_PASSWORD},
            environ_overrides=environ,
        )
        assert response.status_code == 429
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"].startswith(LOCKED_OUT)
        elsewhere = {"REMOTE_ADDR": "198.51.100.22"}
        response = client.post(
            "/api/v1/tokens",
            json={"email": DEMO["cip"], "password": DEMO_PASSWORD},
            environ_overrides=elsewhere,
        )
        assert response.status_code == 201


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


def post_login_with_next(client: FlaskClient, target: str):
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    return client.post(
        "/connexion",
        data={"email": DEMO["cip"], "password": DEMO_PASSWORD, "csrf_token": token, "next": target},
    )


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.test",  # browsers drop the tab: //evil.test
        "/\n/evil.test",
        "/\r\nSet-Cookie: volé=1",  # a line break must not reach a header (it gave a 500)
        "//evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "https://evil.test/",
        "javascript:alert(1)",
        "/\x00/evil.test",
        "/\u200b/evil.test",
        " //evil.test",
        "evil.test",
    ],
)
def test_next_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    response = post_login_with_next(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_from_the_address_bar_is_judged_too(client: FlaskClient) -> None:
    page = client.get("/connexion?next=/%09/evil.test")
    assert page.status_code == 200
    assert "evil.test" not in page.get_data(as_text=True)
    page = client.get("/connexion?next=/%0d%0a/evil.test")
    assert page.status_code == 200


@pytest.mark.parametrize(
    "target", ["/salaries/", "/salaries/?q=dupont&programme=CVG", "/reseau/opportunites/3"]
)
def test_next_keeps_local_paths(client: FlaskClient, target: str) -> None:
    response = post_login_with_next(client, target)
    assert response.headers["Location"] == target


def test_a_forwarded_address_is_ignored_unless_proxies_are_trusted(db) -> None:
    seen: list[str] = []

    def app_with(hops: int) -> Flask:
        app = create_app({"TESTING": True, "DATABASE": db, "SECRET_KEY": "k", "TRUSTED_PROXY_HOPS": hops})

        @app.get("/adresse-vue")
        def _address() -> str:
            seen.append(client_address())
            return "ok"

        return app

    headers = {"X-Forwarded-For": "192.0.2.55, 10.0.0.2"}
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    app_with(0).test_client().get("/adresse-vue", headers=headers, environ_overrides=environ)
    app_with(1).test_client().get("/adresse-vue", headers=headers, environ_overrides=environ)
    app_with(2).test_client().get("/adresse-vue", headers=headers, environ_overrides=environ)
    assert seen == ["10.0.0.1", "10.0.0.2", "192.0.2.55"]


def test_trusted_hops_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, db) -> None:
    monkeypatch.setenv("REFERRAL_TRUSTED_PROXY_HOPS", "1")
    assert create_app({"DATABASE": db}).config["TRUSTED_PROXY_HOPS"] == 1
    monkeypatch.setenv("REFERRAL_TRUSTED_PROXY_HOPS", "un")
    with pytest.raises(ConfigurationError, match="REFERRAL_TRUSTED_PROXY_HOPS"):
        create_app({"DATABASE": db})


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
