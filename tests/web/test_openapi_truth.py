"""The OpenAPI document tells the truth (issue 14, point 14), on both databases: errors are
described as the problem+json they are, coded fields list their codes, ids their bounds, the
index has its 200, the referral list the fields it returns, and a required body is required."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator

from referral.referrals.models import ReferralState
from referral.territories.models import Programme
from referral.web.limits import ID_MAX
from tests.referrals.sharing_world import submitted_health_referral

ERRORS = ("400", "401", "403", "404", "409", "413", "422")


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = document["components"][kind][name]
    return node


def test_every_error_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "errors"}
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert "default" not in responses, (method, path)  # every answer is listed, none caught all
        for status in ERRORS:
            assert status in responses, (method, path, status)
        for status, response in responses.items():
            if int(status) >= 400:
                content = resolve(document, response)["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)


def test_an_actual_error_matches_its_description(
    client: FlaskClient, document: dict[str, Any], bearer
) -> None:
    problem = document["components"]["schemas"]["Problem"]
    response = client.get("/api/v1/participants/999999", headers=bearer("cip"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    OAS30Validator(problem).validate(response.get_json())


def test_the_index_has_a_documented_200(client: FlaskClient, document: dict[str, Any]) -> None:
    answer = document["paths"]["/api/v1/"]["get"]["responses"]["200"]
    schema = resolve(document, answer["content"]["application/json"]["schema"])
    OAS30Validator(schema).validate(client.get("/api/v1/").get_json())


def test_coded_fields_are_enums_and_ids_are_bounded(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    referral = schemas["ReferralWithDossier"]["properties"]
    assert referral["state"]["enum"] == [state.value for state in ReferralState]
    assert schemas["Participant"]["properties"]["programme"]["enum"] == [p.value for p in Programme]
    assert schemas["Consent"]["properties"]["data_category"]["enum"] == ["situation", "resources", "health"]
    assert schemas["Transition"]["properties"]["from_state"]["nullable"] is True
    for name in ("id", "participant_id", "opportunity_id", "partner_id"):
        assert (referral[name]["minimum"], referral[name]["maximum"]) == (1, ID_MAX), name
    create = schemas["ReferralCreate"]["properties"]["participant_id"]
    assert (create["minimum"], create["maximum"]) == (1, ID_MAX)
    for path, _method, operation in operations(document):
        for parameter in operation.get("parameters", []) + document["paths"][path].get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}, path


def test_the_referral_list_is_described_as_it_is_returned(
    client: FlaskClient, session, document: dict[str, Any], bearer
) -> None:
    """The CIP's list carries `comment` and `shared_dossier`: the document says so, and what
    comes back validates against it (additional properties are refused by the schema)."""
    submitted_health_referral(client, session, bearer)
    answer = document["paths"]["/api/v1/referrals"]["get"]["responses"]["200"]
    schema = dict(answer["content"]["application/json"]["schema"])
    schema["components"] = document["components"]  # for the $refs
    schema["items"] = {"$ref": "#/components/schemas/ReferralWithDossier"}
    for who in ("cip", "cp_sante", "coordinator"):
        listed = client.get("/api/v1/referrals", headers=bearer(who)).get_json()
        assert listed, who
        OAS30Validator(schema).validate(listed)
    assert "shared_dossier" in client.get("/api/v1/referrals", headers=bearer("cip")).get_json()[0]


def test_a_missing_required_body_is_422(client: FlaskClient, document: dict[str, Any], bearer) -> None:
    """Every operation whose document requires a JSON body refuses a request without one, even
    when all its fields are optional (it answered 200 with an empty change before)."""
    headers = bearer("cip")
    checked = 0
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if not body or not body.get("required"):
            continue
        url = re.sub(r"\{[a-z_]+_id\}", "1", path.replace("{slug}", "lyon"))
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 422, (method, path, response.status_code)
        assert response.get_json()["errors"]["_body"], (method, path)
        checked += 1
    assert checked > 30
