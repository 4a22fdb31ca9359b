"""Every response carries a request id: the proxy's when it looks like one, else a fresh one."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def app(fresh_app: Flask) -> Flask:
    """These tests add routes, which Flask refuses once an application served a request."""
    return fresh_app


def test_a_fresh_id_on_each_response(client: FlaskClient) -> None:
    first = client.get("/connexion").headers["X-Request-Id"]
    second = client.get("/connexion").headers["X-Request-Id"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("given", ["a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "proxy.7:42_x", "A" * 128])
def test_the_proxys_id_is_kept(client: FlaskClient, given: str) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"] == given


@pytest.mark.parametrize(
    "given",
    ["", "A" * 129, "deux mots", "id\\x1b[31m", "<script>", "-commence-par-un-tiret", "é-accentué"],
)
def test_anything_else_is_replaced(client: FlaskClient, given: str) -> None:
    returned = client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"]
    assert GENERATED.fullmatch(returned)


def test_errors_carry_it_too(client: FlaskClient) -> None:
    assert "X-Request-Id" in client.get("/nulle-part").headers
    unauthorised = client.get("/api/v1/participants", headers={"Authorization": "Bearer faux"})
    assert unauthorised.status_code == 401
    assert unauthorised.headers["X-Request-Id"]


def test_an_unexpected_error_is_logged_with_it(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/_probe/crash")
    def crash() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/_probe/crash", headers={"X-Request-Id": "incident-2026-12-01"})
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "incident-2026-12-01"
    assert "(request incident-2026-12-01)" in caplog.text
