"""Partners and opportunities."""

from __future__ import annotations

from marshmallow import fields

from referral.web.schemas.base import BaseSchema, length, one_of


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
