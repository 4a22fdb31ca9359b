"""What the OpenAPI document says beyond the views' own schemas, so that it tells the truth
(issue 14): every error is ``application/problem+json`` (`referral.web.errors`), each operation
lists the error statuses it may answer (no catch-all ``default``), path ids are bounded like the
database's, and a body the document calls required is required.
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

from apispec import BasePlugin
from flask import current_app, request
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields

from referral.exceptions import InvalidInput
from referral.web.errors import PROBLEM_JSON
from referral.web.limits import ID_MAX, ID_MIN, BoundedIntegerConverter


class ProblemSchema(Schema):
    """An error (RFC 9457): ``errors`` maps each offending field to its French messages. Some
    refusals add members (``candidates`` of a likely duplicate)."""

    class Meta:
        unknown = INCLUDE  # documented as open: extra members are allowed

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"example": "Données invalides"})
    status = fields.Integer(required=True, metadata={"minimum": 400, "maximum": 599})
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


# What any operation may answer besides its own success: a body too deep (400) or too large
# (413), no or a bad token (401), a refusal (403), a missing or out-of-scope record (404), a
# conflict with the state or another transaction (409), invalid input (422).
COMMON_ERRORS = (400, 401, 403, 404, 409, 413, 422)
# Login attempts are throttled (429) per address and per account.
THROTTLED_PATHS = frozenset({"/api/v1/tokens"})
PROBLEM_REF = "#/components/schemas/Problem"


class ErrorResponses(BasePlugin):
    """Adds the error statuses each operation may answer, as references to the problem+json
    responses `ProblemApi` registers."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            present = {str(code) for code in responses}
            statuses = COMMON_ERRORS + ((429,) if path in THROTTLED_PATHS else ())
            for status in statuses:
                if str(status) not in present:
                    responses[str(status)] = http.HTTPStatus(status).name
            for code, response in responses.items():
                # An error a view describes itself (« 409: état, rôle ou version… ») has the
                # same body as every other error.
                if str(code).isdigit() and int(code) >= 400 and isinstance(response, dict):
                    response.setdefault("content", {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}})


def _id_parameter(_converter: Any) -> dict[str, Any]:
    return {"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX}


class ProblemApi(Api):
    """flask-smorest's Api with errors documented as they are sent: problem+json."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all: an answer the document does not list is a bug the fuzzing must see.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {
                "description": f"{status.phrase} (problem+json, messages en français)",
                "content": {PROBLEM_JSON: {"schema": ProblemSchema}},
            }
            self.spec.components.response(status.name, response, lazy=True)


def spec_kwargs(description: str) -> dict[str, Any]:
    return {"info": {"description": description}, "extra_plugins": [ErrorResponses()]}


def register(api: Api) -> None:
    api.register_converter(BoundedIntegerConverter, _id_parameter)


# --- A required body is required ----------------------------------------------------------

MISSING_BODY = "Corps JSON requis (en-tête « Content-Type: application/json »)."


def _body_required(view: Any) -> bool:
    docs: Mapping[str, Any] = getattr(view, "_apidoc", {}) or {}
    parameters = docs.get("arguments", {}).get("parameters", [])
    return any(
        p.get("in") == "json" and p.get("required", True) for p in parameters if isinstance(p, Mapping)
    )


def require_documented_body() -> None:
    """An operation whose document requires a JSON body answers 422 without one: webargs would
    read a missing body as ``{}`` and let a request with only optional fields through."""
    if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not _body_required(view):
        return
    if not request.is_json or not request.get_data(cache=True).strip():
        raise InvalidInput(MISSING_BODY, errors={"_body": [MISSING_BODY]})
