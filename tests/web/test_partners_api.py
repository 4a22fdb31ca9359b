"""The partner-network API: duplicates as 409 with candidates, opportunity states, optimistic
locking, search, meetings and office hours — problem+json in French, nothing written on refusal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral import clock
from referral.partners.models import Opportunity, OpportunityRevision, Partner
from tests.partners.conftest import make_siret

PROBLEM = "application/problem+json"


def partner_count(session: Session) -> int:
    return session.scalar(select(func.count(Partner.id))) or 0


@pytest.fixture
def cp(bearer) -> dict[str, str]:
    return bearer("cp_logement")


@pytest.fixture
def landlord_id(session: Session) -> int:
    return session.scalar(select(Partner.id).where(Partner.key == "habitat-rhone-solidaire-demo"))


def test_a_likely_duplicate_answers_409_with_candidates(
    client: FlaskClient, session: Session, cp: dict[str, str], landlord_id: int
) -> None:
    before = partner_count(session)
    body = {"name": "habitat rhone solidaire (demo)", "kind": "bailleur_social", "town": "LYON"}
    response = client.post("/api/v1/partners", json=body, headers=cp)
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == 409
    assert "existe probablement déjà" in problem["detail"]
    assert [set(candidate) for candidate in problem["candidates"]] == [{"id", "name", "town", "reason"}]
    assert problem["candidates"][0]["id"] == landlord_id
    assert partner_count(session) == before

    confirmed = client.post("/api/v1/partners", json=body | {"confirm_new": True}, headers=cp)
    assert confirmed.status_code == 201, confirmed.get_json()
    created = confirmed.get_json()
    assert created["name"] == "habitat rhone solidaire (demo)"
    assert created["territories"] == [
        {
            "territory_id": created["territories"][0]["territory_id"],
            "status": "deployed",
            "contacts": [],
            "notes": None,
        }
    ]


def test_the_same_siret_is_refused_even_when_confirmed(client: FlaskClient, cp: dict[str, str]) -> None:
    siret = make_siret("7123456789012")
    first = client.post(
        "/api/v1/partners",
        json={"name": "Les Tilleuls", "kind": "hebergement", "town": "Lyon", "siret": siret},
        headers=cp,
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/partners",
        json={
            "name": "Autre chose",
            "kind": "association",
            "town": "Bron",
            "siret": siret,
            "confirm_new": True,
        },
        headers=cp,
    )
    assert again.status_code == 409
    assert again.get_json()["candidates"][0]["id"] == first.get_json()["id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"name": "X", "kind": "association", "siret": "123"},
            "siret",
            "Le SIRET compte exactement 14 chiffres.",
        ),
        (
            {"name": "X", "kind": "poissonnerie"},
            "kind",
            "« poissonnerie » n'est pas un type de partenaire connu.",
        ),
        ({"kind": "association"}, "name", "Champ obligatoire."),
        ({"name": "X", "kind": "association", "couleur": "bleu"}, "couleur", "Champ inconnu."),
        (
            {"name": "X", "kind": "association", "contacts": [{"name": "A", "email": "pas-un-mail"}]},
            "contacts.0.email",
            "Adresse e-mail invalide.",
        ),
    ],
)
def test_bad_partner_input_is_422_with_french_field_messages(
    client: FlaskClient, session: Session, cp: dict[str, str], body: dict, field: str, message: str
) -> None:
    before = partner_count(session)
    response = client.post("/api/v1/partners", json=body, headers=cp)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == PROBLEM
    assert message in response.get_json()["errors"][field]
    assert partner_count(session) == before


def test_roles_on_partner_writes(client: FlaskClient, bearer, landlord_id: int) -> None:
    body = {"name": "Nouvelle structure", "kind": "association", "town": "Lyon"}
    assert client.post("/api/v1/partners", json=body, headers=bearer("coordinator")).status_code == 403
    assert client.post("/api/v1/partners", json=body, headers=bearer("cip")).status_code == 403
    assert client.post("/api/v1/partners", json=body).status_code == 401
    patched = client.patch(
        f"/api/v1/partners/{landlord_id}", json={"address": "1 place Bellecour"}, headers=bearer("cp_emploi")
    )
    assert patched.status_code == 200
    assert patched.get_json()["address"] == "1 place Bellecour"


def test_search_contract(client: FlaskClient, bearer) -> None:
    response = client.get(
        "/api/v1/partners/search?q=habitat%20rhone%20solidiare&limit=3", headers=bearer("cip")
    )
    assert response.status_code == 200
    hits = response.get_json()
    assert hits
    assert set(hits[0]) == {"id", "name", "town", "score"}
    assert hits[0]["name"] == "Habitat Rhône Solidaire (démo)"
    assert len(hits) <= 3
    assert client.get("/api/v1/partners/search?q=", headers=bearer("cip")).status_code == 422
    assert (
        client.get("/api/v1/partners/search?q=cpam&territory=paris", headers=bearer("cip")).status_code == 404
    )
    assert (
        client.get("/api/v1/partners/search?q=cpam&territory=paris", headers=bearer("admin")).status_code
        == 200
    )
    opportunities = client.get("/api/v1/opportunities/search?q=logement", headers=bearer("cip")).get_json()
    assert opportunities
    assert {hit["status"] for hit in opportunities} == {"published"}


def test_opportunity_lifecycle_through_the_api(
    client: FlaskClient, session: Session, cp: dict[str, str], bearer, landlord_id: int
) -> None:
    created = client.post(
        "/api/v1/opportunities",
        json={
            "partner_id": landlord_id,
            "title": "Logement accompagné",
            "domain": "logement",
            "capacity": 2,
            "criteria": [
                {"field": "housing_status", "op": "in", "value": ["chu", "chrs"], "hard": True, "weight": 1}
            ],
        },
        headers=cp,
    )
    assert created.status_code == 201, created.get_json()
    opportunity = created.get_json()
    assert (opportunity["status"], opportunity["version"]) == ("draft", 1)
    opportunity_id = opportunity["id"]

    refused = client.post(f"/api/v1/opportunities/{opportunity_id}/pause", headers=cp)
    assert refused.status_code == 409
    assert "ne peut pas être suspendue" in refused.get_json()["detail"]

    published = client.post(
        f"/api/v1/opportunities/{opportunity_id}/publish", json={"version": 1}, headers=cp
    )
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "published"
    assert opportunity_id in {
        item["id"] for item in client.get("/api/v1/opportunities", headers=bearer("cip")).get_json()
    }

    edited = client.patch(
        f"/api/v1/opportunities/{opportunity_id}", json={"version": 2, "capacity": 5}, headers=cp
    )
    assert edited.status_code == 200
    assert (edited.get_json()["capacity"], edited.get_json()["version"]) == (5, 3)
    stale = client.patch(
        f"/api/v1/opportunities/{opportunity_id}", json={"version": 2, "capacity": 9}, headers=cp
    )
    assert stale.status_code == 409
    assert stale.get_json()["current_version"] == 3
    assert stale.get_json()["errors"]["version"]
    history = client.get(
        f"/api/v1/opportunities/{opportunity_id}/history", headers=bearer("coordinator")
    ).get_json()
    assert [(line["action"], line["changed"], line["before"]["capacity"]) for line in history] == [
        ("edit", ["nombre de places"], 2)
    ]
    session.expire_all()
    assert session.get(Opportunity, opportunity_id).capacity == 5

    assert (
        client.post(
            f"/api/v1/opportunities/{opportunity_id}/publish", headers=bearer("coordinator")
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/opportunities/{opportunity_id}/close", headers=bearer("cp_sante")).status_code
        == 403
    )
    assert client.post(f"/api/v1/opportunities/{opportunity_id}/close", headers=cp).status_code == 200


def test_bad_opportunity_input_leaves_nothing(
    client: FlaskClient, session: Session, cp: dict[str, str], landlord_id: int
) -> None:
    before = session.scalar(select(func.count(Opportunity.id)))
    response = client.post(
        "/api/v1/opportunities",
        json={
            "partner_id": landlord_id,
            "title": "Mauvais critères",
            "domain": "logement",
            "criteria": [
                {"field": "pointure", "op": "gte", "value": 42},
                {"field": "age", "op": "gte", "value": "vingt"},
            ],
            "valid_from": "2026-06-01",
            "valid_until": "2026-01-01",
        },
        headers=cp,
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "criteria.0.field" in errors
    response = client.post(
        "/api/v1/opportunities",
        json={
            "partner_id": landlord_id,
            "title": "Mauvais critères",
            "domain": "logement",
            "criteria": [{"field": "age", "op": "gte", "value": "vingt"}],
            "valid_from": "2026-06-01",
            "valid_until": "2026-01-01",
        },
        headers=cp,
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["criteria.0"] == ["« Âge » attend un nombre."]
    assert errors["valid_until"] == ["La fin de validité ne peut pas précéder son début."]
    assert session.scalar(select(func.count(Opportunity.id))) == before
    assert session.scalar(select(func.count(OpportunityRevision.id))) == 0


def test_meetings_and_agenda(client: FlaskClient, cp: dict[str, str], bearer, landlord_id: int) -> None:
    opportunity = client.post(
        "/api/v1/opportunities",
        json={"partner_id": landlord_id, "title": "Studio en bail glissant", "domain": "logement"},
        headers=cp,
    ).get_json()
    client.post(f"/api/v1/opportunities/{opportunity['id']}/publish", headers=cp)
    held_at = (datetime.now() + timedelta(days=5)).replace(microsecond=0).isoformat()
    created = client.post(
        "/api/v1/territories/lyon/meetings", json={"held_at": held_at, "title": "Réunion de juin"}, headers=cp
    )
    assert created.status_code == 201, created.get_json()
    meeting = created.get_json()
    assert meeting["held_at"].endswith(("+00:00", "Z"))
    agenda = client.get(f"/api/v1/meetings/{meeting['id']}/agenda", headers=bearer("cip")).get_json()
    assert "Nouvelle opportunité : Studio en bail glissant" in [item["title"] for item in agenda["items"]]
    assert agenda["until"].startswith(meeting["held_at"][:10])

    added = client.post(
        f"/api/v1/meetings/{meeting['id']}/agenda/items", json={"title": "Questions diverses"}, headers=cp
    )
    assert added.status_code == 201
    assert added.get_json()["source"] == "added"
    minutes = client.patch(f"/api/v1/meetings/{meeting['id']}", json={"minutes": "Compte rendu."}, headers=cp)
    assert minutes.get_json()["minutes"] == "Compte rendu."
    assert [
        item["id"]
        for item in client.get("/api/v1/territories/lyon/meetings", headers=bearer("coordinator")).get_json()
    ] == [meeting["id"]]
    assert client.get("/api/v1/territories/paris/meetings", headers=cp).status_code == 404
    assert (
        client.post(
            "/api/v1/territories/lyon/meetings", json={"held_at": "demain", "title": "X"}, headers=cp
        ).status_code
        == 422
    )


def test_office_hours_through_the_api(client: FlaskClient, session: Session, bearer) -> None:
    from tests import factories

    cp, cip = bearer("cp_logement"), bearer("cip")
    start = (datetime.now() + timedelta(days=3)).replace(microsecond=0, second=0)
    created = client.post(
        "/api/v1/office-hours",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "place": "Bureau 2",
        },
        headers=cp,
    )
    assert created.status_code == 201, created.get_json()
    slot = created.get_json()
    person = factories.participant(session, first_name="Rosa", last_name="Parquet")
    session.commit()
    booked = client.post(
        f"/api/v1/office-hours/{slot['id']}/booking",
        json={"participant_id": person.id, "topic": "Logement"},
        headers=cip,
    )
    assert booked.status_code == 200, booked.get_json()
    assert booked.get_json()["participant_label"] == "Rosa Parquet"
    seen_by_cp = client.get("/api/v1/territories/lyon/office-hours", headers=cp).get_json()
    mine = next(item for item in seen_by_cp if item["id"] == slot["id"])
    assert mine["participant_named"] is False
    assert "Parquet" not in str(seen_by_cp)
    again = client.post(
        f"/api/v1/office-hours/{slot['id']}/booking", json={"participant_id": person.id}, headers=cip
    )
    assert again.status_code == 409
    assert (
        client.post(
            "/api/v1/workshops",
            json={"held_on": clock.today().isoformat(), "theme": "Budget", "audience": "salaries"},
            headers=cp,
        ).status_code
        == 201
    )


def test_the_openapi_document_describes_the_network_endpoints(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    for path in (
        "/api/v1/partners/search",
        "/api/v1/opportunities/search",
        "/api/v1/opportunities/{opportunity_id}/publish",
        "/api/v1/opportunities/{opportunity_id}/pause",
        "/api/v1/opportunities/{opportunity_id}/close",
        "/api/v1/opportunities/{opportunity_id}/history",
        "/api/v1/territories/{slug}/meetings",
        "/api/v1/meetings/{meeting_id}/agenda",
        "/api/v1/territories/{slug}/office-hours",
        "/api/v1/territories/{slug}/workshops",
    ):
        assert path in document["paths"], path
    assert {"post", "get"} <= set(document["paths"]["/api/v1/partners"])
    assert "patch" in document["paths"]["/api/v1/opportunities/{opportunity_id}"]
    opportunity = document["components"]["schemas"]["Opportunity"]["properties"]
    for name in ("partner_id", "title", "domain", "subtypes", "capacity", "criteria", "status", "version"):
        assert name in opportunity, name


def test_opportunities_of_one_territory_for_the_national_team(client: FlaskClient, bearer) -> None:
    lyon = client.get("/api/v1/opportunities?territory=lyon", headers=bearer("admin")).get_json()
    everything = client.get("/api/v1/opportunities", headers=bearer("admin")).get_json()
    assert 0 < len(lyon) < len(everything)
    assert client.get("/api/v1/opportunities?territory=atlantide", headers=bearer("admin")).status_code == 422
