"""ProConnect (issue 19, point 5), end to end against a real OpenID provider started here
(`oidc-provider-mock`, in a process of its own): authorization code with PKCE, the state and the
nonce checked, an identity linked by verified e-mail to an existing or invited account, never a
new account on its own."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.config import account_settings
from referral.db import Database, utcnow
from referral.territories import invitations
from referral.territories.models import Invitation, InvitationState, User
from referral.territories.proconnect import NO_ACCOUNT
from referral.web.app import create_app
from referral.web.proconnect import STATE_REFUSED, TOKEN_REFUSED
from tests import factories
from tests.accounts.conftest import demo
from tests.helpers import DEMO, csrf_token
from tests.mailbox import free_port

CLIENT_ID = "reseau-convergence-test"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A local OpenID Connect provider requiring a nonce; stopped after the module's tests."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # up to 20 s for the interpreter and uvicorn to start
            try:
                if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the OpenID provider did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def app(db: Database, provider: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the local provider speaks plain HTTP
    return create_app(
        {
            "TESTING": True,
            "DATABASE": db,
            "SECRET_KEY": "test-secret-key",
            "TWO_FACTOR": "off",
            "PROCONNECT_ISSUER": provider,
            "PROCONNECT_CLIENT_ID": CLIENT_ID,
            "PROCONNECT_CLIENT_SECRET": "secret-de-test",
            "PROCONNECT_SCOPE": "openid email",
        }
    )


def identity(provider: str, sub: str, **claims: object) -> None:
    response = requests.put(f"{provider}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204


def to_provider(client: FlaskClient) -> str:
    """Press « S'identifier avec ProConnect »; the provider's authorization address."""
    page = client.get("/connexion").get_data(as_text=True)
    assert "S'identifier avec ProConnect" in unescape(page)
    response = client.post("/connexion/proconnect", data={"csrf_token": csrf_token(page), "next": "/comptes"})
    assert response.status_code == 302
    return response.headers["Location"]


def sign_in_at_provider(authorization_url: str, sub: str) -> str:
    """The person signs in at the provider; the callback path (with code and state) it sends back."""
    response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["Location"])
    assert back.path == "/connexion/proconnect/retour"
    return f"{back.path}?{back.query}"


def test_pkce_state_and_nonce_are_sent(client: FlaskClient, provider: str) -> None:
    query = parse_qs(urlsplit(to_provider(client)).query)
    with client.session_transaction() as stored:
        pending = stored["proconnect"]
    assert query["code_challenge_method"] == ["S256"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending["verifier"].encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == [challenge.decode()]
    assert query["state"] == [pending["state"]]
    assert query["nonce"] == [pending["nonce"]]
    assert query["client_id"] == [CLIENT_ID]


def test_an_existing_account_is_linked_by_verified_email(
    client: FlaskClient, session: Session, provider: str
) -> None:
    identity(provider, "agent-42", email=DEMO["cip"].upper(), email_verified=True)
    callback = sign_in_at_provider(to_provider(client), "agent-42")
    response = client.get(callback)
    assert response.status_code == 302
    assert response.headers["Location"] == "/comptes"
    assert "Mes salarié" in client.get("/").get_data(as_text=True)
    session.expire_all()
    assert demo(session, "cip").proconnect_sub == "agent-42"

    # Later, the identity alone signs in, even if its e-mail changed at the provider.
    identity(provider, "agent-42", email="nouvelle.adresse@example.org", email_verified=True)
    other = client.application.test_client()
    assert other.get(sign_in_at_provider(to_provider(other), "agent-42")).status_code == 302
    assert other.get("/salaries/").status_code == 200


def test_an_invitation_is_accepted_by_proconnect(
    client: FlaskClient, session: Session, provider: str
) -> None:
    invitation, _token = invitations.invite(
        session,
        demo(session, "coordinator"),
        email="invitee@example.org",
        full_name="Ines Invitée",
        role="cip",
        structure_id=factories.structure(session).id,
    )
    session.commit()
    identity(provider, "agent-invitee", email="invitee@example.org", email_verified=True)
    assert client.get(sign_in_at_provider(to_provider(client), "agent-invitee")).status_code == 302
    session.expire_all()
    user = session.scalar(select(User).where(User.email == "invitee@example.org"))
    assert user is not None
    assert (user.structure_id, user.password_hash, user.proconnect_sub) == (
        invitation.structure_id,
        None,
        "agent-invitee",
    )
    assert session.get(Invitation, invitation.id).state(utcnow()) is InvitationState.ACCEPTED


def test_an_unknown_email_opens_nothing(client: FlaskClient, session: Session, provider: str) -> None:
    identity(provider, "agent-unknown", email="inconnu@example.org", email_verified=True)
    response = client.get(sign_in_at_provider(to_provider(client), "agent-unknown"))
    assert response.status_code == 401
    assert NO_ACCOUNT.format(email="inconnu@example.org") in unescape(response.get_data(as_text=True))
    assert session.scalar(select(User.id).where(User.email == "inconnu@example.org")) is None
    assert client.get("/").status_code == 302


def test_an_unverified_email_is_refused(client: FlaskClient, provider: str) -> None:
    identity(provider, "agent-unverified", email=DEMO["cip"], email_verified=False)
    response = client.get(sign_in_at_provider(to_provider(client), "agent-unverified"))
    assert response.status_code == 401
    assert "n'a pas confirmé votre adresse" in unescape(response.get_data(as_text=True))


def test_a_wrong_state_is_refused(client: FlaskClient, provider: str) -> None:
    identity(provider, "agent-state", email=DEMO["cip"], email_verified=True)
    callback = sign_in_at_provider(to_provider(client), "agent-state")
    forged = callback.replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 401
    assert STATE_REFUSED in unescape(response.get_data(as_text=True))
    assert client.get(callback).status_code == 401  # the pending sign-in is used up either way
    assert client.get("/").status_code == 302


def test_a_wrong_nonce_is_refused(client: FlaskClient, provider: str) -> None:
    identity(provider, "agent-nonce", email=DEMO["cip"], email_verified=True)
    callback = sign_in_at_provider(to_provider(client), "agent-nonce")
    with client.session_transaction() as stored:
        stored["proconnect"] = {**stored["proconnect"], "nonce": "pas-le-bon-nonce"}
    response = client.get(callback)
    assert response.status_code == 401
    assert TOKEN_REFUSED in unescape(response.get_data(as_text=True))
    assert client.get("/").status_code == 302


def test_a_closed_account_is_refused(client: FlaskClient, session: Session, provider: str) -> None:
    demo(session, "cip_other").is_active = False
    session.commit()
    identity(provider, "agent-closed", email=DEMO["cip_other"], email_verified=True)
    response = client.get(sign_in_at_provider(to_provider(client), "agent-closed"))
    assert response.status_code == 401
    assert "Ce compte est fermé." in response.get_data(as_text=True)


def test_without_configuration_there_is_no_proconnect(db: Database) -> None:
    plain = create_app(
        {"TESTING": True, "DATABASE": db, "SECRET_KEY": "k", "TWO_FACTOR": "off"}
    ).test_client()
    page = plain.get("/connexion").get_data(as_text=True)
    assert "ProConnect" not in page
    assert plain.post("/connexion/proconnect", data={"csrf_token": csrf_token(page)}).status_code == 404


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_PROCONNECT_ISSUER", "https://auth.agentconnect.gouv.fr/api/v2")
    monkeypatch.setenv("REFERRAL_PROCONNECT_CLIENT_ID", "id")
    monkeypatch.setenv("REFERRAL_PROCONNECT_CLIENT_SECRET", "secret")
    settings = account_settings()
    assert settings["PROCONNECT_ISSUER"] == "https://auth.agentconnect.gouv.fr/api/v2"
    assert json.dumps(settings)  # plain values only
