"""The application shell: French pages, problem+json errors, one commit per request."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.db import on_commit
from referral.exceptions import InvalidInput
from referral.territories.models import Territory
from referral.web.request_session import db_session


@pytest.fixture
def app(fresh_app: Flask) -> Flask:
    """These tests add routes, which Flask refuses once an application served a request."""
    return fresh_app


def test_home_page_asks_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_login_page_is_french_and_accessible(client: FlaskClient) -> None:
    response = client.get("/connexion")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="email"' in html
    assert '<label for="password"' in html
    assert '<html lang="fr">' in html
    assert 'href="#contenu"' in html  # skip link
    assert "Réseau Convergence" in html
    assert "cdn" not in html.lower()


def test_unknown_page_is_a_french_404(client: FlaskClient) -> None:
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page introuvable" in response.get_data(as_text=True)


def test_api_errors_are_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nulle-part")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["title"] == "Page introuvable"
    assert body["errors"] == {}


def test_wrong_method_is_405_with_allow_header(client: FlaskClient) -> None:
    response = client.post("/api/v1/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def _register_probe_routes(app: Flask, calls: list[str]) -> None:
    @app.post("/api/v1/_probe/<outcome>")
    def probe(outcome: str):  # a view that writes, then succeeds or fails
        session = db_session()
        session.add(Territory(slug="sonde", name="Sonde", region="Test"))
        session.flush()
        on_commit(session, lambda: calls.append("committed"))
        if outcome == "refuse":
            raise InvalidInput("Refusé pour le test.", errors={"champ": ["Message en français."]})
        if outcome == "crash":
            raise RuntimeError("boom")
        return {"ok": True}

    app.extensions["csrf"].exempt(probe)  # an API-like route: no form token


def _probe_count(app: Flask) -> int:
    with app.app_context():
        return db_session().scalar(
            select(func.count()).select_from(Territory).where(Territory.slug == "sonde")
        )


def test_a_refused_request_leaves_the_database_as_it_was(app: Flask) -> None:
    calls: list[str] = []
    _register_probe_routes(app, calls)
    client = app.test_client()

    response = client.post("/api/v1/_probe/refuse")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"champ": ["Message en français."]}
    assert _probe_count(app) == 0
    assert calls == []


def test_an_unexpected_error_is_a_french_500_without_trace(app: Flask) -> None:
    calls: list[str] = []
    _register_probe_routes(app, calls)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()

    response = client.post("/api/v1/_probe/crash")
    assert response.status_code == 500
    body = response.get_json()
    assert body["title"] == "Erreur interne"
    assert "boom" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert _probe_count(app) == 0
    assert calls == []


def test_a_successful_request_commits_once_then_runs_side_effects(app: Flask) -> None:
    calls: list[str] = []
    _register_probe_routes(app, calls)
    client = app.test_client()

    response = client.post("/api/v1/_probe/ok")
    assert response.status_code == 200
    assert _probe_count(app) == 1
    assert calls == ["committed"]
