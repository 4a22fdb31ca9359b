"""The network's meeting times: mutualisation meetings, office hours, workshops."""

from __future__ import annotations

from marshmallow import fields

from referral import clock
from referral.partners.models import AgendaItemSource
from referral.territories.models import Role
from referral.web.schemas.base import BaseSchema, Id, enum_of, length, number_range, one_of

# A time given without an offset is a French social worker's local time, not UTC.
PARIS = clock.PARIS  # the one clock names the zone


def aware(**kwargs: object) -> fields.AwareDateTime:
    return fields.AwareDateTime(default_timezone=PARIS, **kwargs)  # type: ignore[arg-type]


class AttendeeSchema(BaseSchema):
    id = Id()
    full_name = fields.String()
    role = fields.Function(lambda user: user.role.value, metadata=enum_of(Role))


class MeetingSchema(BaseSchema):
    id = Id()
    territory_id = Id()
    held_at = fields.DateTime()
    title = fields.String()
    place = fields.String(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    other_attendees = fields.String(allow_none=True)
    minutes = fields.String(allow_none=True)
    agenda_built_at = fields.DateTime(allow_none=True)


class MeetingInSchema(BaseSchema):
    held_at = aware(required=True, metadata={"description": "ISO 8601 ; sans fuseau : heure de Paris"})
    title = fields.String(required=True, validate=length(minimum=1, maximum=200))
    place = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))
    attendee_ids = fields.List(Id(), load_default=list)
    other_attendees = fields.String(load_default=None, allow_none=True, validate=length(maximum=5_000))


class MeetingPatchSchema(BaseSchema):
    held_at = aware()
    title = fields.String(validate=length(minimum=1, maximum=200))
    place = fields.String(allow_none=True, validate=length(maximum=200))
    attendee_ids = fields.List(Id())
    other_attendees = fields.String(allow_none=True, validate=length(maximum=5_000))
    minutes = fields.String(allow_none=True, validate=length(maximum=50_000))


class AgendaItemInSchema(BaseSchema):
    title = fields.String(required=True, validate=length(minimum=1, maximum=255))
    body = fields.String(load_default=None, allow_none=True, validate=length(maximum=10_000))


class AgendaItemSchema(BaseSchema):
    id = Id()
    position = fields.Integer()
    source = fields.Function(lambda item: item.source.value, metadata=enum_of(AgendaItemSource))
    title = fields.String()
    body = fields.String(allow_none=True)
    subject = fields.Dict()


class AgendaSchema(BaseSchema):
    """The agenda and the period it covers: from the previous meeting to this one."""

    meeting_id = fields.Function(lambda agenda: agenda.meeting.id)
    title = fields.Function(lambda agenda: agenda.meeting.title)
    held_at = fields.Function(lambda agenda: agenda.meeting.held_at.isoformat())
    since = fields.Function(lambda agenda: agenda.period.since.isoformat())
    until = fields.Function(lambda agenda: agenda.period.until.isoformat())
    previous_meeting_id = fields.Function(
        lambda agenda: agenda.period.previous.id if agenda.period.previous else None
    )
    built_at = fields.Function(
        lambda agenda: agenda.meeting.agenda_built_at.isoformat() if agenda.meeting.agenda_built_at else None
    )
    items = fields.List(fields.Nested(AgendaItemSchema))


class OfficeHourInSchema(BaseSchema):
    starts_at = aware(required=True)
    ends_at = aware(required=True)
    place = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))


class BookingInSchema(BaseSchema):
    participant_id = Id(required=True)
    topic = fields.String(
        load_default=None,
        allow_none=True,
        validate=length(maximum=2_000),
        metadata={
            "description": "l'objet, sans nommer la personne (la ou le CP ne voit son nom qu'avec son accord)"
        },
    )


class NotesInSchema(BaseSchema):
    notes = fields.String(required=True, allow_none=True, validate=length(maximum=20_000))


class OfficeHourSchema(BaseSchema):
    """A slot; the participant appears as initials and a code unless consent lets the CP see them."""

    id = fields.Function(lambda view: view.slot.id)
    territory_id = fields.Function(lambda view: view.slot.territory_id)
    cp_id = fields.Function(lambda view: view.slot.cp_id)
    cp_name = fields.String()
    starts_at = fields.Function(lambda view: view.slot.starts_at.isoformat())
    ends_at = fields.Function(lambda view: view.slot.ends_at.isoformat())
    place = fields.Function(lambda view: view.slot.place)
    booked = fields.Function(lambda view: view.slot.booked_by_id is not None)
    booked_by_name = fields.String(allow_none=True)
    participant_label = fields.String(allow_none=True)
    participant_named = fields.Boolean()
    topic = fields.String(allow_none=True)  # None for coordinators and the national team
    notes_after = fields.String(allow_none=True)


class WorkshopInSchema(BaseSchema):
    held_on = fields.Date(required=True)
    theme = fields.String(required=True, validate=length(minimum=1, maximum=200))
    audience = fields.String(required=True, validate=one_of(("permanents", "salaries", "mixte")))
    domain = fields.String(load_default=None, allow_none=True, validate=length(maximum=40))
    attendance_count = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=number_range(minimum=0, maximum=10_000)
    )
    notes = fields.String(load_default=None, allow_none=True, validate=length(maximum=10_000))


class WorkshopPatchSchema(BaseSchema):
    held_on = fields.Date()
    theme = fields.String(validate=length(minimum=1, maximum=200))
    audience = fields.String(validate=one_of(("permanents", "salaries", "mixte")))
    domain = fields.String(allow_none=True, validate=length(maximum=40))
    attendance_count = fields.Integer(
        allow_none=True, strict=True, validate=number_range(minimum=0, maximum=10_000)
    )
    notes = fields.String(allow_none=True, validate=length(maximum=10_000))


class WorkshopSchema(BaseSchema):
    id = Id()
    territory_id = Id()
    cp_id = Id(allow_none=True)
    domain = fields.String(attribute="domain_code", allow_none=True)
    held_on = fields.Date()
    theme = fields.String()
    audience = fields.String()
    attendance_count = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
