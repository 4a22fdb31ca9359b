"""Case records."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from referral.cases.entry_situation import NO_REASON, REASON_MAX_LENGTH
from referral.cases.models import (
    ConsentRecipient,
    ContractKind,
    DataCategory,
    FollowUpKind,
    NeedStatus,
    RenewalOutcome,
    TransferState,
)
from referral.cases.services import path_of
from referral.territories.models import Programme
from referral.web.schemas.base import BaseSchema, Id, enum_of, length, number_range, one_of, patch_schema


class ParticipantSchema(BaseSchema):
    """A case record as its CIP sees it (health details are not part of it: their own table)."""

    id = Id()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()
    structure_id = Id()
    programme = fields.Function(lambda person: person.programme.value, metadata=enum_of(Programme))
    entered_on = fields.Date()
    housing_status = fields.String()
    health_coverage = fields.String()
    housing_status_at_entry = fields.String(
        metadata={"description": "Logement à l'entrée : le dossier tel que créé (corrigé avec un motif)."}
    )
    health_coverage_at_entry = fields.String(
        metadata={
            "description": "Couverture santé à l'entrée : le dossier tel que créé (corrigée avec un motif)."
        },
    )
    residence_status = fields.String()
    residence_permit_expires_on = fields.Date(allow_none=True)
    language_level = fields.String(allow_none=True)
    driving_licence = fields.Boolean()
    household_size = fields.Integer()
    children = fields.Integer()
    monthly_resources = fields.Integer(allow_none=True)
    objects_to_evaluation = fields.Boolean(
        metadata={"description": "Opposition à l'utilisation du dossier pour l'évaluation du programme."}
    )


CODE: dict[str, Any] = {"validate": length(minimum=1, maximum=60)}


class ParticipantCreateSchema(BaseSchema):
    first_name = fields.String(required=True, validate=length(minimum=1, maximum=120))
    last_name = fields.String(required=True, validate=length(minimum=1, maximum=120))
    birth_date = fields.Date(required=True)
    programme = fields.String(required=True, validate=one_of(("CVG", "PHC")))
    entered_on = fields.Date(required=True)
    housing_status = fields.String(required=True, **CODE)
    health_coverage = fields.String(required=True, **CODE)
    residence_status = fields.String(required=True, **CODE)
    residence_permit_expires_on = fields.Date(load_default=None, allow_none=True)
    language_level = fields.String(load_default=None, allow_none=True, validate=length(maximum=10))
    driving_licence = fields.Boolean(load_default=False)
    household_size = fields.Integer(load_default=1, strict=True, validate=number_range(minimum=1, maximum=30))
    children = fields.Integer(load_default=0, strict=True, validate=number_range(minimum=0, maximum=29))
    monthly_resources = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=number_range(minimum=0, maximum=100_000)
    )
    objects_to_evaluation = fields.Boolean(
        load_default=False,
        metadata={"description": "La personne s'oppose à l'utilisation de son dossier pour l'évaluation."},
    )
    confirm_new = fields.Boolean(load_default=False)


ParticipantPatchSchema = patch_schema(ParticipantCreateSchema, "ParticipantPatchSchema")


class EntryCorrectionSchema(BaseSchema):
    """A correction of the situation at entry: what was recorded wrong, and why (mandatory)."""

    housing_status_at_entry = fields.String(allow_none=True, **CODE)
    health_coverage_at_entry = fields.String(allow_none=True, **CODE)
    had_treating_doctor_first = fields.Boolean(allow_none=True)
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, error=NO_REASON), length(maximum=REASON_MAX_LENGTH)],
        metadata={"description": "Motif, inscrit au journal avec l'ancienne valeur et la nouvelle."},
    )

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        if field_name == "reason":
            field_obj.error_messages["required"] = NO_REASON  # rather than « Champ obligatoire. »


class EntrySituationSchema(BaseSchema):
    housing_status_at_entry = fields.String()
    health_coverage_at_entry = fields.String()
    had_treating_doctor_first = fields.Boolean()


class ContractInSchema(BaseSchema):
    kind = fields.String(required=True, validate=one_of(("cddi", "cddi_cvg", "cddi_phc", "cdi")))
    weekly_hours = fields.Float(required=True, validate=number_range(minimum=0.5, maximum=35))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    employer_name = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))


class ContractSchema(BaseSchema):
    id = Id()
    kind = fields.Function(lambda c: c.kind.value, metadata=enum_of(ContractKind))
    kind_label = fields.Function(lambda c: c.kind.label)
    employer_name = fields.String(allow_none=True)
    weekly_hours = fields.Float()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class NeedInSchema(BaseSchema):
    domain = fields.String(required=True, validate=length(minimum=1, maximum=40))
    subtype = fields.String(load_default=None, allow_none=True, validate=length(maximum=80))
    priority = fields.Integer(load_default=2, strict=True, validate=number_range(minimum=1, maximum=3))
    opened_on = fields.Date(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=2000))


class NeedPatchSchema(BaseSchema):
    priority = fields.Integer(strict=True, validate=number_range(minimum=1, maximum=3))
    status = fields.String(validate=one_of(("open", "in_progress", "resolved")))
    resolved_on = fields.Date(allow_none=True)


class NeedSchema(BaseSchema):
    id = Id()
    domain = fields.String(attribute="domain_code")
    subtype = fields.String(attribute="subtype_code", allow_none=True)
    priority = fields.Integer()
    status = fields.Function(lambda n: n.status.value, metadata=enum_of(NeedStatus))
    opened_on = fields.Date()
    resolved_on = fields.Date(allow_none=True)
    at_entry = fields.Boolean()
    comment = fields.String(allow_none=True)


class ConsentInSchema(BaseSchema):
    recipient = fields.String(required=True, validate=one_of(("cp", "external_referent", "partner")))
    data_category = fields.String(required=True, validate=one_of(("situation", "resources", "health")))
    partner_id = Id(load_default=None, allow_none=True)
    given_on = fields.Date(load_default=None, allow_none=True)
    expires_on = fields.Date(load_default=None, allow_none=True)


class ConsentRevokeSchema(BaseSchema):
    revoked_on = fields.Date(load_default=None, allow_none=True)


class ConsentSchema(BaseSchema):
    id = Id()
    recipient = fields.Function(lambda c: c.recipient.value, metadata=enum_of(ConsentRecipient))
    data_category = fields.Function(lambda c: c.data_category.value, metadata=enum_of(DataCategory))
    partner_id = Id(allow_none=True)
    given_on = fields.Date()
    expires_on = fields.Date(allow_none=True)
    revoked_on = fields.Date(allow_none=True)


class ReferentInSchema(BaseSchema):
    name = fields.String(required=True, validate=length(minimum=1, maximum=160))
    organisation = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))
    role = fields.String(required=True, **CODE)
    email = fields.Email(load_default=None, allow_none=True, validate=length(maximum=254))
    phone = fields.String(load_default=None, allow_none=True, validate=length(maximum=40))
    started_on = fields.Date(load_default=None, allow_none=True)


class ReferentSchema(BaseSchema):
    id = Id()
    name = fields.String()
    organisation = fields.String(allow_none=True)
    role = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    started_on = fields.Date(allow_none=True)


class NoteInSchema(BaseSchema):
    body = fields.String(required=True, validate=length(minimum=1, maximum=10_000))
    domain = fields.String(load_default=None, allow_none=True, validate=length(maximum=40))


class NoteSchema(BaseSchema):
    id = Id()
    body = fields.String()
    domain = fields.String(attribute="domain_code", allow_none=True)
    written_at = fields.DateTime()
    author_id = Id(allow_none=True)


class RenewalInSchema(BaseSchema):
    motivation = fields.String(required=True, validate=length(minimum=1, maximum=10_000))
    accompaniment_evaluation = fields.String(
        load_default=None, allow_none=True, validate=length(maximum=10_000)
    )
    mobilisation_evaluation = fields.String(
        load_default=None, allow_none=True, validate=length(maximum=10_000)
    )
    requested_on = fields.Date(load_default=None, allow_none=True)


class RenewalDecisionInSchema(BaseSchema):
    granted = fields.Boolean(required=True)
    decided_on = fields.Date(load_default=None, allow_none=True)
    decided_by = fields.String(load_default=None, allow_none=True, validate=length(maximum=200))


class RenewalSchema(BaseSchema):
    id = Id()
    requested_on = fields.Date()
    motivation = fields.String()
    accompaniment_evaluation = fields.String(allow_none=True)
    mobilisation_evaluation = fields.String(allow_none=True)
    outcome = fields.Function(lambda r: r.outcome.value, metadata=enum_of(RenewalOutcome))
    decided_on = fields.Date(allow_none=True)
    decided_by = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class ExitInSchema(BaseSchema):
    exited_on = fields.Date(required=True)
    exit_type = fields.String(required=True, **CODE)
    detail = fields.String(load_default=None, allow_none=True, validate=length(maximum=2000))
    housing_status = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))
    health_coverage = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))
    has_treating_doctor = fields.Boolean(load_default=None, allow_none=True)
    rights_opened = fields.List(fields.String(validate=length(maximum=80)), load_default=list)
    continued_accompaniment = fields.Boolean(load_default=False)


class FollowUpSchema(BaseSchema):
    id = Id()
    kind = fields.Function(lambda f: f.kind.value, metadata=enum_of(FollowUpKind))
    due_on = fields.Date()
    done_on = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)


class ExitSchema(BaseSchema):
    id = Id()
    exited_on = fields.Date()
    exit_type = fields.String()
    detail = fields.String(allow_none=True)
    housing_status = fields.String(allow_none=True)
    health_coverage = fields.String(allow_none=True)
    has_treating_doctor = fields.Boolean(allow_none=True)
    rights_opened = fields.List(fields.String())
    continued_accompaniment = fields.Boolean()
    follow_ups = fields.List(fields.Nested(FollowUpSchema))


class FollowUpInSchema(BaseSchema):
    follow_up_id = Id(required=True)
    outcome = fields.String(required=True, **CODE)
    done_on = fields.Date(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=2000))


class TransferInSchema(BaseSchema):
    """The person as the duplicate warning found them (no record id: the answer must not tell
    whether they are followed elsewhere)."""

    first_name = fields.String(required=True, validate=length(minimum=1, maximum=100))
    last_name = fields.String(required=True, validate=length(minimum=1, maximum=100))
    birth_date = fields.Date(required=True)
    consent_given_on = fields.Date(required=True)
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=2000))


class TransferRequestedSchema(BaseSchema):
    detail = fields.String(required=True)


class TransferDecisionSchema(BaseSchema):
    accept = fields.Boolean(required=True)


class TransferSchema(BaseSchema):
    id = Id()
    participant_id = Id()
    from_structure_id = Id()
    to_structure_id = Id()
    state = fields.Function(lambda t: t.state.value, metadata=enum_of(TransferState))
    to_structure_name = fields.Function(lambda t: t.to_structure.name)  # the structure that asks
    consent_given_on = fields.Date()
    requested_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class TimelineEventSchema(BaseSchema):
    on = fields.Date()
    kind = fields.String()
    title = fields.String()
    detail = fields.String()


class PathSchema(BaseSchema):
    authorised_end = fields.Date()
    hard_limit = fields.Date()
    next_decision_due = fields.Date(allow_none=True)


class ParticipantDetailSchema(ParticipantSchema):
    """The whole record as its CIP sees it (health details apart, at …/health)."""

    path = fields.Method("_path")
    contracts = fields.List(fields.Nested(ContractSchema))
    needs = fields.List(fields.Nested(NeedSchema))
    consents = fields.List(fields.Nested(ConsentSchema))
    external_referents = fields.List(fields.Nested(ReferentSchema))
    renewals = fields.List(fields.Nested(RenewalSchema))
    exit = fields.Nested(ExitSchema, allow_none=True)

    def _path(self, person: Any) -> dict[str, Any]:
        return PathSchema().dump(path_of(person))


class HealthSchema(BaseSchema):
    has_treating_doctor = fields.Boolean()
    # Set once, corrected only through …/entry-situation with a reason: never part of an update.
    had_treating_doctor_first = fields.Boolean(
        dump_only=True, metadata={"description": "Médecin traitant à l'entrée (premières informations)."}
    )
    treating_doctor = fields.String(allow_none=True, validate=length(maximum=200))
    rqth = fields.Boolean()
    rqth_expires_on = fields.Date(allow_none=True)
    css = fields.Boolean()
    css_expires_on = fields.Date(allow_none=True)
    addictions = fields.String(allow_none=True, validate=length(maximum=5000))
    psychological_follow_up = fields.Boolean()
    notes = fields.String(allow_none=True, validate=length(maximum=10_000))


HealthUpdateSchema = patch_schema(HealthSchema, "HealthUpdateSchema")


class RecordExportSchema(BaseSchema):
    """The right-of-access file (« droit d'accès »): the sections of the record, each already
    JSON-ready from the service; listed here so a new section is published on purpose."""

    about = fields.String()
    exported_at = fields.String()
    exported_by = fields.Dict()
    identity = fields.Dict()
    situation = fields.Dict()
    contracts = fields.List(fields.Dict())
    needs = fields.List(fields.Dict())
    consents = fields.List(fields.Dict())
    external_referents = fields.List(fields.Dict())
    notes = fields.List(fields.Dict())
    health = fields.Dict(allow_none=True)
    renewals = fields.List(fields.Dict())
    exit = fields.Dict(allow_none=True)
    follow_ups = fields.List(fields.Dict())
    transfers = fields.List(fields.Dict())
    referrals = fields.List(fields.Dict())
    office_hours = fields.List(fields.Dict())
    accesses = fields.List(fields.Dict())
