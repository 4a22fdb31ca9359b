"""Invitations (issue 19, point 1): who may invite whom, the single-use 7-day link stored hashed,
resend and cancel — as rules, then through the pages with a real e-mail, then through the API."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import Conflict, NotFound, PermissionDenied
from referral.territories import invitations
from referral.territories.exceptions import AccountAlreadyExists, LinkRefused
from referral.territories.models import Invitation, InvitationState, Role, Structure, User
from referral.territories.services import password_matches
from tests import factories
from tests.accounts.conftest import NEW_PASSWORD, demo
from tests.helpers import DEMO, csrf_token, login
from tests.mailbox import Mailbox, link_in


def invite(session: Session, actor: User, **overrides):
    values = {"email": "nouvelle.cip@example.org", "full_name": "Nouvelle Collègue", "role": "cip"}
    values.update(overrides)
    return invitations.invite(session, actor, **values)


# --- Who may invite whom ---------------------------------------------------------------------


def test_a_coordinator_invites_cps_of_their_territory_and_cips_of_its_structures(session: Session) -> None:
    coordinator = demo(session, "coordinator")
    fndsa = factories.structure(session)
    cip, _ = invite(session, coordinator, structure_id=fndsa.id)
    cp, _ = invite(
        session, coordinator, email="cp@example.org", role="cp", territory_slug="lyon", domains=["sante"]
    )
    assert (cip.role, cip.structure_id, cip.territory_id) == (Role.CIP, fndsa.id, None)
    assert (cp.role, cp.territory.slug, cp.domains) == (Role.CP, "lyon", ["sante"])


def test_a_coordinator_cannot_invite_into_another_territory(session: Session, elsewhere: Structure) -> None:
    coordinator = demo(session, "coordinator")
    with pytest.raises(PermissionDenied, match="votre territoire"):
        invite(session, coordinator, structure_id=elsewhere.id)
    with pytest.raises(PermissionDenied, match="votre territoire"):
        invite(session, coordinator, role="cp", territory_slug="paris")
    assert session.scalar(select(Invitation.id)) is None


@pytest.mark.parametrize(("role", "territory"), [("coordinator", "lyon"), ("admin", None)])
def test_a_coordinator_cannot_raise_a_role_above_their_scope(session: Session, role: str, territory) -> None:
    with pytest.raises(PermissionDenied, match="pas un rôle de coordination ou national"):
        invite(session, demo(session, "coordinator"), role=role, territory_slug=territory)


def test_a_cip_invites_a_colleague_of_their_structure_only(session: Session, elsewhere: Structure) -> None:
    cip = demo(session, "cip")
    colleague, _ = invite(session, cip, structure_id=cip.structure_id)
    assert colleague.structure_id == cip.structure_id
    other_lyon = demo(session, "cip_other").structure_id
    with pytest.raises(PermissionDenied, match="collègue de votre structure"):
        invite(session, cip, email="b@example.org", structure_id=other_lyon)
    with pytest.raises(PermissionDenied, match="collègue CIP"):
        invite(session, cip, email="c@example.org", role="cp", territory_slug="lyon")


def test_a_cp_invites_nobody(session: Session) -> None:
    cp = demo(session, "cp_emploi")
    with pytest.raises(PermissionDenied):
        invite(session, cp, structure_id=factories.structure(session).id)


def test_the_national_team_invites_coordinators_and_cps_anywhere(session: Session) -> None:
    admin = demo(session, "admin")
    coordinator, _ = invite(
        session, admin, email="coord.paris@example.org", role="coordinator", territory_slug="paris"
    )
    assert coordinator.territory.slug == "paris"


def test_an_address_with_an_account_or_a_pending_invitation_is_refused(session: Session) -> None:
    coordinator = demo(session, "coordinator")
    structure_id = factories.structure(session).id
    with pytest.raises(AccountAlreadyExists):
        invite(session, coordinator, email=DEMO["cip"], structure_id=structure_id)
    invite(session, coordinator, structure_id=structure_id)
    with pytest.raises(Conflict, match="déjà en attente"):
        invite(session, coordinator, structure_id=structure_id)


# --- The link -----------------------------------------------------------------------------------


def test_the_link_is_stored_hashed_and_opens_the_account_once(session: Session) -> None:
    coordinator = demo(session, "coordinator")
    invitation, token = invite(session, coordinator, structure_id=factories.structure(session).id)
    assert token not in invitation.token_hash
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)

    user = invitations.accept(session, token, password=NEW_PASSWORD)
    assert (user.role, user.structure_id, user.email) == (Role.CIP, invitation.structure_id, invitation.email)
    assert password_matches(user, NEW_PASSWORD)
    assert invitation.state(utcnow()) is InvitationState.ACCEPTED
    with pytest.raises(LinkRefused, match="n'est plus valable"):
        invitations.accept(session, token, password=NEW_PASSWORD)


def test_a_cp_invitation_gives_the_domains(session: Session) -> None:
    invitation, token = invite(
        session, demo(session, "coordinator"), role="cp", territory_slug="lyon", domains=["logement", "sante"]
    )
    user = invitations.accept(session, token, password=NEW_PASSWORD)
    assert sorted(user.domain_codes) == ["logement", "sante"]


def test_the_link_expires_after_seven_days(session: Session) -> None:
    now = utcnow()
    _invitation, token = invite(
        session, demo(session, "coordinator"), structure_id=factories.structure(session).id, now=now
    )
    with pytest.raises(LinkRefused):
        invitations.accept(session, token, password=NEW_PASSWORD, now=now + timedelta(days=7, seconds=1))
    invitations.accept(session, token, password=NEW_PASSWORD, now=now + timedelta(days=6, hours=23))


def test_resending_replaces_the_link_and_cancelling_kills_it(session: Session) -> None:
    coordinator = demo(session, "coordinator")
    now = utcnow()
    invitation, first = invite(session, coordinator, structure_id=factories.structure(session).id, now=now)
    later = now + timedelta(days=8)
    assert invitation.state(later) is InvitationState.EXPIRED
    _same, second = invitations.resend(session, coordinator, invitation.id, now=later)
    assert invitation.state(later) is InvitationState.PENDING
    with pytest.raises(LinkRefused):
        invitations.pending_for_token(session, first, now=later)
    assert invitations.pending_for_token(session, second, now=later) is invitation
    invitations.cancel(session, coordinator, invitation.id, now=later)
    assert invitation.state(later) is InvitationState.CANCELLED
    with pytest.raises(LinkRefused):
        invitations.accept(session, second, password=NEW_PASSWORD, now=later)
    with pytest.raises(Conflict):
        invitations.resend(session, coordinator, invitation.id, now=later)


def test_another_territorys_coordinator_cannot_see_resend_or_cancel(session: Session) -> None:
    invitation, _ = invite(
        session, demo(session, "coordinator"), structure_id=factories.structure(session).id
    )
    assert invitation in invitations.invitations_of(session, demo(session, "coordinator"))
    assert invitation in invitations.invitations_of(session, demo(session, "admin"))
    assert invitations.invitations_of(session, demo(session, "cp_emploi")) == []
    other_cip = demo(session, "cip_other")
    assert invitation not in invitations.invitations_of(session, other_cip)
    with pytest.raises(NotFound):
        invitations.cancel(session, other_cip, invitation.id)


# --- Through the pages, with a real e-mail ----------------------------------------------------


def post(client: FlaskClient, path: str, data: dict, page: str = "/comptes"):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_pages_invite_by_email_and_the_link_sets_the_password_once(
    client: FlaskClient, session: Session, mailbox: Mailbox
) -> None:
    login(client, DEMO["coordinator"])
    fndsa = factories.structure(session)
    response = post(
        client,
        "/comptes/invitations",
        {
            "email": "Lea.Martin@example.org",
            "full_name": "Léa Martin",
            "role": "cip",
            "structure_id": str(fndsa.id),
        },
    )
    assert response.status_code == 302
    message = mailbox.wait_for("lea.martin@example.org")
    assert "Invitation" in message["Subject"]
    link = link_in(message)
    assert "jeton=" in link
    path = urlsplit(link)._replace(scheme="", netloc="").geturl()

    listing = client.get("/comptes").get_data(as_text=True)
    assert "Léa Martin" in listing
    assert "En attente" in listing

    newcomer = client.application.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    assert "Léa Martin" in page.get_data(as_text=True)
    token = urlsplit(link).query.split("jeton=")[1]
    weak = newcomer.post(
        "/invitation",
        data={
            "token": token,
            "password": "motdepasse12",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert weak.status_code == 422
    assert "trop facile" in weak.get_data(as_text=True)
    done = newcomer.post(
        "/invitation",
        data={
            "token": token,
            "password": NEW_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302
    assert login(newcomer, "lea.martin@example.org", NEW_PASSWORD).status_code == 302
    assert "Mes salarié" in newcomer.get("/").get_data(as_text=True)

    again = client.application.test_client().get(path)
    assert again.status_code == 410
    assert "n'est plus valable" in unescape(again.get_data(as_text=True))
    assert "Acceptée" in client.get("/comptes").get_data(as_text=True)


def test_pages_refuse_another_territory_in_french(client: FlaskClient, elsewhere: Structure) -> None:
    login(client, DEMO["coordinator"])
    response = post(
        client,
        "/comptes/invitations",
        {"email": "x@example.org", "full_name": "X", "role": "cip", "structure_id": str(elsewhere.id)},
    )
    assert response.status_code == 403
    assert "Vous ne pouvez inviter que dans votre territoire." in response.get_data(as_text=True)


def test_pages_resend_sends_a_new_link_and_the_old_one_is_refused(
    client: FlaskClient, session: Session, mailbox: Mailbox
) -> None:
    login(client, DEMO["cip"])
    cip = demo(session, "cip")
    post(
        client,
        "/comptes/invitations",
        {
            "email": "co@example.org",
            "full_name": "Co Llègue",
            "role": "cip",
            "structure_id": str(cip.structure_id),
        },
    )
    first = link_in(mailbox.wait_for("co@example.org"))
    invitation_id = session.scalar(select(Invitation.id).where(Invitation.email == "co@example.org"))
    assert post(client, f"/comptes/invitations/{invitation_id}/renvoyer", {}).status_code == 302
    second = link_in(mailbox.wait_for("co@example.org", count=2))
    assert first != second
    anonymous = client.application.test_client()
    assert anonymous.get(urlsplit(first).path + "?" + urlsplit(first).query).status_code == 410
    assert anonymous.get(urlsplit(second).path + "?" + urlsplit(second).query).status_code == 200
    assert post(client, f"/comptes/invitations/{invitation_id}/annuler", {}).status_code == 302
    assert anonymous.get(urlsplit(second).path + "?" + urlsplit(second).query).status_code == 410
    assert "Annulée" in client.get("/comptes").get_data(as_text=True)


def test_without_smtp_the_inviter_is_shown_the_link(
    client: FlaskClient, session: Session, monkeypatch
) -> None:
    monkeypatch.delenv("REFERRAL_SMTP_HOST", raising=False)
    login(client, DEMO["cip"])
    response = post(
        client,
        "/comptes/invitations",
        {
            "email": "co@example.org",
            "full_name": "Co",
            "role": "cip",
            "structure_id": str(demo(session, "cip").structure_id),
        },
    )
    assert response.status_code == 302
    assert "/invitation?jeton=" in client.get("/comptes").get_data(as_text=True)


def test_a_cp_has_no_accounts_page(client: FlaskClient) -> None:
    login(client, DEMO["cp_emploi"])
    assert client.get("/comptes").status_code == 403


# --- Through the API ----------------------------------------------------------------------------


def test_api_invites_lists_and_accepts(client: FlaskClient, session: Session, bearer, monkeypatch) -> None:
    monkeypatch.delenv("REFERRAL_SMTP_HOST", raising=False)
    headers = bearer("coordinator")
    fndsa = factories.structure(session)
    created = client.post(
        "/api/v1/invitations",
        json={"email": "api@example.org", "full_name": "Par Api", "role": "cip", "structure_id": fndsa.id},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"] == "pending"
    token = body["link"].split("jeton=")[1]
    listed = client.get("/api/v1/invitations", headers=headers).get_json()
    assert [row["email"] for row in listed if row["id"] == body["id"]] == ["api@example.org"]

    accepted = client.post("/api/v1/invitations/accept", json={"token": token, "password": NEW_PASSWORD})
    assert accepted.status_code == 201
    assert accepted.get_json()["structure_id"] == fndsa.id
    reused = client.post("/api/v1/invitations/accept", json={"token": token, "password": NEW_PASSWORD})
    assert reused.status_code == 410
    assert reused.mimetype == "application/problem+json"
    assert "n'est plus valable" in reused.get_json()["detail"]
    states = {
        row["id"]: row["state"] for row in client.get("/api/v1/invitations", headers=headers).get_json()
    }
    assert states[body["id"]] == "accepted"


def test_api_refuses_scope_and_role_beyond_the_coordinators(
    client: FlaskClient, bearer, elsewhere: Structure
) -> None:
    headers = bearer("coordinator")
    other = client.post(
        "/api/v1/invitations",
        json={"email": "x@example.org", "full_name": "X", "role": "cip", "structure_id": elsewhere.id},
        headers=headers,
    )
    assert other.status_code == 403
    assert other.get_json()["detail"] == "Vous ne pouvez inviter que dans votre territoire."
    higher = client.post(
        "/api/v1/invitations",
        json={"email": "x@example.org", "full_name": "X", "role": "coordinator", "territory": "lyon"},
        headers=headers,
    )
    assert higher.status_code == 403
    bad = client.post(
        "/api/v1/invitations",
        json={"email": "pas-une-adresse", "full_name": "", "role": "roi"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) >= {"email", "role"}


def test_api_cancel_and_resend(client: FlaskClient, session: Session, bearer, monkeypatch) -> None:
    monkeypatch.delenv("REFERRAL_SMTP_HOST", raising=False)
    headers = bearer("coordinator")
    created = client.post(
        "/api/v1/invitations",
        json={
            "email": "api@example.org",
            "full_name": "Par Api",
            "role": "cp",
            "territory": "lyon",
            "domains": ["emploi"],
        },
        headers=headers,
    ).get_json()
    resent = client.post(f"/api/v1/invitations/{created['id']}/resend", headers=headers).get_json()
    assert resent["link"] != created["link"]
    cancelled = client.post(f"/api/v1/invitations/{created['id']}/cancel", headers=headers)
    assert cancelled.get_json()["state"] == "cancelled"
    token = resent["link"].split("jeton=")[1]
    assert (
        client.post("/api/v1/invitations/accept", json={"token": token, "password": NEW_PASSWORD}).status_code
        == 410
    )
    assert (
        client.post(f"/api/v1/invitations/{created['id']}/cancel", headers=bearer("cip")).status_code == 404
    )


def test_an_expired_link_is_refused_in_french_by_page_and_api(client: FlaskClient, session: Session) -> None:
    invitation, token = invite(
        session, demo(session, "coordinator"), structure_id=factories.structure(session).id
    )
    invitation.created_at = utcnow() - timedelta(days=8)
    invitation.expires_at = utcnow() - timedelta(days=1)
    session.commit()
    page = client.get(f"/invitation?jeton={token}")
    assert page.status_code == 410
    assert "expiré après 7 jours" in unescape(page.get_data(as_text=True))
    api = client.post("/api/v1/invitations/accept", json={"token": token, "password": NEW_PASSWORD})
    assert api.status_code == 410
    assert "expiré après 7 jours" in api.get_json()["detail"]
