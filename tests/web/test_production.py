"""Production configuration: no start without a secret key and PostgreSQL, HSTS, and nothing
personal kept in a browser or proxy cache."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from referral.cli import main
from referral.config import PROJECT_ROOT, ConfigurationError
from referral.db import Database
from referral.web.app import create_app
from tests.helpers import DEMO, login

KEY = "k" * 32
POSTGRES = "postgresql+psycopg://referral@db.invalid:5432/referral"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.delenv("REFERRAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_a_secret_key(production: pytest.MonkeyPatch) -> None:
    production.setenv("DATABASE_URL", POSTGRES)
    with pytest.raises(ConfigurationError, match="REFERRAL_SECRET_KEY") as refused:
        create_app()
    assert "DATABASE_URL" not in str(refused.value)
    production.setenv("REFERRAL_SECRET_KEY", "trop-courte")
    with pytest.raises(ConfigurationError, match="au moins 32 caractères"):
        create_app()


def test_production_refuses_sqlite(production: pytest.MonkeyPatch) -> None:
    production.setenv("REFERRAL_SECRET_KEY", KEY)
    with pytest.raises(ConfigurationError, match="DATABASE_URL doit désigner la base PostgreSQL"):
        create_app()  # no DATABASE_URL: the embedded SQLite file
    production.setenv("DATABASE_URL", "sqlite:////tmp/referral.sqlite3")
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        create_app()


def test_production_starts_with_both(production: pytest.MonkeyPatch) -> None:
    production.setenv("REFERRAL_SECRET_KEY", KEY)
    production.setenv("DATABASE_URL", POSTGRES)
    app = create_app()  # no connection is made at start
    assert app.config["SECRET_KEY"] == KEY
    app.extensions["referral.database"].dispose()


def test_development_still_starts_with_nothing_set(monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
    monkeypatch.delenv("REFERRAL_ENV", raising=False)
    monkeypatch.delenv("REFERRAL_SECRET_KEY", raising=False)
    app = create_app({"DATABASE": db})
    assert app.config["SECRET_KEY"]


def test_the_command_line_prints_the_reason_and_exits_1(production: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 1
    assert "Démarrage refusé (REFERRAL_ENV=production)" in result.output
    assert "REFERRAL_SECRET_KEY" in result.output
    assert "Traceback" not in result.output


def test_the_wsgi_entry_point_fails_with_the_reason() -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REFERRAL_SECRET_KEY", "DATABASE_URL", "REFERRAL_ENV")
    }
    environment["REFERRAL_ENV"] = "production"
    finished = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert "Démarrage refusé" in finished.stderr


@pytest.fixture
def production_client(production: pytest.MonkeyPatch, db: Database) -> FlaskClient:
    app = create_app({"DATABASE": db, "SECRET_KEY": KEY, "TESTING": True})
    return app.test_client()


def test_production_sends_hsts(production_client: FlaskClient) -> None:
    response = production_client.get("/connexion", base_url="https://convergence.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_development_sends_no_hsts(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/connexion").headers


def test_signed_in_pages_and_api_answers_are_not_stored(client: FlaskClient, bearer) -> None:
    login(client, DEMO["cip"])
    for path in ("/", "/salaries/", "/api/v1/participants", "/api/v1/me/tasks"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    api = client.application.test_client()
    response = api.get("/api/v1/participants", headers=bearer("cip"))
    assert response.headers["Cache-Control"] == "no-store"
    # Errors too: a refusal may name what was asked for.
    assert api.get("/api/v1/participants/999999").headers["Cache-Control"] == "no-store"


def test_static_assets_and_the_login_page_may_be_cached(client: FlaskClient) -> None:
    assert "no-store" not in client.get("/connexion").headers.get("Cache-Control", "")
    login(client, DEMO["cip"])
    with client.get("/static/app.css") as asset:
        assert asset.status_code == 200
        assert "no-store" not in asset.headers.get("Cache-Control", "")
