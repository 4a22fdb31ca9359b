"""Bearer tokens."""

from __future__ import annotations

from marshmallow import fields

from referral.web.schemas.base import BaseSchema, length


class TokenRequestSchema(BaseSchema):
    email = fields.String(required=True, validate=length(maximum=254))
    password = fields.String(required=True, validate=length(maximum=1024))
    name = fields.String(load_default="", validate=length(maximum=120))
    # The two-factor code (TOTP or a recovery code), for an account that has two-factor on.
    otp = fields.String(load_default=None, allow_none=True, validate=length(maximum=20))


class TokenSchema(BaseSchema):
    token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()
