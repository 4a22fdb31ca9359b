"""Small assertions shared by the tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from referral.audit.services import Actor, set_actor
from referral.territories.models import User
from referral.territories.queries import user_by_email


def refused_by_database(session: Session, action: Callable[[], Any]) -> None:
    """`action` must be refused by the database itself (a constraint), leaving the session usable."""

    def attempt() -> None:
        with session.begin_nested():
            action()
            session.flush()

    with pytest.raises((IntegrityError, DBAPIError)):
        attempt()


def accepted_by_database(session: Session, action: Callable[[], Any]) -> None:
    with session.begin_nested():
        action()
        session.flush()


DEMO_PASSWORD = "demo-convergence-2026"
DEMO = {
    "cip": "cip.fndsa@demo.convergence.test",
    "cip_other": "cip.aci-demo.lyon@demo.convergence.test",
    "cp_emploi": "cp.emploi.lyon@demo.convergence.test",
    "cp_sante": "cp.sante.lyon@demo.convergence.test",
    "cp_logement": "cp.logement.lyon@demo.convergence.test",
    "coordinator": "coordination.lyon@demo.convergence.test",
    "admin": "admin@demo.convergence.test",
}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    return client.post("/connexion", data={"email": email, "password": password, "csrf_token": token})


def demo_user(session: Session, who: str) -> User:
    """The demo account `who` (a key of `DEMO`: "cip", "cp", "coordinator"…)."""
    user = user_by_email(session, DEMO[who])
    assert user is not None
    return user


def acting(session: Session, who: str) -> User:
    """The demo user `who`, also set as the audit log's actor, as a request would."""
    actor = demo_user(session, who)
    set_actor(session, Actor(user_id=actor.id, email=actor.email, role=actor.role.value))
    return actor
