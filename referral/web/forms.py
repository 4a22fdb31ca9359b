"""HTML forms go through the same marshmallow schemas as the API.

A browser sends every value as text: `form_payload` turns a submitted form into what the schema
expects (numbers, booleans, absent optional fields) before loading it, so pages and API share
one set of input rules and one set of French messages.

Two readings of a blank input. For the API's schemas, an empty input is an absent value and the
schema decides if it is required. A `PageFormSchema` describes a whole form, every input of
which the page sends: a blank input is then None where the field allows it, an empty text where
the field is text or required (so the schema's length or format rule speaks), and absent
otherwise (the schema's default applies); an unticked checkbox is false and an empty list is [].
Its list fields may be typed in one input (``separator``) or in numbered rows (``rows``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from referral.exceptions import InvalidInput
from referral.web.errors import flatten_messages
from referral.web.schemas.forms import PageFormSchema

TRUE_VALUES = frozenset({"on", "true", "1", "oui", "yes"})

_ABSENT = object()


def form_payload(schema: Schema, form: MultiDict[str, str], *, whole: bool | None = None) -> dict[str, Any]:
    """The form's values as `schema` expects them (`whole`: read as a whole form, see above;
    by default when `schema` is a `PageFormSchema`)."""
    whole = isinstance(schema, PageFormSchema) if whole is None else whole
    payload: dict[str, Any] = {}
    for name, field in schema.fields.items():
        value = _read(name, field, form, whole)
        if value is not _ABSENT:
            payload[name] = value
    return payload


def _read(name: str, field: fields.Field, form: MultiDict[str, str], whole: bool) -> Any:
    if isinstance(field, fields.Boolean):
        if name in form:
            return form.get(name, "").strip().lower() in TRUE_VALUES
        return False if whole else _ABSENT  # an unticked box sends nothing
    if isinstance(field, fields.List):
        separator = field.metadata.get("separator")
        if "rows" in field.metadata:
            values: list[Any] = _rows(field, form)
        elif separator is not None:
            text = form.get(name, "")
            parts = text.splitlines() if separator == "\n" else text.split(separator)
            values = [part.strip() for part in parts if part.strip()]
        else:
            values = [_typed(field.inner, value.strip()) for value in form.getlist(name) if value.strip()]
        return values if values or whole else _ABSENT
    raw = form.get(name)
    if raw is None or not raw.strip():
        if not whole:
            return _ABSENT  # an empty input is an absent value: the schema decides if it is required
        if field.allow_none:
            return None
        if field.required or isinstance(field, fields.String):
            return ""  # the schema refuses it with its French message
        return _ABSENT
    return _typed(field, raw.strip())


def _typed(field: fields.Field, raw: str) -> Any:
    if isinstance(field, fields.Integer):
        try:
            return int(raw)
        except ValueError:
            return raw  # let the schema refuse it with its French message
    if isinstance(field, fields.Float):
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            return raw
    return raw


def _rows(field: fields.List, form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The objects typed in the rows ``<rows>-0-<name>``, ``<rows>-1-<name>``… of the form, each
    read as a whole form by the nested schema; a blank row is no object."""
    assert isinstance(field.inner, fields.Nested)
    nested = field.inner.schema
    prefix, key = field.metadata["rows"], field.metadata.get("row_key")
    rows = []
    index = 0
    while any(f"{prefix}-{index}-{name}" in form for name in nested.fields):
        row: MultiDict[str, str] = MultiDict(
            [(name, value) for name in nested.fields for value in form.getlist(f"{prefix}-{index}-{name}")]
        )
        filled = row.get(key, "").strip() if key else any(value.strip() for value in row.values())
        if filled:
            rows.append(form_payload(nested, row, whole=True))
        index += 1
    return rows


def load_form(schema: Schema, form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's values loaded by `schema`; invalid input raises `InvalidInput` (French), with
    the messages by field (``contacts.0.email`` for a row's input)."""
    try:
        return schema.load(form_payload(schema, form))
    except ValidationError as error:
        raise InvalidInput(
            "Certaines données sont invalides.", errors=flatten_messages(error.messages)
        ) from None
