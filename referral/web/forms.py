"""HTML forms go through the same marshmallow schemas as the API.

A browser sends every value as text: `form_payload` turns a submitted form into what the schema
expects (numbers, booleans, absent optional fields) before loading it, so pages and API share
one set of input rules and one set of French messages.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from referral.exceptions import InvalidInput

TRUE_VALUES = frozenset({"on", "true", "1", "oui", "yes"})


def form_payload(schema: Schema, form: MultiDict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if isinstance(field, fields.Boolean):
            if name in form:
                payload[name] = form.get(name, "").strip().lower() in TRUE_VALUES
            continue
        if isinstance(field, fields.List):
            values = [value.strip() for value in form.getlist(name) if value.strip()]
            if values:
                payload[name] = values
            continue
        raw = form.get(name)
        if raw is None or not raw.strip():
            continue  # an empty input is an absent value: the schema decides if it is required
        raw = raw.strip()
        if isinstance(field, fields.Integer):
            try:
                payload[name] = int(raw)
            except ValueError:
                payload[name] = raw  # let the schema refuse it with its French message
        elif isinstance(field, fields.Float):
            try:
                payload[name] = float(raw.replace(",", "."))
            except ValueError:
                payload[name] = raw
        else:
            payload[name] = raw
    return payload


def load_form(schema: Schema, form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's values loaded by `schema`; invalid input raises `InvalidInput` (French)."""
    try:
        return schema.load(form_payload(schema, form))
    except ValidationError as error:
        messages = {
            key: value if isinstance(value, list) else [str(value)] for key, value in error.messages.items()
        }
        raise InvalidInput("Certaines données sont invalides.", errors=messages) from None
