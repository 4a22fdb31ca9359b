"""The forms of the partner network's pages, read by `referral.web.forms.load_form`.

Each is the API's input schema (`partners`, `meetings`) seen as a whole page form: the same
fields, rules and French messages, with what only a page has — tags typed in one input,
contacts and criteria typed in numbered rows, a criterion's value typed as text (« 18 et 25 »,
« chu, rue », « oui »), an office hour given as a start and a duration.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load

from referral.matching.registry import FIELDS, ValueKind
from referral.web.schemas.base import length, number_range, one_of
from referral.web.schemas.forms import PageFormSchema
from referral.web.schemas.meetings import (
    AgendaItemInSchema,
    BookingInSchema,
    MeetingInSchema,
    MeetingPatchSchema,
    NotesInSchema,
    WorkshopInSchema,
    WorkshopPatchSchema,
    aware,
)
from referral.web.schemas.partners import (
    CriterionInSchema,
    DeploymentInSchema,
    OpportunityInSchema,
    OpportunityPatchSchema,
    PartnerContactInSchema,
    PartnerInSchema,
    PartnerPatchSchema,
)

# --- Partners ----------------------------------------------------------------------------------


class _PartnerFormFields:
    tags = fields.List(
        fields.String(validate=length(maximum=80)), load_default=list, metadata={"separator": ","}
    )
    contacts = fields.List(
        fields.Nested(PartnerContactInSchema), load_default=list, metadata={"rows": "contact"}
    )
    # The partner's relation with the CP's own territory (the view turns it into `territories`).
    deployment_status = fields.String(
        load_default=None, allow_none=True, validate=one_of(("deployed", "in_discussion"))
    )


class PartnerFormSchema(_PartnerFormFields, PageFormSchema, PartnerInSchema):
    class Meta(PartnerInSchema.Meta):
        exclude = ("territories",)


class PartnerEditFormSchema(_PartnerFormFields, PageFormSchema, PartnerPatchSchema):
    class Meta(PartnerPatchSchema.Meta):
        exclude = ("territories",)


class DeploymentFormSchema(PageFormSchema, DeploymentInSchema):
    """A territory's deployment of a shared partner: status, local contacts in rows, notes."""

    contacts = fields.List(
        fields.Nested(PartnerContactInSchema), load_default=list, metadata={"rows": "contact"}
    )


# --- Opportunities -----------------------------------------------------------------------------


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def _number(raw: str) -> Any:
    text = raw.strip().replace(",", ".").replace(" ", "")
    try:
        number = float(text)
    except ValueError:
        return raw.strip()  # the registry refuses it with « attend un nombre »
    return int(number) if number.is_integer() else number


def criterion_value(field: str, op: str, raw: str) -> Any:
    """A criterion's value as typed in the form (« 18, 25 », « chu, rue », « oui ») → JSON."""
    spec = FIELDS.get(field)
    raw = raw.strip()
    if spec is None:
        return raw
    if spec.kind is ValueKind.BOOLEAN:
        lowered = raw.lower()
        if lowered in ("oui", "true", "vrai", "1"):
            return True
        if lowered in ("non", "false", "faux", "0"):
            return False
        return raw
    if op in ("in", "not_in", "between"):
        parts = _split(raw) if op != "between" else _split(raw.replace(" et ", ","))
        return [_number(part) for part in parts] if spec.kind is ValueKind.NUMBER else parts
    if spec.kind is ValueKind.NUMBER:
        return _number(raw)
    return raw


class CriterionRowSchema(CriterionInSchema):
    """One row of the criteria editor: the value typed as text, read for its field."""

    @pre_load
    def _typed_value(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            data = dict(
                data,
                value=criterion_value(str(data.get("field", "")), str(data.get("op", "")), data["value"]),
            )
        return data


class _OpportunityFormFields:
    tags = fields.List(
        fields.String(validate=length(maximum=80)), load_default=list, metadata={"separator": ","}
    )
    documents_required = fields.List(
        fields.String(validate=length(maximum=200)), load_default=list, metadata={"separator": "\n"}
    )
    criteria = fields.List(
        fields.Nested(CriterionRowSchema),
        load_default=list,
        metadata={"rows": "criterion", "row_key": "field"},
    )


class OpportunityFormSchema(_OpportunityFormFields, PageFormSchema, OpportunityInSchema):
    """A new opportunity of the partner whose page it comes from (the view names the partner)."""

    class Meta(OpportunityInSchema.Meta):
        exclude = ("partner_id",)


class OpportunityEditFormSchema(_OpportunityFormFields, PageFormSchema, OpportunityPatchSchema):
    pass


# --- Meeting times -----------------------------------------------------------------------------


class MeetingFormSchema(PageFormSchema, MeetingInSchema):
    pass


class AgendaItemFormSchema(PageFormSchema, AgendaItemInSchema):
    pass


class MinutesFormSchema(PageFormSchema, MeetingPatchSchema):
    class Meta(MeetingPatchSchema.Meta):
        fields = ("minutes",)


class OfficeHourFormSchema(PageFormSchema):
    """A start and a duration, rather than two times to type."""

    starts_at = aware(required=True)
    duration = fields.Integer(required=True, strict=True, validate=number_range(minimum=15, maximum=480))
    place = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))


class BookingFormSchema(PageFormSchema, BookingInSchema):
    pass


class NotesFormSchema(PageFormSchema, NotesInSchema):
    pass


class WorkshopFormSchema(PageFormSchema, WorkshopInSchema):
    pass


class WorkshopAttendanceFormSchema(PageFormSchema, WorkshopPatchSchema):
    """After the workshop: how many came, and notes."""

    class Meta(WorkshopPatchSchema.Meta):
        fields = ("attendance_count", "notes")
