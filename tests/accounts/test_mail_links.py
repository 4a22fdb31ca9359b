"""The links of account e-mails point at the service's public address, never at the Host header a
requester chose; production refuses to send e-mails without that address."""

from __future__ import annotations

import pytest
from flask import Flask

from referral.config import ConfigurationError
from referral.db import Database
from referral.web.app import create_app
from tests.helpers import DEMO, csrf_token
from tests.mailbox import Mailbox, link_in


@pytest.fixture
def app(db: Database) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE": db,
            "SECRET_KEY": "test-secret-key",
            "TWO_FACTOR": "off",
            "BASE_URL": "https://convergence.example.org",
        }
    )


def test_a_reset_link_ignores_the_requests_host(app: Flask, mailbox: Mailbox) -> None:
    client = app.test_client()
    page = client.get("/mot-de-passe-oublie", base_url="http://attaquant.example").get_data(as_text=True)
    response = client.post(
        "/mot-de-passe-oublie",
        data={"email": DEMO["cip"], "csrf_token": csrf_token(page)},
        base_url="http://attaquant.example",
    )
    assert response.status_code == 200
    link = link_in(mailbox.wait_for(DEMO["cip"]))
    assert link.startswith("https://convergence.example.org/mot-de-passe?jeton=")


def test_production_with_smtp_needs_the_public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://referral@db.invalid:5432/referral")
    monkeypatch.setenv("REFERRAL_SMTP_HOST", "smtp.example.org")
    monkeypatch.delenv("REFERRAL_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="REFERRAL_BASE_URL"):
        create_app()
    monkeypatch.setenv("REFERRAL_BASE_URL", "https://convergence.example.org/")
    app = create_app()
    assert app.config["BASE_URL"] == "https://convergence.example.org"
    app.extensions["referral.database"].dispose()
