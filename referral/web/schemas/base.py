"""marshmallow at the boundary: the base schema every input and output schema derives from.

The base schema refuses unknown fields, trims strings, refuses text no database can store
(control characters, unpaired surrogates: `referral.web.limits`), and speaks French: every
message a client or a person can see comes out in French. Ids are `Id` fields, bounded by the
database's integer range. Output schemas list their fields explicitly, so nothing
leaks by default (a new column is not published until someone adds it here).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from referral.web.limits import ID_MAX, ID_MIN, text_problem, trim

# French wording of marshmallow's built-in messages, by field class and message key.
FRENCH_MESSAGES: dict[str, str] = {
    "required": "Champ obligatoire.",
    "null": "Ce champ ne peut pas être vide (null).",
    "validator_failed": "Valeur invalide.",
    "invalid_utf8": "Texte invalide (UTF-8 attendu).",
    "too_large": "Nombre trop grand.",
    "special": "Valeur numérique spéciale (NaN, infini) non acceptée.",
    "format": "« {input} » ne peut pas être converti.",
    "invalid_awareness": "Date et heure invalides (fuseau horaire).",
    "type": "Type invalide.",
}
FRENCH_INVALID: dict[type[fields.Field], str] = {
    fields.Email: "Adresse e-mail invalide.",
    fields.String: "Texte attendu.",
    fields.Integer: "Nombre entier attendu.",
    fields.Number: "Nombre attendu.",
    fields.Boolean: "Booléen attendu (true ou false).",
    fields.DateTime: "Date et heure invalides (format ISO 8601 attendu).",
    fields.Date: "Date invalide (format AAAA-MM-JJ attendu).",
    fields.List: "Liste attendue.",
    fields.Dict: "Objet JSON attendu.",
}


def _french_invalid(field: fields.Field) -> str | None:
    for cls in type(field).__mro__:
        if cls in FRENCH_INVALID:
            return FRENCH_INVALID[cls]
    return None


def length(*, minimum: int | None = None, maximum: int | None = None) -> validate.Length:
    if minimum and maximum:
        message = f"Entre {minimum} et {maximum} caractères."
    elif maximum:
        message = f"Au plus {maximum} caractères."
    else:
        message = f"Au moins {minimum} caractères."
    return validate.Length(min=minimum, max=maximum, error=message)


def one_of(choices: list[str] | tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="Valeur inconnue : « {input} ». Valeurs possibles : {choices}.")


def _number(value: float) -> str:
    # Whole numbers written out in full (2147483647, not 2.14748e+09).
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def number_range(*, minimum: float | None = None, maximum: float | None = None) -> validate.Range:
    if minimum is not None and maximum is not None:
        message = f"Entre {_number(minimum)} et {_number(maximum)}."
    elif minimum is not None:
        message = f"Au moins {_number(minimum)}."
    else:
        message = f"Au plus {_number(maximum)}."  # type: ignore[arg-type]
    return validate.Range(min=minimum, max=maximum, error=message)


class Id(fields.Integer):
    """A database id, in a body or a query: an integer from 1 to 2³¹−1 (the database's range).

    Beyond it the database itself fails (SQLite from 2⁶³, PostgreSQL from 2³¹): refused here
    with a French message instead.
    """

    def __init__(self, **kwargs: Any) -> None:
        extra = kwargs.pop("validate", None) or []
        bounds = validate.Range(
            min=ID_MIN, max=ID_MAX, error=f"Identifiant invalide : nombre entier de {ID_MIN} à {ID_MAX}."
        )
        kwargs.setdefault("strict", True)
        super().__init__(validate=[bounds, *(extra if isinstance(extra, list) else [extra])], **kwargs)


# OpenAPI metadata of an id computed by a function field (an `Id` field says it by itself).
ID_METADATA = {"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX}


def enum_of(enum_class: type[enum.Enum], *, nullable: bool = False) -> dict[str, Any]:
    """OpenAPI metadata of a coded output field (``fields.Function(…, metadata=enum_of(X))``):
    its type and its values, so clients and the fuzzing know the codes it may hold."""
    values: list[str | None] = [member.value for member in enum_class]
    if nullable:
        values.append(None)
    return {"type": "string", "enum": values, **({"nullable": True} if nullable else {})}


# A text field that may hold more than this many characters is free text (a comment, notes):
# tabs and line breaks are welcome there, not in a name, a code or a title.
FREE_TEXT_MIN_LENGTH = 256
INVISIBLE_ONLY = "Ce texte ne contient que des caractères invisibles."


def _is_free_text(field: fields.Field | None) -> bool:
    if not isinstance(field, fields.String):
        return True  # raw JSON values (criteria, dicts): only what no database stores is refused
    if isinstance(field, fields.Email):
        return False
    maxima = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max is not None]
    return bool(maxima) and max(maxima) >= FREE_TEXT_MIN_LENGTH


def _first_text_problem(value: Any, field: fields.Field | None) -> str | None:
    """The first reason a value inside `value` cannot be stored (nested schemas check their own)."""
    if isinstance(value, str):
        return text_problem(value, multiline=_is_free_text(field))
    if isinstance(value, float) and not math.isfinite(value):
        # Python's JSON parser reads NaN and Infinity; no JSON column can store them.
        return FRENCH_MESSAGES["special"]
    if isinstance(field, fields.Nested):
        return None
    if isinstance(value, list):
        inner = field.inner if isinstance(field, fields.List) else None
        if isinstance(inner, fields.Nested):
            return None
        for item in value:
            problem = _first_text_problem(item, inner)
            if problem:
                return problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _first_text_problem(key, None) or _first_text_problem(item, None)
            if problem:
                return problem
    return None


class BaseSchema(Schema):
    """Unknown fields refused, strings trimmed, messages in French."""

    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": "Champ inconnu.", "type": "Objet JSON attendu."}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        for key in list(field_obj.error_messages):
            if key == "invalid":
                french = _french_invalid(field_obj)
                if french:
                    field_obj.error_messages[key] = french
            elif key in FRENCH_MESSAGES:
                field_obj.error_messages[key] = FRENCH_MESSAGES[key]

    # Never trimmed: a password is exactly what was typed.
    untrimmed_fields: frozenset[str] = frozenset({"password"})
    # Left to the view that uses them (the login form's `next`, judged by `_safe_next`).
    unchecked_fields: frozenset[str] = frozenset()

    @pre_load
    def _strip_strings(self, data: Any, **_kwargs: Any) -> Any:
        """Trim strings (invisible characters included) and refuse text no database stores.

        Query arguments arrive as webargs' multi-dict: checked, not rebuilt (that would lose
        repeated arguments).
        """
        if not isinstance(data, Mapping):
            return data
        by_key = {field.data_key or name: field for name, field in self.load_fields.items()}
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        for key, value in data.items():
            field = by_key.get(key)
            if field is not None and key not in self.unchecked_fields:
                problem = _first_text_problem(value, field)
                if problem:
                    errors[key] = [problem]
                    continue
            if isinstance(value, str) and key not in self.untrimmed_fields:
                trimmed = trim(value)
                if not trimmed and value.strip() and field is not None:
                    errors[key] = [INVISIBLE_ONLY]  # e.g. a name of zero-width spaces
                    continue
                value = trimmed
            cleaned[key] = value
        if errors:
            raise ValidationError(errors)
        return cleaned if isinstance(data, dict) else data


def patch_schema(schema_class: type[Schema], name: str) -> type[Schema]:
    """The same fields, none required and none defaulted: for PATCH, only what is sent changes."""
    import copy

    from marshmallow.utils import missing

    declared: dict[str, Any] = {}
    for field_name, field in schema_class._declared_fields.items():
        clone = copy.deepcopy(field)
        clone.required = False
        clone.load_default = missing
        declared[field_name] = clone
    return type(name, (schema_class,), declared)
