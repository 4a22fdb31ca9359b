"""The API's JSON is written by orjson (`referral.web.json_provider`): the same documents as
Flask's standard provider wrote, key order included, only faster."""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import UTC, date, datetime

import numpy as np
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.testing import FlaskClient

from referral.web.json_provider import FastJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


SAMPLE = {
    "zèbre": "Élodie Çağlar — 5 €",
    "a": [1, 2.5, 1e-05, None, True, False, ""],
    "dates": {"day": date(2026, 12, 2), "moment": datetime(2026, 12, 2, 5, 1, tzinfo=UTC)},
    "numbers": {"decimal": decimal.Decimal("1.10"), "numpy": np.float64(0.25)},
    "by_id": {3: "trois", 1: "un"},
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "point": Point(1, "p"),
    "nested": [{"b": 1, "a": {"d": 2, "c": 3}}],
}


def _both(app: Flask, value: object) -> tuple[str, str]:
    return FastJSONProvider(app).dumps(value), DefaultJSONProvider(app).dumps(value)


def test_the_same_document_as_flask_s_provider(app: Flask) -> None:
    fast, standard = _both(app, SAMPLE)
    assert json.loads(fast) == json.loads(standard)
    # Dates keep Flask's HTTP-date spelling, decimals and UUIDs their text, dataclasses their fields.
    assert json.loads(fast)["dates"]["day"] == "Wed, 02 Dec 2026 00:00:00 GMT"


def test_keys_sorted_as_before_at_every_level(app: Flask) -> None:
    fast, standard = _both(app, {key: value for key, value in SAMPLE.items() if key != "numbers"})
    assert list(json.loads(fast)) == list(json.loads(standard)) == sorted(SAMPLE.keys() - {"numbers"})
    nested = json.loads(fast)["nested"][0]
    assert list(nested) == ["a", "b"]
    assert list(nested["a"]) == ["c", "d"]


def test_what_orjson_refuses_goes_through_the_standard_library(app: Flask) -> None:
    fast, standard = _both(app, {"big": 2**70})
    assert fast == standard


def test_the_application_answers_with_it(app: Flask, client: FlaskClient, bearer) -> None:
    assert isinstance(app.json, FastJSONProvider)
    response = client.get("/api/v1/territories", headers=bearer("cip"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_data(as_text=True)
    assert body.endswith("\n")
    assert json.loads(body) == json.loads(DefaultJSONProvider(app).dumps(response.get_json()))
