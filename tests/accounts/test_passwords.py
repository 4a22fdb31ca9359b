"""« Mot de passe oublié » and « Mon compte » (issue 19, point 2): a single-use reset link valid
one hour, the same answer whether or not an address has an account, the other sessions ended;
changing one's password with the current one; seeing and revoking one's API tokens."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import InvalidInput
from referral.territories import accounts
from referral.territories.exceptions import LinkRefused
from referral.territories.models import ApiToken, PasswordReset
from referral.territories.services import issue_token, password_matches
from tests.accounts.conftest import NEW_PASSWORD, demo
from tests.helpers import DEMO, DEMO_PASSWORD, csrf_token, login
from tests.mailbox import Mailbox, link_in


def local(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def ask_reset(client: FlaskClient, email: str):
    token = csrf_token(client.get("/mot-de-passe-oublie").get_data(as_text=True))
    return client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token})


# --- Rules ------------------------------------------------------------------------------------


def test_a_reset_link_is_stored_hashed_works_once_and_for_one_hour(session: Session) -> None:
    user = demo(session, "cip")
    now = utcnow()
    found = accounts.request_reset(session, DEMO["cip"].upper(), now=now)
    assert found is not None
    _user, token = found
    row = session.scalar(select(PasswordReset).where(PasswordReset.user_id == user.id))
    assert row is not None
    assert token not in row.token_hash
    with pytest.raises(LinkRefused, match="expiré après une heure"):
        accounts.reset_password(
            session, token, password=NEW_PASSWORD, now=now + timedelta(hours=1, seconds=1)
        )
    generation = user.session_generation
    accounts.reset_password(session, token, password=NEW_PASSWORD, now=now + timedelta(minutes=59))
    assert password_matches(user, NEW_PASSWORD)
    assert user.session_generation > generation  # every session of the account ends
    with pytest.raises(LinkRefused):
        accounts.reset_password(
            session, token, password=NEW_PASSWORD + " encore", now=now + timedelta(minutes=59)
        )


def test_using_one_link_kills_the_others(session: Session) -> None:
    _user, first = accounts.request_reset(session, DEMO["cip"])
    _user, second = accounts.request_reset(session, DEMO["cip"])
    accounts.reset_password(session, second, password=NEW_PASSWORD)
    with pytest.raises(LinkRefused):
        accounts.reset_for_token(session, first)


def test_unknown_or_closed_addresses_and_floods_get_no_link(session: Session) -> None:
    assert accounts.request_reset(session, "personne@example.org") is None
    demo(session, "cip_other").is_active = False
    assert accounts.request_reset(session, DEMO["cip_other"]) is None
    for _ in range(accounts.MAX_RESETS_PER_HOUR):
        assert accounts.request_reset(session, DEMO["cip"]) is not None
    assert accounts.request_reset(session, DEMO["cip"]) is None


def test_a_weak_password_is_refused_and_the_link_still_works(session: Session) -> None:
    _user, token = accounts.request_reset(session, DEMO["cip"])
    with pytest.raises(InvalidInput):
        accounts.reset_password(session, token, password="azertyuiop12")
    accounts.reset_for_token(session, token)


def test_changing_ones_password_needs_the_current_one(session: Session) -> None:
    user = demo(session, "cip")
    with pytest.raises(InvalidInput, match="actuel est incorrect"):
        accounts.change_own_password(session, user, current="pas le bon", password=NEW_PASSWORD)
    accounts.change_own_password(session, user, current=DEMO_PASSWORD, password=NEW_PASSWORD)
    assert password_matches(user, NEW_PASSWORD)


# --- Pages, with the e-mail --------------------------------------------------------------------


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    known = ask_reset(client, DEMO["cip"])
    unknown = ask_reset(client, "personne.inconnue@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = lambda response: response.get_data(as_text=True).replace(  # noqa: E731
        csrf_token(response.get_data(as_text=True)), ""
    )
    assert strip(known) == strip(unknown)
    assert "Si un compte existe pour cette adresse" in known.get_data(as_text=True)
    mailbox.wait_for(DEMO["cip"])
    assert mailbox.to("personne.inconnue@example.org") == []


def test_pages_reset_through_the_received_link_ends_other_sessions(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    elsewhere = client.application.test_client()
    login(elsewhere, DEMO["cip"])
    assert elsewhere.get("/salaries/").status_code == 200

    ask_reset(client, DEMO["cip"])
    link = local(link_in(mailbox.wait_for(DEMO["cip"])))
    page = client.get(link)
    assert page.status_code == 200
    token = link.split("jeton=")[1]
    done = client.post(
        "/mot-de-passe",
        data={
            "token": token,
            "password": NEW_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302
    assert elsewhere.get("/salaries/").status_code == 302  # to the login page: the session ended
    assert login(client, DEMO["cip"], DEMO_PASSWORD).status_code == 401
    assert login(client, DEMO["cip"], NEW_PASSWORD).status_code == 302

    reused = client.application.test_client().get(link)
    assert reused.status_code == 410
    assert "Ce lien de réinitialisation n'est plus valable" in unescape(reused.get_data(as_text=True))


def test_a_made_up_link_is_refused_in_french(client: FlaskClient) -> None:
    response = client.get("/mot-de-passe?jeton=invente")
    assert response.status_code == 410
    assert "Demandez-en un nouveau" in unescape(response.get_data(as_text=True))


def test_my_account_changes_the_password_and_keeps_this_session_only(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    other = client.application.test_client()
    login(other, DEMO["cip"])
    page = client.get("/mon-compte")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    wrong = client.post(
        "/mon-compte/mot-de-passe",
        data={"current_password": "faux", "password": NEW_PASSWORD, "csrf_token": token},
    )
    assert wrong.status_code == 422
    assert "Mot de passe incorrect." in wrong.get_data(as_text=True)
    done = client.post(
        "/mon-compte/mot-de-passe",
        data={"current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 302
    assert client.get("/salaries/").status_code == 200
    assert other.get("/salaries/").status_code == 302


def test_my_account_lists_and_revokes_my_tokens(client: FlaskClient, session: Session) -> None:
    user = demo(session, "cip")
    token, row = issue_token(session, user, name="tableur du jeudi")
    _other_token, others = issue_token(session, demo(session, "cip_other"), name="jeton d'une autre")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me/tasks", headers=headers).status_code == 200
    login(client, DEMO["cip"])
    page = client.get("/mon-compte").get_data(as_text=True)
    assert "tableur du jeudi" in page
    assert "jeton d&#39;une autre" not in page
    assert (
        client.post(
            f"/mon-compte/jetons/{others.id}/revoquer", data={"csrf_token": csrf_token(page)}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/mon-compte/jetons/{row.id}/revoquer", data={"csrf_token": csrf_token(page)}
        ).status_code
        == 302
    )
    assert client.get("/api/v1/me/tasks", headers=headers).status_code == 401


# --- API ---------------------------------------------------------------------------------------


def test_api_reset_answers_the_same_and_the_token_works_once(client: FlaskClient, mailbox: Mailbox) -> None:
    known = client.post("/api/v1/password-resets", json={"email": DEMO["cp_sante"]})
    unknown = client.post("/api/v1/password-resets", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    token = link_in(mailbox.wait_for(DEMO["cp_sante"])).split("jeton=")[1]
    first = client.post("/api/v1/password-resets/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert first.status_code == 200
    again = client.post("/api/v1/password-resets/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert again.status_code == 410
    assert "n'est plus valable" in again.get_json()["detail"]


def test_api_my_password_and_tokens(client: FlaskClient, session: Session, bearer) -> None:
    headers = bearer("cp_emploi")
    tokens = client.get("/api/v1/me/tokens", headers=headers).get_json()
    assert len(tokens) == 1
    assert set(tokens[0]) == {"id", "name", "created_at", "expires_at", "last_used_at"}
    wrong = client.post(
        "/api/v1/me/password", json={"current_password": "faux", "password": NEW_PASSWORD}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"] == {"current_password": ["Mot de passe incorrect."]}
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "password": NEW_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    assert client.delete(f"/api/v1/me/tokens/{tokens[0]['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me/tokens", headers=headers).status_code == 401
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == tokens[0]["id"])) is not None


def test_an_expired_reset_link_is_refused_in_french_by_page_and_api(
    client: FlaskClient, session: Session
) -> None:
    _user, token = accounts.request_reset(session, DEMO["cip"])
    row = session.scalar(select(PasswordReset).order_by(PasswordReset.id.desc()))
    row.created_at = utcnow() - timedelta(hours=2)
    row.expires_at = utcnow() - timedelta(hours=1)
    session.commit()
    page = client.get(f"/mot-de-passe?jeton={token}")
    assert page.status_code == 410
    assert "expiré après une heure" in unescape(page.get_data(as_text=True))
    api = client.post("/api/v1/password-resets/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert api.status_code == 410
    assert "expiré après une heure" in api.get_json()["detail"]
