"""Forms of the pages (parsed with marshmallow too)."""

from __future__ import annotations

from marshmallow import fields

from referral.web.schemas.base import BaseSchema, length


class LoginFormSchema(BaseSchema):
    class Meta:
        unknown = "exclude"  # the form also carries csrf_token

    # `next` is judged by the login view (`_safe_next`): a bad one sends home, not to an error.
    unchecked_fields = frozenset({"next"})

    email = fields.String(required=True, validate=length(minimum=3, maximum=254))
    password = fields.String(required=True, validate=length(minimum=1, maximum=1024))
    next = fields.String(load_default="", validate=length(maximum=500))
