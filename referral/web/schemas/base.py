"""marshmallow at the boundary: the base schema every input and output schema derives from.

The base schema refuses unknown fields, trims strings, and speaks French: every message a client
or a person can see comes out in French. Output schemas list their fields explicitly, so nothing
leaks by default (a new column is not published until someone adds it here).
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load, validate

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


def number_range(*, minimum: float | None = None, maximum: float | None = None) -> validate.Range:
    if minimum is not None and maximum is not None:
        message = f"Entre {minimum:g} et {maximum:g}."
    elif minimum is not None:
        message = f"Au moins {minimum:g}."
    else:
        message = f"Au plus {maximum:g}."
    return validate.Range(min=minimum, max=maximum, error=message)


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

    @pre_load
    def _strip_strings(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: value.strip() if isinstance(value, str) and key not in self.untrimmed_fields else value
                for key, value in data.items()
            }
        return data


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
