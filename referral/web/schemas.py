"""marshmallow at the boundary: the base schema and the API's input and output schemas.

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


# --- Tokens ----------------------------------------------------------------------------------


class TokenRequestSchema(BaseSchema):
    email = fields.String(required=True, validate=length(maximum=254))
    password = fields.String(required=True, validate=length(maximum=1024))
    name = fields.String(load_default="", validate=length(maximum=120))


class TokenSchema(BaseSchema):
    token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()


# --- Reference data --------------------------------------------------------------------------


class TerritorySchema(BaseSchema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    region = fields.String()
    departments = fields.List(fields.String())
    convergence_since = fields.Integer(allow_none=True)


class StructureQuerySchema(BaseSchema):
    territory = fields.String(validate=length(maximum=60))


class StructureSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    full_name = fields.String(allow_none=True)
    town = fields.String()
    region = fields.String()
    territory_id = fields.Integer(allow_none=True)
    programmes = fields.Method("_programmes")

    def _programmes(self, structure: Any) -> list[str]:
        return [programme.value for programme in structure.programmes]


# --- Partners and opportunities --------------------------------------------------------------


class PartnerQuerySchema(BaseSchema):
    territory = fields.String(validate=length(maximum=60))


class PartnerTerritorySchema(BaseSchema):
    territory_id = fields.Integer()
    status = fields.Function(lambda link: link.status.value)


class PartnerSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    siret = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    town = fields.String(allow_none=True)
    national_network = fields.String(attribute="national_network_code", allow_none=True)
    convention_signed_on = fields.Date(allow_none=True)
    convention_ends_on = fields.Date(allow_none=True)
    tags = fields.List(fields.String())
    territories = fields.List(fields.Nested(PartnerTerritorySchema), attribute="territory_links")


class OpportunityQuerySchema(BaseSchema):
    status = fields.String(validate=one_of(("draft", "published", "paused", "closed")))
    domain = fields.String(validate=length(maximum=40))
    partner_id = fields.Integer(strict=True)


class CriterionSchema(BaseSchema):
    field = fields.String()
    op = fields.String()
    value = fields.Raw()
    hard = fields.Boolean()
    weight = fields.Float()


class OpportunitySchema(BaseSchema):
    id = fields.Integer()
    partner_id = fields.Integer()
    partner_name = fields.Function(lambda offer: offer.partner.name)
    territory_id = fields.Integer(allow_none=True)
    title = fields.String()
    domain = fields.String(attribute="domain_code")
    subtypes = fields.Function(lambda offer: [subtype.code for subtype in offer.subtypes])
    description = fields.String(allow_none=True)
    capacity = fields.Integer()
    places_left = fields.Integer()
    answer_delay_days = fields.Integer()
    requires_cp_validation = fields.Boolean()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema))
    procedure = fields.String(allow_none=True)
    documents_required = fields.List(fields.String())
    shared_categories = fields.List(fields.String())
    tags = fields.List(fields.String())
    status = fields.Function(lambda offer: offer.status.value)


# --- Participants ----------------------------------------------------------------------------


class ParticipantSchema(BaseSchema):
    """A case record as its CIP sees it (health details are not part of it: their own table)."""

    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()
    structure_id = fields.Integer()
    programme = fields.Function(lambda person: person.programme.value)
    entered_on = fields.Date()
    housing_status = fields.String()
    health_coverage = fields.String()
    residence_status = fields.String()
    residence_permit_expires_on = fields.Date(allow_none=True)
    language_level = fields.String(allow_none=True)
    driving_licence = fields.Boolean()
    household_size = fields.Integer()
    children = fields.Integer()
    monthly_resources = fields.Integer(allow_none=True)


# --- Page forms ------------------------------------------------------------------------------


class LoginFormSchema(BaseSchema):
    class Meta:
        unknown = "exclude"  # the form also carries csrf_token

    email = fields.String(required=True, validate=length(minimum=3, maximum=254))
    password = fields.String(required=True, validate=length(minimum=1, maximum=1024))
    next = fields.String(load_default="", validate=length(maximum=500))
