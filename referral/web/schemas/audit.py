"""The DPO's view of the audit log: the search and the entries (no values, field names only)."""

from __future__ import annotations

from datetime import date

from marshmallow import fields, validate

from referral.audit.models import AuditAction
from referral.territories.audit_log import describe
from referral.web.schemas.base import BaseSchema, Id, enum_of, length, number_range

# The log has nothing before the service existed, and Paris midnight of year 1 is no UTC time.
PERIOD = validate.Range(
    min=date(2000, 1, 1), max=date(2999, 12, 31), error="Date entre le 01/01/2000 et le 31/12/2999."
)


class AuditQuerySchema(BaseSchema):
    """A person's record (`participant_id`) or an account (`user_id` or `user_email`), and a
    period in Paris days, both ends included."""

    participant_id = Id(strict=False)  # query arguments arrive as text
    user_id = Id(strict=False)
    user_email = fields.String(validate=length(maximum=254))
    since = fields.Date(validate=PERIOD)
    until = fields.Date(validate=PERIOD)
    page = fields.Integer(load_default=1, validate=number_range(minimum=1, maximum=100_000))


class AuditEntrySchema(BaseSchema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = Id(allow_none=True)
    actor_email = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.Function(lambda entry: entry.action.value, metadata=enum_of(AuditAction))
    action_label = fields.Function(lambda entry: entry.action.label)
    entity = fields.String()
    entity_id = fields.Integer(allow_none=True)
    participant_id = Id(allow_none=True)
    detail = fields.Function(describe)
    remote_addr = fields.String(allow_none=True)


class AuditPageSchema(BaseSchema):
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    entries = fields.List(fields.Nested(AuditEntrySchema))
