"""API tokens: obtained with credentials, stored hashed, expiring, revocable; bad input is 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.territories.exceptions import WRONG_CREDENTIALS
from referral.territories.models import ApiToken
from tests.helpers import DEMO, DEMO_PASSWORD


def test_token_from_credentials_then_used(client: FlaskClient, session: Session) -> None:
    response = client.post("/api/v1/tokens", json={"email": DEMO["cip"], "password": DEMO_PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    token = body["token"]
    stored = session.scalars(select(ApiToken)).all()
    assert all(row.token_hash != token for row in stored)  # only its hash is kept
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/territories", headers=headers).status_code == 200


def test_wrong_credentials_are_401_problem_json(client: FlaskClient) -> None:
    response = client.post("/api/v1/tokens", json={"email": DEMO["cip"], "password": "faux"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == WRONG_CREDENTIALS


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"password": "x"}, "email", "Champ obligatoire."),
        ({"email": 12, "password": "x"}, "email", "Texte attendu."),
        ({"email": "a@b.c", "password": "x", "role": "admin"}, "role", "Champ inconnu."),
        ({"email": "a" * 300, "password": "x"}, "email", "Au plus 254 caractères."),
    ],
)
def test_bad_input_names_the_field_in_french(
    client: FlaskClient, payload: dict, field: str, message: str
) -> None:
    response = client.post("/api/v1/tokens", json=payload)
    assert response.status_code == 422
    body = response.get_json()
    assert body["status"] == 422
    assert message in body["errors"][field]


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/api/v1/tokens", data="{pas du json", content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"] == {"_": ["Corps JSON invalide."]}


def test_a_json_array_is_not_an_object(client: FlaskClient) -> None:
    response = client.post("/api/v1/tokens", json=["a"])
    assert response.status_code == 422


def test_expired_and_revoked_tokens_are_refused(client: FlaskClient, session: Session, bearer) -> None:
    headers = bearer("cip")
    assert client.get("/api/v1/territories", headers=headers).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    response = client.get("/api/v1/territories", headers=headers)
    assert response.status_code == 401
    assert "révoqué" in response.get_json()["detail"]

    headers = bearer("cip")
    session.execute(
        update(ApiToken).values(
            expires_at=utcnow() - timedelta(seconds=1), created_at=utcnow() - timedelta(days=91)
        )
    )
    session.commit()
    assert client.get("/api/v1/territories", headers=headers).status_code == 401


def test_garbage_token_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/territories", headers={"Authorization": "Bearer n-importe-quoi"})
    assert response.status_code == 401


def test_api_without_credentials_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/participants")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_page_session_may_write_to_the_api_only_with_its_csrf_token(client: FlaskClient) -> None:
    from tests.helpers import csrf_token, login

    login(client, DEMO["cip"])
    assert client.get("/api/v1/participants").status_code == 200  # reading with the session is fine
    assert client.delete("/api/v1/tokens/current").status_code == 403
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.delete("/api/v1/tokens/current", headers={"X-CSRFToken": token}).status_code == 204
