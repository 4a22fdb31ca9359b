"""Partners and opportunities: what the API reads and writes (DESIGN §9 — add fields, never rename)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from marshmallow import fields, validate

from referral.matching.registry import FIELD_CODES, OPERATOR_CODES
from referral.partners.models import DeploymentStatus, OpportunityStatus
from referral.partners.opportunities import OpportunityLine
from referral.web.limits import ID_MAX
from referral.web.paging import PageQuerySchema
from referral.web.schemas.base import BaseSchema, Id, enum_of, length, number_range, one_of

STATUSES = ("draft", "published", "paused", "closed")
CATEGORIES = ("situation", "resources", "health")


class PartnerQuerySchema(PageQuerySchema):
    territory = fields.String(validate=length(maximum=60))


class PartnerContactSchema(BaseSchema):
    name = fields.String()
    role = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class PartnerTerritorySchema(BaseSchema):
    """A territory's deployment: its status, and what its CPs keep there (local contacts, notes)."""

    territory_id = Id()
    status = fields.Function(lambda link: link.status.value, metadata=enum_of(DeploymentStatus))
    contacts = fields.List(fields.Nested(PartnerContactSchema), attribute="local_contacts")
    notes = fields.String(attribute="local_notes", allow_none=True)


class PartnerSchema(BaseSchema):
    id = Id()
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
    description = fields.String(allow_none=True)
    contacts = fields.List(fields.Nested(PartnerContactSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PartnerContactInSchema(BaseSchema):
    name = fields.String(required=True, validate=length(minimum=1, maximum=160))
    role = fields.String(load_default=None, allow_none=True, validate=length(maximum=160))
    email = fields.String(
        load_default=None,
        allow_none=True,
        validate=[length(maximum=254), validate.Email(error="Adresse e-mail invalide.")],
    )
    phone = fields.String(load_default=None, allow_none=True, validate=length(maximum=40))


class DeploymentInSchema(BaseSchema):
    """A territory's deployment of a partner: only what is sent changes."""

    status = fields.String(validate=one_of(("deployed", "in_discussion")))
    contacts = fields.List(fields.Nested(PartnerContactInSchema), validate=validate.Length(max=20))
    notes = fields.String(allow_none=True, validate=length(maximum=5000))


class PartnerTerritoryInSchema(BaseSchema):
    slug = fields.String(required=True, validate=length(minimum=1, maximum=60))
    status = fields.String(load_default="deployed", validate=one_of(("deployed", "in_discussion")))


class PartnerInSchema(BaseSchema):
    """A new partner. `territories` defaults to the CP's own territory."""

    name = fields.String(required=True, validate=length(minimum=1, maximum=200))
    kind = fields.String(required=True, validate=length(minimum=1, maximum=60))
    siret = fields.String(
        load_default=None,
        allow_none=True,
        validate=length(maximum=20),
        metadata={"description": "14 chiffres"},
    )
    address = fields.String(load_default=None, allow_none=True, validate=length(maximum=255))
    postcode = fields.String(load_default=None, allow_none=True, validate=length(maximum=10))
    town = fields.String(load_default=None, allow_none=True, validate=length(maximum=120))
    national_network = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))
    convention_signed_on = fields.Date(load_default=None, allow_none=True)
    convention_ends_on = fields.Date(load_default=None, allow_none=True)
    tags = fields.List(fields.String(validate=length(maximum=80)), load_default=list)
    description = fields.String(load_default=None, allow_none=True, validate=length(maximum=10_000))
    contacts = fields.List(fields.Nested(PartnerContactInSchema), load_default=list)
    territories = fields.List(fields.Nested(PartnerTerritoryInSchema))
    confirm_new = fields.Boolean(
        load_default=False,
        metadata={"description": "true : créer malgré un doublon probable (nom proche dans la même commune)"},
    )


