"""The right-of-access export through the API and the CIP's record page: a JSON attachment named
after the record and the day, the same for both, refused out of scope like a missing record."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.audit.models import AuditAction, AuditEntry
from tests import factories
from tests.helpers import DEMO, login

EXPORT_ENTRY = {"what": "export du dossier (droit d'accès)"}


@pytest.fixture
def person_id(session: Session) -> int:
    """A person of the demo CIP's structure, with one need, committed."""
    person = factories.participant(session, last_name="Accès")
    factories.need(session, participant_id=person.id)
    session.commit()
    return person.id


def filename(person_id: int) -> str:
    return f'attachment; filename="dossier-{person_id}-{clock.today().isoformat()}.json"'


def exports_logged(session: Session, person_id: int) -> list[AuditEntry]:
    return [
        entry
        for entry in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.participant_id == person_id, AuditEntry.action == AuditAction.EXPORT)
            .order_by(AuditEntry.id)
        )
        if entry.details == EXPORT_ENTRY
    ]


def test_the_api_answers_the_record_as_an_attachment(
    client: FlaskClient, bearer, session: Session, person_id: int
) -> None:
    response = client.get(f"/api/v1/participants/{person_id}/export", headers=bearer("cip"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == filename(person_id)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["identity"]["id"] == person_id
    assert body["identity"]["last_name"] == "Accès"
    assert "d'accès" in response.get_data(as_text=True)  # accents as they are, not \u escapes
    assert body["needs"][0]["domain"] == {"code": "logement", "label": "Logement"}
    assert body["accesses"][-1]["what"] == "Export du dossier (droit d'accès)"
    # The request committed its read: the export stays in the log.
    session.expire_all()
    (logged,) = exports_logged(session, person_id)
    assert logged.actor_email == DEMO["cip"]


def test_the_api_accepts_the_page_session_like_its_neighbours(client: FlaskClient, person_id: int) -> None:
    login(client, DEMO["cip"])
    response = client.get(f"/api/v1/participants/{person_id}/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == filename(person_id)


@pytest.mark.parametrize(
    ("who", "status"), [("cip_other", 404), ("cp_sante", 403), ("coordinator", 403), ("admin", 403)]
)
def test_the_api_refuses_everyone_but_the_structure_s_cip(
    client: FlaskClient, bearer, session: Session, person_id: int, who: str, status: int
) -> None:
    response = client.get(f"/api/v1/participants/{person_id}/export", headers=bearer(who))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert "Content-Disposition" not in response.headers
    assert "Accès" not in response.get_data(as_text=True)
    session.expire_all()
    assert exports_logged(session, person_id) == []


def test_out_of_scope_answers_exactly_like_missing(client: FlaskClient, bearer, person_id: int) -> None:
    other = bearer("cip_other")
    out_of_scope = client.get(f"/api/v1/participants/{person_id}/export", headers=other)
    missing = client.get("/api/v1/participants/999999/export", headers=other)
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.get_json() == missing.get_json()


def test_the_api_requires_a_user(client: FlaskClient, person_id: int) -> None:
    response = client.get(f"/api/v1/participants/{person_id}/export")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_the_export_is_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/participants/{participant_id}/export"]


def test_the_record_page_offers_the_export_and_downloads_the_same_file(
    client: FlaskClient, person_id: int
) -> None:
    login(client, DEMO["cip"])
    html = client.get(f"/salaries/{person_id}").get_data(as_text=True)
    assert "Exporter le dossier (droit d'accès)" in html
    assert f'href="/salaries/{person_id}/export"' in html

    response = client.get(f"/salaries/{person_id}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == filename(person_id)
    body = response.get_json()
    assert body["identity"]["id"] == person_id
    assert set(body) == set(client.get(f"/api/v1/participants/{person_id}/export").get_json())


def test_the_page_export_is_refused_out_of_scope_and_without_login(
    client: FlaskClient, session: Session, person_id: int
) -> None:
    anonymous = client.get(f"/salaries/{person_id}/export")
    assert anonymous.status_code == 302
    assert "/connexion" in anonymous.headers["Location"]

    login(client, DEMO["cip_other"])
    refused = client.get(f"/salaries/{person_id}/export")
    assert refused.status_code == 404
    assert refused.mimetype == "text/html"
    assert "Content-Disposition" not in refused.headers
    assert "ne fait pas partie de votre périmètre" in refused.get_data(as_text=True)
    session.expire_all()
    assert exports_logged(session, person_id) == []
