"""Referral pages: a person's proposals, « Mes orientations », the CP's lists, one referral with
its moves, and the printable dossier for the partner."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from referral import clock
from referral.cases import services as cases
from referral.exceptions import DomainError, PermissionDenied
from referral.matching.proposals import FLAG_LABELS
from referral.matching.scoring import FACTOR_LABELS
from referral.reference import queries as reference
from referral.referrals import drafts, matching_index, services, sharing, summaries
from referral.referrals.lifecycle import TRANSITIONS, Transition, available
from referral.referrals.models import ReferralState
from referral.web import confirm
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.request_session import db_session
from referral.web.schemas.referrals import DraftConsentsSchema, ReferralCreateSchema, TransitionInSchema

bp = Blueprint("referral_pages", __name__, url_prefix="/orientations")


@bp.get("/salarie/<int:participant_id>/propositions")
@login_required
def participant_proposals(participant_id: int) -> str:
    session = db_session()
    person = cases.get_participant(session, current_user(), participant_id)
    ranked = matching_index.proposals(session, current_user(), participant_id)
    groups = ranked.by_need(limit=10)
    others = ranked.others(limit=20)
    shown = [p.opportunity_id for group in groups for p in group.eligible] + [
        p.opportunity_id for p in others
    ]
    return render_template(
        "referrals/proposals.html",
        person=person,
        groups=groups,
        others=others,
        eligible_count=len(ranked.eligible_positions),
        consents=sharing.proposal_consents(session, participant_id, shown, clock.today()),
        factor_labels=FACTOR_LABELS,
        flag_labels=FLAG_LABELS,
        domain_labels={domain.code: domain.label for domain in reference.domains(session)},
    )


@bp.post("/")
@login_required
def create() -> Response:
    payload = load_form(ReferralCreateSchema(), request.form)
    try:
        referral = services.create_referral(db_session(), current_user(), **payload)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(
            url_for("referral_pages.participant_proposals", participant_id=payload["participant_id"])
        )
    flash("Proposition acceptée : l'orientation est en brouillon, complétez-la puis soumettez-la.", "success")
    return redirect(url_for("referral_pages.show", referral_id=referral.id))


@bp.get("/")
@login_required
def index() -> str:
    session = db_session()
    user = current_user()
    groups = services.grouped_referrals(session, user)
    listed = [referral for _title, members in groups for referral in members]
    summary = summaries.summaries(session, user, listed)
    return render_template(
        "referrals/index.html",
        groups=groups,
        own_referrals=services.may_edit_record(user),
        summary=summary,
    )


@bp.get("/<int:referral_id>")
@login_required
def show(referral_id: int) -> str:
    return _render(referral_id)


def _render(referral_id: int, message: str | None = None, errors: dict[str, list[str]] | None = None) -> str:
    session = db_session()
    user = current_user()
    referral = services.get_referral(session, user, referral_id)
    reasons = {
        name: reference.codes(session, name)
        for name in (
            "referral_decline_reason",
            "referral_refusal_reason",
            "referral_abandon_reason",
            "referral_outcome",
        )
    }
    shared = services.shared_dossier(session, user, referral)
    return render_template(
        "referrals/show.html",
        referral=referral,
        moves=available(referral.state, user.role),
        dossier=shared.dossier if shared else None,
        withdrawn=shared.withdrawn if shared else [],
        name=services.display_name(user, referral, shared),
        summary=summaries.summaries(
            session, user, [referral], shared={referral.id: shared} if shared else {}
        )[referral.id],
        edits_record=services.may_edit_record(user),
        reasons=reasons,
        reason_label=services.reason_labels(session),
        message=message,
        errors=errors or {},
        needed=sharing.referral_consents(session, referral, clock.today())
        if referral.state in (ReferralState.DRAFT, ReferralState.NEEDS_INFO)
        else [],
        today=clock.today(),
    )


@bp.post("/<int:referral_id>/consentements")
@login_required
def record_consents(referral_id: int) -> Any:
    """« Enregistrer et soumettre »: the consents ticked on the draft, then the submission, in one
    request and without JavaScript; a refusal rolls both back (the error status does)."""
    session, user = db_session(), current_user()
    try:
        payload = load_form(DraftConsentsSchema(), request.form)
        if payload["submit"]:
            referral = drafts.record_consents_and_submit(
                session,
                user,
                referral_id,
                version=payload["version"],
                keys=payload["consents"],
                agreed=payload["agreed"],
                given_on=payload["given_on"],
                comment=payload["comment"],
            )
        else:
            referral = drafts.record_consents(
                session,
                user,
                referral_id,
                keys=payload["consents"],
                agreed=payload["agreed"],
                given_on=payload["given_on"],
            )
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render(referral_id, message=refusal.message, errors=refusal.errors), refusal.status
    if payload["submit"]:
        flash(f"Consentements enregistrés. Orientation : {referral.state.label}.", "success")
    else:
        flash("Consentements enregistrés.", "success")
    return redirect(url_for("referral_pages.show", referral_id=referral_id))


@bp.post("/<int:referral_id>/transitions")
@login_required
def move(referral_id: int) -> Any:
    try:
        payload = load_form(TransitionInSchema(), request.form)
        step = TRANSITIONS.get(payload["action"])
        if step is not None and step.destructive and not confirm.confirmed():
            return _confirm_move(referral_id, step, payload)
        referral = services.transition(db_session(), current_user(), referral_id, **payload)
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render(referral_id, message=refusal.message, errors=refusal.errors), refusal.status
    flash(f"Orientation : {referral.state.label}.", "success")
    return redirect(url_for("referral_pages.show", referral_id=referral_id))


CONFIRM_TITLES = {
    "cancel": "Annuler cette orientation ?",
    "decline": "Refuser cette orientation ?",
    "partner_refuse": "Enregistrer le refus du partenaire ?",
    "abandon": "Enregistrer l'abandon de la personne ?",
}


def _confirm_move(referral_id: int, step: Transition, payload: dict[str, Any]) -> str:
    """The confirmation page of a move that ends the referral; the posted reason rides along."""
    session = db_session()
    referral = services.get_referral(session, current_user(), referral_id)
    services.check_move_input(session, step, reason=payload.get("reason"), outcome=payload.get("outcome"))
    details = [("Orientation", f"{referral.opportunity.title} — {referral.opportunity.partner.name}")]
    if payload.get("reason") and step.reason_list:
        details.append(
            ("Motif", reference.labels(session, step.reason_list).get(payload["reason"], payload["reason"]))
        )
    if payload.get("comment"):
        details.append(("Commentaire", payload["comment"]))
    return confirm.confirmation_page(
        title=CONFIRM_TITLES.get(step.action, f"{step.label} : confirmer"),
        question=f"« {step.label} » met fin à l'orientation, qui passera à l'état « {step.target.label} ».",
        consequences=[
            "Ce changement ne peut pas être annulé : il faudra créer une nouvelle orientation.",
            "La ou le CIP et les CP qui suivent l'orientation le verront dans l'historique.",
        ],
        details=details,
        confirm_label=f"Confirmer : {step.label.lower()}",
        back_url=url_for("referral_pages.show", referral_id=referral_id),
    )


@bp.get("/<int:referral_id>/dossier")
@login_required
def dossier(referral_id: int) -> str:
    """The printable dossier for the partner: only what the person agreed to share."""
    session = db_session()
    user = current_user()
    referral = services.get_referral(session, user, referral_id)
    shared = services.shared_dossier(session, user, referral, what="dossier partagé (impression)")
    if shared is None:
        raise PermissionDenied(
            "Le dossier partagé n'est consultable que par la ou le CIP et les CP qui suivent l'orientation."
        )
    return render_template(
        "referrals/dossier.html", referral=referral, dossier=shared.dossier, withdrawn=shared.withdrawn
    )
