"""The `referral` command line: accounts and tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cli import main
from referral.db import utcnow
from referral.territories import services as territory_services
from referral.territories.models import ApiToken, Role, User


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_users_create_a_cp_with_domains(app: Flask, session: Session) -> None:
    result = run(
        app,
        "users",
        "create",
        "--email",
        "Nouvelle.CP@Exemple.org",
        "--name",
        "Nouvelle CP",
        "--role",
        "cp",
        "--territory",
        "lyon",
        "--domain",
        "logement",
        "--domain",
        "hebergement",
        "--password",
        "un-mot-de-passe-long",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "nouvelle.cp@exemple.org"))
    assert user.role is Role.CP
    assert user.domain_codes == ["logement", "hebergement"]


def test_users_create_refuses_in_french(app: Flask, session: Session) -> None:
    result = run(
        app,
        "users",
        "create",
        "--email",
        "x@exemple.org",
        "--name",
        "X",
        "--role",
        "cp",
        "--territory",
        "atlantide",
        "--domain",
        "cuisine",
        "--password",
        "court",
    )
    assert result.exit_code == 1
    assert "territoire connu" in result.output
    assert "« cuisine » n'est pas un domaine connu." in result.output
    assert "Au moins 12 caractères." in result.output
    assert session.scalar(select(User).where(User.email == "x@exemple.org")) is None


def test_tokens_create_prints_the_token_last(app: Flask) -> None:
    result = run(app, "tokens", "create", "--email", "cip.fndsa@demo.convergence.test")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    client = app.test_client()
    assert client.get("/api/v1/participants", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert run(app, "tokens", "revoke", token).exit_code == 0
    assert client.get("/api/v1/participants", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_tokens_never_start_with_a_dash_and_an_old_one_is_still_revoked(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token starting with « - » read as an option: `tokens revoke` answered a usage error."""
    drawn = iter(["-ancien-jeton-qui-commence-par-un-tiret", "nouveau-jeton-sans-tiret-devant"])
    monkeypatch.setattr(territory_services.secrets, "token_urlsafe", lambda _size: next(drawn))
    user = session.scalar(select(User).where(User.email == "cip.fndsa@demo.convergence.test"))
    token, _row = territory_services.issue_token(session, user)
    assert token == "nouveau-jeton-sans-tiret-devant"  # the one with a dash was drawn again

    old = "-jeton-d-avant"  # issued before the rule
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=territory_services._token_digest(old),
            name="ancien",
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=30),
        )
    )
    session.flush()
    result = run(app, "tokens", "revoke", old)
    assert result.exit_code == 0, result.output
    assert "Jeton révoqué." in result.output


def test_match_prints_ranked_proposals_with_reasons(app: Flask, session: Session) -> None:
    from referral.referrals import matching_index
    from tests import factories

    lyon = factories.territory(session, "lyon")
    cip = session.scalar(select(User).where(User.email == "cip.fndsa@demo.convergence.test"))
    person = factories.participant(
        session, programme="CVG", referent_id=cip.id, entered_on=clock.today() - timedelta(days=90)
    )
    factories.need(session, participant_id=person.id, domain_code="logement", priority=1)
    factories.opportunity(session, territory_id=lyon.id, domain_code="logement", title="Toit d'abord")
    session.commit()
    matching_index.forget_index()
    result = run(app, "match", "--participant", str(person.id), "--limit", "5")
    assert result.exit_code == 0, result.output
    assert f"Propositions pour Camille Testeur (dossier n° {person.id})" in result.output
    assert "Toit d'abord" in result.output
    assert "/100" in result.output
    assert "· " in result.output  # reasons, in words
    assert run(app, "match", "--participant", "999999").exit_code == 1


def test_users_password_checks_strength_and_ends_sessions(app: Flask, session: Session) -> None:
    from tests.helpers import DEMO, login

    client = app.test_client()
    login(client, DEMO["cip"])
    weak = run(app, "users", "password", "--email", DEMO["cip"], "--password", "123456789012")
    assert weak.exit_code == 1
    assert "trop facile à deviner" in weak.output
    assert client.get("/").status_code == 200
    result = run(app, "users", "password", "--email", DEMO["cip"], "--password", "girafe-lanterne-écluse-9")
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302  # the open session ended
    assert login(client, DEMO["cip"], "girafe-lanterne-écluse-9").status_code == 302


def test_users_deactivate_closes_the_account(app: Flask, session: Session) -> None:
    from tests.helpers import DEMO, login

    client = app.test_client()
    login(client, DEMO["cip"])
    assert run(app, "users", "deactivate", "--email", DEMO["cip"]).exit_code == 0
    assert client.get("/").status_code == 302
    assert login(client, DEMO["cip"]).status_code == 401
    assert run(app, "users", "deactivate", "--email", "personne@exemple.org").exit_code == 1
