"""Territories and structures."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from referral.web.paging import PageQuerySchema
from referral.web.schemas.base import BaseSchema, Id, length


class TerritorySchema(BaseSchema):
    id = Id()
    slug = fields.String()
    name = fields.String()
    region = fields.String()
    departments = fields.List(fields.String())
    convergence_since = fields.Integer(allow_none=True)


class StructureQuerySchema(PageQuerySchema):
    territory = fields.String(validate=length(maximum=60))


class StructureSchema(BaseSchema):
    id = Id()
    name = fields.String()
    full_name = fields.String(allow_none=True)
    town = fields.String()
    region = fields.String()
    territory_id = Id(allow_none=True)
    programmes = fields.Method("_programmes")

    def _programmes(self, structure: Any) -> list[str]:
        return [programme.value for programme in structure.programmes]


class ApiIndexSchema(BaseSchema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    openapi = fields.String(required=True)
