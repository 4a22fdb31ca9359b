"""« À faire » and notifications."""

from __future__ import annotations

from marshmallow import fields

from referral.tasks.models import TaskKind, TaskStatus
from referral.web.schemas.base import BaseSchema, Id, enum_of


class TaskSchema(BaseSchema):
    id = Id()
    kind = fields.Function(lambda t: t.kind.value, metadata=enum_of(TaskKind))
    title = fields.String()
    due_on = fields.Date()
    status = fields.Function(lambda t: t.status.value, metadata=enum_of(TaskStatus))
    link = fields.String(allow_none=True)
    participant_id = Id(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class TaskListSchema(BaseSchema):
    overdue = fields.List(fields.Nested(TaskSchema))
    due = fields.List(fields.Nested(TaskSchema))
    done = fields.List(fields.Nested(TaskSchema))


class NotificationSchema(BaseSchema):
    id = Id()
    kind = fields.String()
    message = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class MarkReadSchema(BaseSchema):
    ids = fields.List(Id(), required=True)
