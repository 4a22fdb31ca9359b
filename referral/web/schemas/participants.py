"""Case records."""

from __future__ import annotations

from marshmallow import fields

from referral.web.schemas.base import BaseSchema


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
