"""Small assertions shared by the tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session


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
