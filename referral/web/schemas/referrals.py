"""Referrals (« orientations ») and their moves."""

from __future__ import annotations

from marshmallow import fields

from referral.cases.models import DataCategory
from referral.referrals.matching_index import ReverseMatchView
from referral.referrals.models import ReferralState
from referral.territories.models import Role
from referral.web.limits import ID_MAX
from referral.web.paging import PageQuerySchema
from referral.web.schemas.base import ID_METADATA, BaseSchema, Id, enum_of, length, number_range


class ReferralCreateSchema(BaseSchema):
    participant_id = Id(required=True)
    opportunity_id = Id(required=True)
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=5000))
    need_id = Id(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Le frein ouvert auquel l'orientation répond (par défaut : celui du classement)."
        },
    )


class TransitionInSchema(BaseSchema):
    action = fields.String(required=True, validate=length(minimum=1, maximum=40))
    version = fields.Integer(required=True, strict=True, validate=number_range(minimum=1, maximum=ID_MAX))
    reason = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=5000))
    outcome = fields.String(load_default=None, allow_none=True, validate=length(maximum=60))


class DraftConsentsSchema(BaseSchema):
    """The consents recorded from a draft (« Enregistrer et soumettre »): the needed consents ticked
    (« cp:situation », « partner:resources »), the person's agreement and its date."""

    version = fields.Integer(required=True, strict=True, validate=number_range(minimum=1, maximum=ID_MAX))
    consents = fields.List(
        fields.String(validate=length(minimum=1, maximum=40)), load_default=list, validate=length(maximum=20)
    )
    agreed = fields.Boolean(load_default=False)
    given_on = fields.Date(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True, validate=length(maximum=5000))
    submit = fields.Boolean(load_default=True, metadata={"description": "Soumettre aussitôt (défaut : oui)."})


class StateSchema(BaseSchema):
    id = Id()
    state = fields.Function(lambda r: r.state.value, metadata=enum_of(ReferralState))
    version = fields.Integer()


class TransitionSchema(BaseSchema):
    action = fields.String()
    from_state = fields.Function(
        lambda t: t.from_state.value if t.from_state else None, metadata=enum_of(ReferralState, nullable=True)
    )
    to_state = fields.Function(lambda t: t.to_state.value, metadata=enum_of(ReferralState))
    actor_role = fields.Function(
        lambda t: t.actor_role.value if t.actor_role else None, metadata=enum_of(Role, nullable=True)
    )
    at = fields.DateTime()
    reason = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)


class ReferralSchema(BaseSchema):
    id = Id()
    participant_id = Id()
    opportunity_id = Id()
    opportunity_title = fields.Function(lambda r: r.opportunity.title)
    partner_id = fields.Function(lambda r: r.opportunity.partner_id, metadata=ID_METADATA)
    partner_name = fields.Function(lambda r: r.opportunity.partner.name)
    domain = fields.Function(lambda r: r.opportunity.domain_code)
    # The open need the referral answers (added by issue 15; null when none was recorded).
    need_id = fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": ID_MAX})
    state = fields.Function(lambda r: r.state.value, metadata=enum_of(ReferralState))
    state_label = fields.Function(lambda r: r.state.label)
    version = fields.Integer()
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    waiting_since = fields.DateTime(allow_none=True)
    transitions = fields.List(fields.Nested(TransitionSchema))


class WithdrawnSchema(BaseSchema):
    """A category of the dossier the person withdrew (or no consent covers any more)."""

    category = fields.Function(lambda w: w.category.value, metadata=enum_of(DataCategory))
    label = fields.Function(lambda w: w.category.label)
    withdrawn_on = fields.Date(allow_none=True)
    message = fields.String()


class ReferralWithDossierSchema(ReferralSchema):
    """For the CIP and the CPs following it: with the dossier shared under consent, as the
    consent allows on the day it is read (`withdrawn` says what no longer shows, since when)."""

    comment = fields.String(allow_none=True)
    shared_dossier = fields.Dict()
    withdrawn = fields.List(fields.Nested(WithdrawnSchema))


class ReferralQuerySchema(PageQuerySchema):
    state = fields.String(validate=length(maximum=20))
    territory = fields.String(validate=length(maximum=60))


class ProposalQuerySchema(BaseSchema):
    limit = fields.Integer(load_default=20, validate=number_range(minimum=1, maximum=200))


class StructureCountSchema(BaseSchema):
    structure_id = Id()
    structure_name = fields.String()
    count = fields.Integer()


class OwnParticipantSchema(BaseSchema):
    id = Id()
    first_name = fields.String()
    last_name = fields.String()


class ReverseMatchSchema(BaseSchema):
    opportunity_id = Id()
    total = fields.Integer()
    by_structure = fields.Method("_by_structure")
    participants = fields.Method("_participants")

    def _by_structure(self, view: ReverseMatchView) -> list[dict[str, object]]:
        return [
            {"structure_id": sid, "structure_name": view.structure_names.get(sid, ""), "count": count}
            for sid, count in sorted(view.counts_by_structure.items())
        ]

    def _participants(self, view: ReverseMatchView) -> list[dict[str, object]] | None:
        own = view.own_participants
        return None if own is None else OwnParticipantSchema(many=True).dump(own)
