"""No input reaches a 500 (issue 14, found by fuzzing the API), on both databases.

Ids beyond the database's integer range, control characters and unpaired surrogates in text,
names made of invisible characters, JSON nested too deep or too large, and conflicts between
transactions each answer a French 4xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, Rule

from referral.db import is_concurrency_conflict
from referral.partners.models import Partner
from referral.web.errors import CONCURRENT_CHANGE
from referral.web.limits import (
    CONTROL_MESSAGE,
    ID_MAX,
    LINE_BREAK_MESSAGE,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    SURROGATE_MESSAGE,
    digits_at_most,
    json_too_deep,
    parse_id,
    text_problem,
    trim,
)
from referral.web.schemas.base import INVISIBLE_ONLY
from tests import factories
from tests.helpers import DEMO, csrf_token, login

Bearer = Callable[[str], dict[str, str]]
OUT_OF_RANGE = [2**31, 2**63, 10**30]
ID_MESSAGE = f"Identifiant invalide : nombre entier de 1 à {ID_MAX}."


# --- ids -------------------------------------------------------------------------------------

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<options>[^)]*)\))?:)?(?P<name>\w+)>")


def _path_with(rule: Rule, number: int) -> str:
    def replace(match: re.Match[str]) -> str:
        converter = match.group("converter")
        if converter == "int":
            return str(number)
        if converter == "any":
            return match.group("options").split(",")[0].strip().strip("'\"")
        return "lyon"

    return _ARGUMENT.sub(replace, rule.rule)


def _rules_with_ids(app: Flask) -> Iterator[tuple[str, str]]:
    for rule in app.url_map.iter_rules():
        if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values()):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule.rule


def test_every_route_with_an_id_answers_404_beyond_the_database_range(
    app: Flask, client: FlaskClient, bearer: Bearer
) -> None:
    routes = list(_rules_with_ids(app))
    assert len(routes) > 40  # the pages and the API
    api_headers = bearer("admin")
    login(client, DEMO["cip"])
    answers: dict[tuple[str, str, int], int] = {}
    for method, template in routes:
        rule = next(r for r in app.url_map.iter_rules() if r.rule == template)
        for number in OUT_OF_RANGE:
            path = _path_with(rule, number)
            headers = api_headers if path.startswith("/api/") else {}
            response = client.open(path, method=method, headers=headers, json={})
            answers[(method, template, number)] = response.status_code
    assert set(answers.values()) == {404}, {key: status for key, status in answers.items() if status != 404}


def test_the_largest_id_is_a_missing_one_not_an_error(client: FlaskClient, bearer: Bearer) -> None:
    headers = bearer("cip")
    for path in (f"/api/v1/participants/{ID_MAX}", f"/api/v1/referrals/{ID_MAX}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_an_out_of_range_page_id_is_the_french_404_page(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    response = client.get(f"/salaries/{2**63}")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [2**31, 2**63, 0, -1, "12", 1.5, True])
def test_body_ids_are_checked_by_the_schema(client: FlaskClient, bearer: Bearer, value: object) -> None:
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": value, "opportunity_id": 1},
        headers=bearer("cip"),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]["participant_id"]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/referrals", {"participant_id": 1, "opportunity_id": 2**63}, "opportunity_id"),
        (
            "/api/v1/participants/1/consents",
            {"recipient": "partner", "data_category": "situation", "partner_id": 2**63},
            "partner_id",
        ),
        ("/api/v1/me/notifications/read", {"ids": [1, 2**31]}, "ids.1"),
    ],
)
def test_out_of_range_body_ids_give_a_french_422(
    client: FlaskClient, bearer: Bearer, path: str, payload: dict, field: str
) -> None:
    response = client.post(path, json=payload, headers=bearer("cip"))
    assert response.status_code == 422
    assert response.get_json()["errors"][field] == [ID_MESSAGE]


def test_out_of_range_ids_in_a_query_give_a_french_422(client: FlaskClient, bearer: Bearer) -> None:
    response = client.get(f"/api/v1/opportunities?partner_id={2**63}", headers=bearer("cp_emploi"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["partner_id"] == [ID_MESSAGE]


def test_an_out_of_range_version_gives_a_french_422(client: FlaskClient, bearer: Bearer) -> None:
    response = client.post(
        "/api/v1/referrals/1/transitions", json={"action": "submit", "version": 2**63}, headers=bearer("cip")
    )
    assert response.status_code == 422  # the body is read before the referral is looked up
    assert response.get_json()["errors"]["version"] == [f"Entre 1 et {ID_MAX}."]


def test_a_control_character_in_a_page_form_is_refused(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    token = csrf_token(client.get("/salaries/nouveau").get_data(as_text=True))
    response = client.post(
        "/salaries/nouveau", data={"csrf_token": token, "first_name": "Ai\x00cha", "last_name": "Benali"}
    )
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.get_data(as_text=True)


def test_page_forms_with_odd_ids_do_not_fail(client: FlaskClient) -> None:
    login(client, DEMO["cp_emploi"])
    for value in (str(2**63), "9" * 5000, "²"):
        response = client.get(f"/reseau/opportunites/nouvelle?partner_id={value}")
        assert response.status_code == 302  # « choisissez d'abord le partenaire »
    cip = client.application.test_client()
    login(cip, DEMO["cip"])
    for value in ("9" * 5000, "²", "¹²"):
        assert cip.get(f"/salaries/?fin_dans={value}").status_code == 200


@pytest.mark.parametrize("maximum", [0, 7, 10, 99, 100, 205, 1000, ID_MAX])
def test_the_converter_pattern_stops_at_its_maximum(maximum: int) -> None:
    pattern = re.compile(digits_at_most(maximum))
    around = [*range(0, 1200), maximum - 1, maximum, maximum + 1, 2**31, 2**63, 10**40]
    for number in (n for n in around if n >= 0):
        assert bool(pattern.fullmatch(str(number))) == (number <= maximum), number


def test_parse_id() -> None:
    assert parse_id("1") == 1
    assert parse_id(str(ID_MAX)) == ID_MAX
    for text in ("0", str(ID_MAX + 1), "-1", "²", "1e3", " 1", "", "9" * 5000):
        with pytest.raises(ValueError, match="id"):
            parse_id(text)


# --- text ------------------------------------------------------------------------------------


def new_person(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "first_name": "Aïcha",
        "last_name": "Benali",
        "birth_date": "1990-04-02",
        "programme": "CVG",
        "entered_on": "2026-01-05",
        "housing_status": "chu",
        "health_coverage": "puma",
        "residence_status": "francaise",
        "confirm_new": True,
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ai\ud800cha", SURROGATE_MESSAGE),
        ("\udfff", SURROGATE_MESSAGE),
        ("Ai\x00cha", CONTROL_MESSAGE),
        ("Ai\x1bcha", CONTROL_MESSAGE),
        ("Ai\x85cha", CONTROL_MESSAGE),
        ("Aï\ncha", LINE_BREAK_MESSAGE),
        ("Aï\tcha", LINE_BREAK_MESSAGE),
        ("\u200b\u200b", INVISIBLE_ONLY),
        ("\ufeff\u2060\u200d", INVISIBLE_ONLY),
        ("\u3164", INVISIBLE_ONLY),
    ],
)
def test_a_name_no_database_can_store_or_nobody_can_see_is_refused(
    client: FlaskClient, bearer: Bearer, name: str, message: str
) -> None:
    response = client.post("/api/v1/participants", json=new_person(first_name=name), headers=bearer("cip"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["first_name"] == [message]


def test_a_lone_surrogate_in_raw_json_is_refused(client: FlaskClient, bearer: Bearer) -> None:
    body = json.dumps(new_person(), ensure_ascii=False).replace('"Aïcha"', '"\\ud800"')
    assert "\\ud800" in body
    response = client.post(
        "/api/v1/participants", data=body, content_type="application/json", headers=bearer("cip")
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["first_name"] == [SURROGATE_MESSAGE]


def test_invisible_characters_around_a_name_are_trimmed(
    client: FlaskClient, bearer: Bearer, session: Session
) -> None:
    response = client.post(
        "/api/v1/participants",
        json=new_person(first_name="\u200bAïcha\u00a0", last_name="\ufeffBenali-Traoré"),
        headers=bearer("cip"),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["first_name"], body["last_name"]) == ("Aïcha", "Benali-Traoré")


def test_free_text_keeps_its_line_breaks_but_not_other_controls(
    client: FlaskClient, bearer: Bearer, session: Session
) -> None:
    person = factories.participant(session, structure_id=factories.structure(session).id)
    session.commit()
    headers = bearer("cip")
    path = f"/api/v1/participants/{person.id}/notes"
    accepted = client.post(path, json={"body": "Premier rendez-vous.\n\tÀ revoir le 12."}, headers=headers)
    assert accepted.status_code == 201
    refused = client.post(path, json={"body": "Premier\x00rendez-vous"}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["body"] == [CONTROL_MESSAGE]


def test_list_items_and_nested_objects_are_checked_too(
    client: FlaskClient, bearer: Bearer, session: Session
) -> None:
    partner = session.scalar(select(Partner).where(Partner.key == "cpam-lyon"))
    headers = bearer("cp_sante")
    response = client.post(
        "/api/v1/opportunities",
        json={"partner_id": partner.id, "title": "Atelier", "domain": "sante", "tags": ["ok", "a\x00"]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["tags"] == [CONTROL_MESSAGE]
    response = client.post(
        "/api/v1/partners",
        json={"name": "Maison de santé", "kind": "sante", "contacts": [{"name": "\u200b"}]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["contacts.0.name"] == [INVISIBLE_ONLY]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_a_criterion_are_refused(
    client: FlaskClient, bearer: Bearer, session: Session, literal: str
) -> None:
    partner = session.scalar(select(Partner).where(Partner.key == "cpam-lyon"))
    criterion = f'{{"field": "age", "op": "gte", "value": {literal}}}'
    body = f'{{"partner_id": {partner.id}, "title": "Atelier", "domain": "sante", "criteria": [{criterion}]}}'
    response = client.post(
        "/api/v1/opportunities", data=body, content_type="application/json", headers=bearer("cp_sante")
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/partners?territory=ly%00on",
        "/api/v1/referrals?state=sub%00mitted",
        "/api/v1/structures?territory=%00",
        "/api/v1/partners/search?q=cp%00am",
        "/api/v1/opportunities?domain=sante%0a",
        "/api/v1/territories/lyon/network?domain=%00",
    ],
)
def test_a_control_character_in_a_filter_is_a_french_422(
    client: FlaskClient, bearer: Bearer, path: str
) -> None:
    response = client.get(path, headers=bearer("coordinator"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert any(
        CONTROL_MESSAGE in m or LINE_BREAK_MESSAGE in m
        for ms in response.get_json()["errors"].values()
        for m in ms
    )


def test_a_control_character_in_a_page_filter_or_a_path(client: FlaskClient, bearer: Bearer) -> None:
    login(client, DEMO["cip"])
    response = client.get("/salaries/?q=du%00pont")
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.get_data(as_text=True)
    assert client.get("/api/v1/territories/ly%00on/network", headers=bearer("coordinator")).status_code == 404


def test_text_rules() -> None:
    assert text_problem("Benali-Traoré Aïcha", multiline=False) is None
    assert text_problem("ligne 1\r\nligne 2\tfin", multiline=True) is None
    assert text_problem("ligne 1\nligne 2", multiline=False) == LINE_BREAK_MESSAGE
    assert text_problem("\x7f", multiline=True) == CONTROL_MESSAGE
    assert text_problem("😀 emoji", multiline=False) is None  # a surrogate *pair* is a character
    assert trim("\u200b\u00a0 Nom \u2060\ufeff") == "Nom"
    assert trim("A\u200bB") == "A\u200bB"  # inside a word: kept (joiners matter in some scripts)


# --- JSON bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/participants", "/api/v1/referrals"])
def test_json_nested_50000_levels_deep_is_a_french_400(
    client: FlaskClient, bearer: Bearer, path: str
) -> None:
    body = "[" * 50_000 + "]" * 50_000
    headers = {} if path.endswith("tokens") else bearer("cip")
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == (
        f"Le JSON envoyé est imbriqué trop profondément (au plus {MAX_JSON_DEPTH} niveaux)."
    )


def test_nesting_up_to_the_limit_is_parsed_normally(client: FlaskClient) -> None:
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    response = client.post("/api/v1/tokens", json={"email": "a@b.test", "password": "x", "name": nested})
    assert response.status_code == 422  # `name` is not text: the schema says so, in French
    assert response.get_json()["errors"]["name"] == ["Texte attendu."]


def test_brackets_inside_strings_do_not_count() -> None:
    deep_string = json.dumps({"comment": "[" * 10_000 + '\\"{' * 100})
    assert not json_too_deep(deep_string.encode())
    assert json_too_deep(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    assert not json_too_deep(("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode())
    assert not json_too_deep(b'[{"a": [1, 2]}, {"b": {}}]' * 1000)


def test_a_json_body_too_large_is_a_french_413(client: FlaskClient) -> None:
    body = json.dumps({"email": "a@b.test", "password": "x" * MAX_JSON_BYTES})
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Envoi trop volumineux"


# --- conflicts between transactions ----------------------------------------------------------


def _locked() -> OperationalError:
    import sqlite3

    return OperationalError("UPDATE referrals …", {}, sqlite3.OperationalError("database is locked"))


def _serialization_failure() -> OperationalError:
    return OperationalError(
        "UPDATE referrals …", {}, psycopg.errors.SerializationFailure("could not serialize")
    )


def test_conflicts_are_told_apart_from_faults() -> None:
    assert is_concurrency_conflict(_locked())
    assert is_concurrency_conflict(_serialization_failure())
    assert is_concurrency_conflict(
        OperationalError("…", {}, psycopg.errors.DeadlockDetected("deadlock detected"))
    )
    assert not is_concurrency_conflict(OperationalError("…", {}, psycopg.errors.UndefinedTable("no table")))


@pytest.mark.parametrize("error", [_locked, _serialization_failure])
def test_a_conflict_the_database_could_not_wait_out_is_a_french_409(
    client: FlaskClient, bearer: Bearer, monkeypatch: pytest.MonkeyPatch, error: Callable[[], Exception]
) -> None:
    from referral.web.api import referrals as referral_api

    def conflict(*_args: object, **_kwargs: object) -> None:
        raise error()

    monkeypatch.setattr(referral_api.services, "create_referral", conflict)
    response = client.post(
        "/api/v1/referrals", json={"participant_id": 1, "opportunity_id": 1}, headers=bearer("cip")
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == CONCURRENT_CHANGE
    assert response.headers["Cache-Control"] == "no-store"


def test_any_other_database_fault_stays_a_500_without_a_trace(
    client: FlaskClient, bearer: Bearer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from referral.web.api import referrals as referral_api

    def fault(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("…", {}, psycopg.errors.UndefinedTable("relation does not exist"))

    monkeypatch.setattr(referral_api.services, "create_referral", fault)
    # The logger is shared by every app of the run: silenced for this test only.
    monkeypatch.setattr(client.application.logger, "disabled", True)
    response = client.post(
        "/api/v1/referrals", json={"participant_id": 1, "opportunity_id": 1}, headers=bearer("cip")
    )
    assert response.status_code == 500
    assert "relation" not in response.get_data(as_text=True)