class PartnerPatchSchema(BaseSchema):
    """Only the fields given change."""

    name = fields.String(validate=length(minimum=1, maximum=200))
    kind = fields.String(validate=length(minimum=1, maximum=60))
    siret = fields.String(allow_none=True, validate=length(maximum=20))
    address = fields.String(allow_none=True, validate=length(maximum=255))
    postcode = fields.String(allow_none=True, validate=length(maximum=10))
    town = fields.String(allow_none=True, validate=length(maximum=120))
    national_network = fields.String(allow_none=True, validate=length(maximum=60))
    convention_signed_on = fields.Date(allow_none=True)
    convention_ends_on = fields.Date(allow_none=True)
    tags = fields.List(fields.String(validate=length(maximum=80)))
    description = fields.String(allow_none=True, validate=length(maximum=10_000))
    contacts = fields.List(fields.Nested(PartnerContactInSchema))
    territories = fields.List(fields.Nested(PartnerTerritoryInSchema))


class DuplicateCandidateSchema(BaseSchema):
    id = Id()
    name = fields.String()
    town = fields.String(allow_none=True)
    reason = fields.String()


class OpportunityQuerySchema(PageQuerySchema):
    territory = fields.String(validate=length(maximum=60))
    status = fields.String(validate=one_of(STATUSES))
    domain = fields.String(validate=length(maximum=40))
    partner_id = Id(strict=False)  # a query argument arrives as text


class CriterionSchema(BaseSchema):
    field = fields.String()
    op = fields.String()
    value = fields.Raw()
    hard = fields.Boolean()
    weight = fields.Float()


class OpportunitySchema(BaseSchema):
    id = Id()
    partner_id = Id()
    partner_name = fields.Function(lambda opportunity: opportunity.partner.name)
    territory_id = Id(allow_none=True)
    title = fields.String()
    domain = fields.String(attribute="domain_code")
    subtypes = fields.Function(lambda opportunity: [subtype.code for subtype in opportunity.subtypes])
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
    status = fields.Function(
        lambda opportunity: opportunity.status.value, metadata=enum_of(OpportunityStatus)
    )
    places_taken = fields.Integer()
    version = fields.Integer(metadata={"description": "à renvoyer avec une modification (verrou optimiste)"})
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _strings(values: list[str] | None) -> list[str] | None:
    return None if values is None else [str(value) for value in values]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def opportunity_lines_json(lines: Iterable[OpportunityLine]) -> list[dict[str, Any]]:
    """A page of opportunities as `OpportunitySchema` dumps them, written out field by field:
    marshmallow took as long as the rest of the request for a page of 50 (issue 20). A test
    holds the two to the same output."""
    return [
        {
            "id": line.id,
            "partner_id": line.partner_id,
            "partner_name": line.partner_name,
            "territory_id": line.territory_id,
            "title": line.title,
            "domain": line.domain_code,
            "subtypes": list(line.subtypes),
            "description": line.description,
            "capacity": line.capacity,
            "places_left": line.places_left,
            "answer_delay_days": line.answer_delay_days,
            "requires_cp_validation": line.requires_cp_validation,
            "valid_from": _iso(line.valid_from),
            "valid_until": _iso(line.valid_until),
            "criteria": [
                {
                    "field": criterion.field,
                    "op": criterion.op,
                    "value": criterion.value,
                    "hard": criterion.hard,
                    "weight": None if criterion.weight is None else float(criterion.weight),
                }
                for criterion in line.criteria
            ],
            "procedure": line.procedure,
            "documents_required": _strings(line.documents_required),
            "shared_categories": _strings(line.shared_categories),
            "tags": _strings(line.tags),
            "status": line.status.value,
            "places_taken": line.places_taken,
            "version": line.version,
            "published_at": _iso(line.published_at),
            "created_at": _iso(line.created_at),
            "updated_at": _iso(line.updated_at),
        }
        for line in lines
    ]


