"""Passwords people choose are refused when easy to guess (zxcvbn), with a French message,
wherever they are set; the seed's fixed demo password keeps opening the demo."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cli import main
from referral.exceptions import InvalidInput
from referral.territories.models import User
from referral.territories.queries import user_by_email
from referral.territories.services import (
    WEAK_PASSWORD,
    change_password,
    create_user,
    ensure_user,
    password_matches,
    password_problems,
)
from tests.helpers import DEMO, DEMO_PASSWORD, login

WEAK = [
    "aaaaaaaaaaaa",
    " " * 12,
    "123456789012",
    "azertyuiopqsdf",
    "motdepasse2026",
    "password1234",
    "abcdefghijkl",
]
STRONG = ["cheval agrafe batterie correcte", "Péniche-Violon-Gravier-17", "tilleul/boussole/orage/menthe"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_in_french(password: str) -> None:
    assert password_problems(password) == [WEAK_PASSWORD]


@pytest.mark.parametrize("password", STRONG)
def test_passphrases_are_accepted(password: str) -> None:
    assert password_problems(password) == []


def test_too_short_says_so() -> None:
    assert password_problems("Xq7#pL2!") == ["Au moins 12 caractères."]


def test_the_account_s_own_name_and_e_mail_do_not_make_a_password() -> None:
    personal = ("marie.durand-lefebvre@exemple.org", "Marie Durand-Lefebvre")
    assert password_problems("durandlefebvre", personal=personal) == [WEAK_PASSWORD]


def test_a_very_long_password_is_judged_quickly_and_fairly() -> None:
    # zxcvbn stops at 72 characters; the first 72 are judged.
    assert password_problems("a" * 1000) == [WEAK_PASSWORD]
    assert password_problems("cheval agrafe batterie correcte " * 20) == []


def test_create_user_refuses_a_weak_password(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_user(
            session,
            None,
            email="nouveau@exemple.org",
            full_name="Nouveau Compte",
            role="admin",
            password="123456789012",
        )
    assert refused.value.errors["password"] == [WEAK_PASSWORD]
    user = create_user(
        session,
        None,
        email="nouveau@exemple.org",
        full_name="Nouveau Compte",
        role="admin",
        password=STRONG[0],
    )
    assert password_matches(user, STRONG[0])


def test_change_password_refuses_a_weak_one_and_keeps_the_old(session: Session) -> None:
    user = user_by_email(session, DEMO["cip"])
    with pytest.raises(InvalidInput) as refused:
        change_password(session, user, user, password=" " * 12)
    assert refused.value.errors["password"] == [WEAK_PASSWORD]
    assert password_matches(user, DEMO_PASSWORD)


def test_the_seed_s_demo_password_still_opens_the_demo(session: Session, client: FlaskClient) -> None:
    # The seed sets it through ensure_user, which applies no estimate to that fixed password.
    user = ensure_user(
        session,
        email=DEMO["cip"],
        full_name=user_by_email(session, DEMO["cip"]).full_name,
        role="cip",
        password=DEMO_PASSWORD,
        structure_key="fndsa-lyon",
    )
    session.commit()
    assert password_matches(user, DEMO_PASSWORD)
    assert login(client, DEMO["cip"]).status_code == 302


def test_users_create_on_the_command_line_refuses_a_weak_password(app: Flask, session: Session) -> None:
    arguments = ["users", "create", "--email", "faible@exemple.org", "--name", "Faible", "--role", "admin"]
    result = app.test_cli_runner().invoke(main, [*arguments, "--password", "aaaaaaaaaaaa"])
    assert result.exit_code == 1
    assert WEAK_PASSWORD in result.output
    assert session.scalar(select(User).where(User.email == "faible@exemple.org")) is None
    result = app.test_cli_runner().invoke(main, [*arguments, "--password", STRONG[1]])
    assert result.exit_code == 0, result.output
