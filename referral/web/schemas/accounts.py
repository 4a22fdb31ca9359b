"""Accounts: invitations, password resets, « Mon compte », closing accounts, new territories and
structures (issue 19). The pages load the same schemas as the API."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from referral.db import utcnow
from referral.territories.models import Role
from referral.web.schemas.base import BaseSchema, Id, length, number_range, one_of

ROLES = [role.value for role in Role]
EMAIL = [length(maximum=254), validate.Email(error="Adresse e-mail invalide.")]
PASSWORD = length(minimum=1, maximum=1024)


class PageQuerySchema(BaseSchema):
    page = fields.Integer(load_default=1, validate=number_range(minimum=1, maximum=10_000))


class InvitationRequestSchema(BaseSchema):
    email = fields.String(required=True, validate=EMAIL)
    full_name = fields.String(required=True, validate=length(minimum=1, maximum=160))
    role = fields.String(required=True, validate=one_of(ROLES))
    structure_id = Id(load_default=None, allow_none=True)
    territory = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))
    domains = fields.List(fields.String(validate=length(maximum=40)), load_default=list)


class InvitationSchema(BaseSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Function(lambda invitation: invitation.role.value)
    structure_id = fields.Integer(allow_none=True)
    territory = fields.Function(
        lambda invitation: invitation.territory.slug if invitation.territory else None
    )
    domains = fields.List(fields.String())
    state = fields.Method("_state")
    created_at = fields.DateTime()
    sent_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)

    def _state(self, invitation: Any) -> str:
        return invitation.state(utcnow()).value


class InvitationCreatedSchema(InvitationSchema):
    # Only when the service sends no e-mail (no SMTP server configured): the inviter passes it on.
    link = fields.String(allow_none=True)


class LinkPasswordSchema(BaseSchema):
    """A link's token (from the e-mail) and the password its holder chooses."""

    token = fields.String(required=True, validate=length(minimum=1, maximum=200))
    password = fields.String(required=True, validate=PASSWORD)


class ResetRequestSchema(BaseSchema):
    email = fields.String(required=True, validate=length(minimum=1, maximum=254))


class PasswordChangeSchema(BaseSchema):
    untrimmed_fields = frozenset({"password", "current_password"})

    current_password = fields.String(required=True, validate=PASSWORD)
    password = fields.String(required=True, validate=PASSWORD)


class ApiTokenSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class AccountSchema(BaseSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Function(lambda user: user.role.value)
    structure_id = fields.Integer(allow_none=True)
    territory = fields.Function(lambda user: user.territory.slug if user.territory else None)
    is_active = fields.Boolean()
    last_login_at = fields.DateTime(allow_none=True)


class DeactivationSchema(BaseSchema):
    hand_to = Id(load_default=None, allow_none=True)


class HandoverSchema(BaseSchema):
    records = fields.Integer()
    tasks = fields.Integer()
    tasks_closed = fields.Integer()
    to_user_id = fields.Integer(allow_none=True)


class TerritoryCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=length(minimum=1, maximum=160))
    slug = fields.String(required=True, validate=length(minimum=1, maximum=60))
    region = fields.String(required=True, validate=length(minimum=1, maximum=120))
    departments = fields.List(
        fields.String(validate=length(maximum=3)), required=True, metadata={"separator": ","}
    )
    convergence_since = fields.Integer(
        load_default=None, allow_none=True, validate=number_range(minimum=2000, maximum=2100)
    )


class StructureCreateSchema(BaseSchema):
    territory = fields.String(required=True, validate=length(minimum=1, maximum=60))
    name = fields.String(required=True, validate=length(minimum=1, maximum=160))
    full_name = fields.String(load_default=None, allow_none=True, validate=length(maximum=255))
    town = fields.String(required=True, validate=length(minimum=1, maximum=120))
    siret = fields.String(load_default=None, allow_none=True, validate=length(maximum=20))
    programmes = fields.List(fields.String(validate=one_of(["CVG", "PHC"])), required=True)


class TwoFactorCodeSchema(BaseSchema):
    code = fields.String(required=True, validate=length(minimum=1, maximum=20))
