"""The case-record pages of a CIP (« Mes salarié·es », « dossier », « chronologie »).

Every form posts to a small view that loads it with the API's schema, calls one service and
redirects to the record (post/redirect/get); a refusal re-renders the page with the French
messages beside the offending fields, status 422, nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import Schema
from werkzeug.wrappers import Response

from referral import clock
from referral.cases import entry_situation, listing, services
from referral.cases import export as record_export
from referral.cases import path as case_path
from referral.cases import timeline as record_timeline
from referral.cases import transfers as case_transfers
from referral.cases.exceptions import LikelyDuplicate
from referral.cases.models import ConsentRecipient, ContractKind, DataCategory, NeedStatus
from referral.exceptions import DomainError, InvalidInput
from referral.paging import PageRequest
from referral.reference import queries as reference
from referral.referrals import summaries
from referral.web import confirm
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.paging import page_link, page_number
from referral.web.request_session import db_session
from referral.web.schemas import participants as schemas

bp = Blueprint("cases", __name__, url_prefix="/salaries")
# « Mes salarié·es » shows this many people a page (issue 20).
PAGE_SIZE = 50


def _choices() -> dict[str, Any]:
    """Labels of every coded list the forms offer, in the reference order."""
    session = db_session()
    lists = (
        "housing_status",
        "health_coverage",
        "residence_status",
        "language_level",
        "exit_type",
        "followup_outcome",
        "referent_role",
    )
    choices: dict[str, Any] = {name: reference.codes(session, name) for name in lists}
    choices["domains"] = reference.domains(session)
    choices["contract_kinds"] = list(ContractKind)
    choices["recipients"] = list(ConsentRecipient)
    choices["categories"] = list(DataCategory)
    choices["need_statuses"] = list(NeedStatus)
    return choices


@bp.get("/")
@login_required
def index() -> str:
    args = request.args
    within = args.get("fin_dans", "")
    # ASCII digits only ("²".isdigit() is true), and few of them: a month count, not an overflow.
    months = int(within) if within.isascii() and within.isdigit() and len(within) <= 3 else None
    page = listing.case_lines(
        db_session(),
        current_user(),
        PageRequest(limit=PAGE_SIZE, number=page_number(args)),
        query=args.get("q") or None,
        programme=args.get("programme") or None,
        need_domain=args.get("frein") or None,
        path_ends_within_months=months,
        follow_ups_due=args.get("suivis") == "1",
    )
    transfers = case_transfers.pending_transfers(db_session(), current_user())
    return render_template(
        "cases/list.html", page=page, page_link=page_link, transfers=transfers, args=args, **_choices()
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@login_required
def create() -> Any:
    if request.method == "GET":
        return render_template("cases/new.html", values={}, errors={}, **_choices())
    try:
        payload = load_form(schemas.ParticipantCreateSchema(), request.form)
        confirm_new = payload.pop("confirm_new")
        person = services.create_participant(db_session(), current_user(), payload, confirm_new=confirm_new)
    except LikelyDuplicate as duplicate:
        return render_template(
            "cases/new.html",
            values=request.form,
            errors={},
            candidates=duplicate.candidates,
            message=duplicate.message,
            today=clock.today(),
            **_choices(),
        ), 409
    except DomainError as refusal:
        return render_template(
            "cases/new.html",
            values=request.form,
            errors=refusal.errors,
            message=refusal.message,
            **_choices(),
        ), refusal.status
    flash(f"Dossier de {person.first_name} {person.last_name} créé.", "success")
    return redirect(url_for("cases.record", participant_id=person.id))


@bp.get("/<int:participant_id>")
@login_required
def record(participant_id: int) -> str:
    return _render_record(participant_id)


def _render_record(
    participant_id: int,
    *,
    form: str | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
) -> str:
    session = db_session()
    person = services.get_participant(session, current_user(), participant_id)
    health = services.get_health(session, current_user(), participant_id)
    referrals_under_way = summaries.under_way(session, current_user(), person.id)
    return render_template(
        "cases/record.html",
        person=person,
        path=services.path_of(person),
        health=health,
        attention=services.attention_points(person, clock.today()),
        deadlines=services.next_deadlines(person, clock.today()),
        under_way=len(referrals_under_way),
        failed_form=form,
        errors=errors or {},
        message=message,
        values=request.form if form else {},
        today=clock.today(),
        referrals_under_way=referrals_under_way,
        **_choices(),
    )


def _act(
    participant_id: int, form: str, schema: Schema, action: Callable[[dict[str, Any]], Any], done: str
) -> Any:
    try:
        action(load_form(schema, request.form))
    except InvalidInput as refusal:
        return _render_record(participant_id, form=form, errors=refusal.errors, message=refusal.message), 422
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render_record(
            participant_id, form=form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash(done, "success")
    return redirect(url_for("cases.record", participant_id=participant_id) + f"#{form}")


def _edit(participant_id: int) -> Callable[[dict[str, Any]], Any]:
    def action(payload: dict[str, Any]) -> Any:
        payload.pop("confirm_new", None)
        return services.update_participant(db_session(), current_user(), participant_id, payload)

    return action


@bp.post("/<int:participant_id>/situation")
@login_required
def update(participant_id: int) -> Any:
    return _act(
        participant_id,
        "situation",
        schemas.ParticipantPatchSchema(),
        _edit(participant_id),
        "Situation mise à jour.",
    )


@bp.post("/<int:participant_id>/situation-entree")
@login_required
def correct_entry_situation(participant_id: int) -> Any:
    return _act(
        participant_id,
        "situation-entree",
        schemas.EntryCorrectionSchema(),
        lambda p: entry_situation.correct_entry_situation(db_session(), current_user(), participant_id, p),
        "Situation à l'entrée corrigée ; la correction et son motif sont inscrits au journal.",
    )


@bp.post("/<int:participant_id>/contrats")
@login_required
def add_contract(participant_id: int) -> Any:
    return _act(
        participant_id,
        "contrats",
        schemas.ContractInSchema(),
        lambda p: services.add_contract(db_session(), current_user(), participant_id, p),
        "Contrat enregistré.",
    )


@bp.post("/<int:participant_id>/freins")
@login_required
def add_need(participant_id: int) -> Any:
    return _act(
        participant_id,
        "freins",
        schemas.NeedInSchema(),
        lambda p: services.add_need(db_session(), current_user(), participant_id, p),
        "Frein enregistré.",
    )


@bp.post("/<int:participant_id>/freins/<int:need_id>")
@login_required
def update_need(participant_id: int, need_id: int) -> Any:
    return _act(
        participant_id,
        "freins",
        schemas.NeedPatchSchema(),
        lambda p: services.update_need(db_session(), current_user(), participant_id, need_id, p),
        "Frein mis à jour.",
    )


@bp.post("/<int:participant_id>/consentements")
@login_required
def record_consent(participant_id: int) -> Any:
    return _act(
        participant_id,
        "consentements",
        schemas.ConsentInSchema(),
        lambda p: services.record_consent(db_session(), current_user(), participant_id, p),
        "Consentement enregistré.",
    )


@bp.post("/<int:participant_id>/consentements/<int:consent_id>/retrait")
@login_required
def revoke_consent(participant_id: int, consent_id: int) -> Any:
    if not confirm.confirmed():
        consent = services.get_consent(db_session(), current_user(), participant_id, consent_id)
        return confirm.confirmation_page(
            title="Retirer ce consentement ?",
            question=(
                f"La personne ne consent plus à partager « {consent.data_category.label} » avec "
                f"{consent.recipient.label.lower()}."
            ),
            consequences=[
                "Les orientations en cours ne montreront plus ces informations au CP ni au partenaire.",
                "Les CP concerné·es sont prévenu·es.",
                "Un nouveau consentement pourra être recueilli plus tard.",
            ],
            confirm_label="Confirmer le retrait",
            back_url=url_for("cases.record", participant_id=participant_id) + "#consentements",
        )
    return _act(
        participant_id,
        "consentements",
        schemas.ConsentRevokeSchema(),
        lambda p: services.revoke_consent(
            db_session(), current_user(), participant_id, consent_id, p["revoked_on"]
        ),
        "Consentement retiré.",
    )


@bp.post("/<int:participant_id>/referents")
@login_required
def add_referent(participant_id: int) -> Any:
    return _act(
        participant_id,
        "referents",
        schemas.ReferentInSchema(),
        lambda p: services.add_referent(db_session(), current_user(), participant_id, p),
        "Référent·e enregistré·e.",
    )


@bp.post("/<int:participant_id>/notes")
@login_required
def add_note(participant_id: int) -> Any:
    return _act(
        participant_id,
        "notes",
        schemas.NoteInSchema(),
        lambda p: services.add_note(db_session(), current_user(), participant_id, p),
        "Note ajoutée.",
    )


@bp.post("/<int:participant_id>/sante")
@login_required
def update_health(participant_id: int) -> Any:
    schema = schemas.HealthUpdateSchema()

    # Unticked boxes are not sent by browsers: on this form, absent means « non ».
    def action(payload: dict[str, Any]) -> Any:
        for flag in ("has_treating_doctor", "rqth", "css", "psychological_follow_up"):
            payload.setdefault(flag, False)
        return services.update_health(db_session(), current_user(), participant_id, payload)

    return _act(participant_id, "sante", schema, action, "Informations de santé enregistrées.")


@bp.post("/<int:participant_id>/renouvellements")
@login_required
def request_renewal(participant_id: int) -> Any:
    return _act(
        participant_id,
        "parcours",
        schemas.RenewalInSchema(),
        lambda p: case_path.request_renewal(db_session(), current_user(), participant_id, p),
        "Demande de renouvellement enregistrée.",
    )


@bp.post("/<int:participant_id>/renouvellements/<int:renewal_id>/decision")
@login_required
def decide_renewal(participant_id: int, renewal_id: int) -> Any:
    return _act(
        participant_id,
        "parcours",
        schemas.RenewalDecisionInSchema(),
        lambda p: case_path.decide_renewal(db_session(), current_user(), participant_id, renewal_id, p),
        "Décision de la commission enregistrée.",
    )


@bp.post("/<int:participant_id>/sortie")
@login_required
def record_exit(participant_id: int) -> Any:
    return _act(
        participant_id,
        "sortie",
        schemas.ExitInSchema(),
        lambda p: case_path.record_exit(db_session(), current_user(), participant_id, p),
        "Sortie enregistrée ; les suivis à 6 et 12 mois sont programmés.",
    )


@bp.post("/<int:participant_id>/suivis")
@login_required
def record_follow_up(participant_id: int) -> Any:
    def action(payload: dict[str, Any]) -> Any:
        follow_up_id = payload.pop("follow_up_id")
        return case_path.record_follow_up(db_session(), current_user(), participant_id, follow_up_id, payload)

    return _act(participant_id, "sortie", schemas.FollowUpInSchema(), action, "Suivi enregistré.")


@bp.get("/<int:participant_id>/chronologie")
@login_required
def timeline(participant_id: int) -> str:
    person = services.get_participant(db_session(), current_user(), participant_id)
    events = record_timeline.timeline(db_session(), current_user(), participant_id)
    return render_template("cases/timeline.html", person=person, events=events)


def export_download(participant_id: int) -> Response:
    """The right-of-access file (« droit d'accès ») as a download named after whose and when; the
    page and the API answer the same file."""
    export = schemas.RecordExportSchema().dump(
        record_export.export_record(db_session(), current_user(), participant_id)
    )
    # Indented and with its accents as they are: the person may open the file in a text editor.
    response = Response(json.dumps(export, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="dossier-{participant_id}-{clock.today().isoformat()}.json"'
    )
    # A whole record, health included: no copy left in a shared browser's or a proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:participant_id>/export")
@login_required
def export_record(participant_id: int) -> Response:
    return export_download(participant_id)


@bp.post("/transferts")
@login_required
def request_transfer() -> Response:
    payload = load_form(schemas.TransferInSchema(), request.form)
    case_transfers.request_transfer(db_session(), current_user(), **payload)
    flash(case_transfers.TRANSFER_REQUESTED, "success")
    return redirect(url_for("cases.index"))


@bp.post("/transferts/<int:transfer_id>/decision")
@login_required
def decide_transfer(transfer_id: int) -> Response:
    payload = load_form(schemas.TransferDecisionSchema(), request.form)
    case_transfers.decide_transfer(db_session(), current_user(), transfer_id, accept=payload["accept"])
    flash(
        "Transfert accepté : le dossier est confié à l'autre structure."
        if payload["accept"]
        else "Transfert refusé.",
        "success",
    )
    return redirect(url_for("cases.index"))