class CriterionInSchema(BaseSchema):
    field = fields.String(required=True, validate=one_of(FIELD_CODES))
    op = fields.String(required=True, validate=one_of(OPERATOR_CODES))
    value = fields.Raw(required=True, allow_none=False)
    hard = fields.Boolean(load_default=True)
    weight = fields.Float(load_default=1.0, validate=number_range(minimum=0, maximum=10))


class OpportunityInSchema(BaseSchema):
    """A new opportunity, created as a draft (« brouillon »)."""

    partner_id = Id(required=True)
    title = fields.String(required=True, validate=length(minimum=1, maximum=200))
    domain = fields.String(required=True, validate=length(minimum=1, maximum=40))
    subtypes = fields.List(fields.String(validate=length(maximum=80)), load_default=list)
    description = fields.String(load_default=None, allow_none=True, validate=length(maximum=10_000))
    capacity = fields.Integer(load_default=1, strict=True, validate=number_range(minimum=0, maximum=100_000))
    answer_delay_days = fields.Integer(
        load_default=30, strict=True, validate=number_range(minimum=1, maximum=365)
    )
    requires_cp_validation = fields.Boolean(load_default=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    criteria = fields.List(fields.Nested(CriterionInSchema), load_default=list)
    procedure = fields.String(load_default=None, allow_none=True, validate=length(maximum=10_000))
    documents_required = fields.List(fields.String(validate=length(maximum=200)), load_default=list)
    shared_categories = fields.List(fields.String(validate=one_of(CATEGORIES)), load_default=list)
    tags = fields.List(fields.String(validate=length(maximum=80)), load_default=list)


class OpportunityPatchSchema(BaseSchema):
    """Only the fields given change; `version` is the one the client read (409 if it moved)."""

    version = fields.Integer(
        required=True,
        strict=True,
        validate=number_range(minimum=0, maximum=ID_MAX),
        metadata={"description": "la version lue ; 409 si l'opportunité a changé"},
    )
    title = fields.String(validate=length(minimum=1, maximum=200))
    domain = fields.String(validate=length(minimum=1, maximum=40))
    subtypes = fields.List(fields.String(validate=length(maximum=80)))
    description = fields.String(allow_none=True, validate=length(maximum=10_000))
    capacity = fields.Integer(strict=True, validate=number_range(minimum=0, maximum=100_000))
    answer_delay_days = fields.Integer(strict=True, validate=number_range(minimum=1, maximum=365))
    requires_cp_validation = fields.Boolean()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionInSchema))
    procedure = fields.String(allow_none=True, validate=length(maximum=10_000))
    documents_required = fields.List(fields.String(validate=length(maximum=200)))
    shared_categories = fields.List(fields.String(validate=one_of(CATEGORIES)))
    tags = fields.List(fields.String(validate=length(maximum=80)))


class OpportunityTransitionSchema(BaseSchema):
    version = fields.Integer(
        strict=True,
        validate=number_range(minimum=0, maximum=ID_MAX),
        metadata={"description": "facultatif : la version lue ; 409 si elle a changé depuis"},
    )


class OpportunityRevisionSchema(BaseSchema):
    version = fields.Integer()
    revised_at = fields.DateTime()
    revised_by = fields.String(allow_none=True)
    action = fields.String()
    action_label = fields.String()
    changed = fields.List(fields.String(), attribute="changed_labels")
    before = fields.Dict()


class SearchQuerySchema(BaseSchema):
    q = fields.String(required=True, validate=length(minimum=1, maximum=200))
    territory = fields.String(validate=length(maximum=60))
    limit = fields.Integer(load_default=10, validate=number_range(minimum=1, maximum=50))


class PartnerHitSchema(BaseSchema):
    id = Id()
    name = fields.String()
    town = fields.String(allow_none=True)
    score = fields.Float()


class OpportunityHitSchema(BaseSchema):
    id = Id()
    title = fields.String()
    partner_id = Id()
    partner_name = fields.String()
    town = fields.String(allow_none=True)
    domain = fields.String()
    status = fields.String()
    score = fields.Float()
