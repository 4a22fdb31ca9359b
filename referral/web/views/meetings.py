"""The mutualisation meeting pages: a territory's meetings, a meeting's agenda (and its printable
version), the CP's points and minutes.

The routes join the `partner_pages` blueprint of `referral.web.views.partners`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from referral.exceptions import DomainError, InvalidInput
from referral.partners import meetings as meeting_services
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.request_session import db_session
from referral.web.schemas.partner_forms import AgendaItemFormSchema, MeetingFormSchema, MinutesFormSchema
from referral.web.views.partners import bp, choose_territory, territory_slug


@bp.route("/reunions", methods=["GET", "POST"])
@login_required
def meetings() -> Any:
    session, user = db_session(), current_user()
    slug = territory_slug()
    if slug is None:
        return choose_territory("Réunions de mutualisation", "partner_pages.meetings")
    errors: Mapping[str, list[str]] = {}
    message = None
    status = 200
    if request.method == "POST":
        try:
            meeting = meeting_services.create_meeting(
                session, user, slug, load_form(MeetingFormSchema(), request.form)
            )
        except DomainError as refusal:
            errors, message, status = refusal.errors, refusal.message, refusal.status
        else:
            flash("Réunion programmée : son ordre du jour a été construit.", "success")
            return redirect(url_for("partner_pages.meeting", meeting_id=meeting.id))
    return render_template(
        "partners/meetings.html",
        meetings=meeting_services.list_meetings(session, user, slug),
        members=meeting_services.territory_members(session, user, slug),
        values=request.form if request.method == "POST" else {"title": "Réunion de mutualisation"},
        selected=set(request.form.getlist("attendee_ids")) if request.method == "POST" else {str(user.id)},
        errors=errors,
        message=message,
        may_prepare=meeting_services.may_prepare_meetings(user),
        slug=slug,
    ), status


def _render_meeting(
    meeting_id: int, *, errors: Mapping[str, list[str]] | None = None, message: str | None = None
) -> str:
    session, user = db_session(), current_user()
    agenda = meeting_services.meeting_agenda(session, user, meeting_id)
    return render_template(
        "partners/meeting.html",
        agenda=agenda,
        meeting=agenda.meeting,
        may_prepare=meeting_services.may_prepare_meetings(user, agenda.meeting.territory_id),
        errors=errors or {},
        message=message,
        values=request.form if request.method == "POST" else {},
    )


@bp.get("/reunions/<int:meeting_id>")
@login_required
def meeting(meeting_id: int) -> str:
    return _render_meeting(meeting_id)


@bp.get("/reunions/<int:meeting_id>/impression")
@login_required
def meeting_print(meeting_id: int) -> str:
    agenda = meeting_services.meeting_agenda(db_session(), current_user(), meeting_id)
    return render_template("partners/meeting_print.html", agenda=agenda, meeting=agenda.meeting)


def _meeting_action(meeting_id: int, action: Callable[[], Any], done: str) -> Any:
    try:
        action()
    except InvalidInput as refusal:
        return _render_meeting(meeting_id, errors=refusal.errors, message=refusal.message), 422
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render_meeting(meeting_id, message=refusal.message), refusal.status
    flash(done, "success")
    return redirect(url_for("partner_pages.meeting", meeting_id=meeting_id))


@bp.post("/reunions/<int:meeting_id>/points")
@login_required
def add_agenda_item(meeting_id: int) -> Any:
    def act() -> None:
        payload = load_form(AgendaItemFormSchema(), request.form)
        meeting_services.add_agenda_item(db_session(), current_user(), meeting_id, payload)

    return _meeting_action(meeting_id, act, "Point ajouté à l'ordre du jour.")


@bp.post("/reunions/<int:meeting_id>/ordre-du-jour")
@login_required
def rebuild_agenda(meeting_id: int) -> Any:
    return _meeting_action(
        meeting_id,
        lambda: meeting_services.rebuild_agenda(db_session(), current_user(), meeting_id),
        "Ordre du jour mis à jour avec les derniers changements du réseau.",
    )


@bp.post("/reunions/<int:meeting_id>/compte-rendu")
@login_required
def record_minutes(meeting_id: int) -> Any:
    def act() -> None:
        payload = load_form(MinutesFormSchema(), request.form)
        meeting_services.update_meeting(db_session(), current_user(), meeting_id, payload)

    return _meeting_action(meeting_id, act, "Compte rendu enregistré.")
