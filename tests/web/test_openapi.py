"""The OpenAPI document is generated from the schemas, is valid, and keeps the contract's paths."""

from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import validate

CONTRACT_PATHS = [
    "/api/v1/tokens",
    "/api/v1/territories",
    "/api/v1/structures",
    "/api/v1/partners",
    "/api/v1/partners/{partner_id}",
    "/api/v1/opportunities",
    "/api/v1/opportunities/{opportunity_id}",
    "/api/v1/participants",
    "/api/v1/participants/{participant_id}",
]


def test_openapi_document_is_valid(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    for path in CONTRACT_PATHS:
        assert path in document["paths"], path
    participant = document["components"]["schemas"]["Participant"]["properties"]
    for field in (
        "first_name",
        "last_name",
        "birth_date",
        "structure_id",
        "programme",
        "entered_on",
        "housing_status",
        "health_coverage",
        "residence_status",
        "residence_permit_expires_on",
        "language_level",
        "driving_licence",
        "household_size",
        "children",
        "monthly_resources",
    ):
        assert field in participant, field
    assert "bearer" in document["components"]["securitySchemes"]
