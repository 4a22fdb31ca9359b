"""The office-hour pages (« permanences »): the CP's slots and the CIPs' bookings.

The routes join the `partner_pages` blueprint of `referral.web.views.partners`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from referral import clock
from referral.cases import listing
from referral.exceptions import DomainError
from referral.partners import office_hours as office_hour_services
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.keys import pseudonym_key
from referral.web.request_session import db_session
from referral.web.schemas.partner_forms import BookingFormSchema, NotesFormSchema, OfficeHourFormSchema
from referral.web.views.partners import bp, choose_territory, territory_slug


def _render_office_hours(
    slug: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    message: str | None = None,
    form: str | None = None,
) -> str:
    session, user = db_session(), current_user()
    may_book = office_hour_services.may_book_office_hours(user)
    return render_template(
        "partners/office_hours.html",
        slots=office_hour_services.list_office_hours(
            session,
            user,
            slug,
            pseudonym_key=pseudonym_key(),
            upcoming_only=request.args.get("passes") != "1",
        ),
        participants=listing.participant_names(session, user) if may_book else [],
        errors=errors or {},
        message=message,
        failed_form=form,
        values=request.form if request.method == "POST" else {"duration": "45"},
        show_past=request.args.get("passes") == "1",
        is_cp=office_hour_services.may_open_office_hours(user),
        is_cip=may_book,
        now=clock.paris_now(),
    )


@bp.route("/permanences", methods=["GET", "POST"])
@login_required
def office_hours() -> Any:
    slug = territory_slug()
    if slug is None:
        return choose_territory("Permanences", "partner_pages.office_hours")
    if request.method == "GET":
        return _render_office_hours(slug)
    try:
        loaded = load_form(OfficeHourFormSchema(), request.form)
        duration = loaded.pop("duration")
        loaded["ends_at"] = loaded["starts_at"] + timedelta(minutes=duration)
        office_hour_services.publish_office_hour(db_session(), current_user(), loaded)
    except DomainError as refusal:
        return _render_office_hours(
            slug, errors=refusal.errors, message=refusal.message, form="publish"
        ), refusal.status
    flash("Créneau de permanence proposé aux CIP du territoire.", "success")
    return redirect(url_for("partner_pages.office_hours"))


def _slot_action(slot_id: int, form_name: str, action: Callable[[], Any], done: str) -> Any:
    slug = territory_slug() or ""
    try:
        action()
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render_office_hours(
            slug,
            errors={f"{key}-{slot_id}": value for key, value in refusal.errors.items()},
            message=refusal.message,
            form=form_name,
        ), refusal.status
    flash(done, "success")
    return redirect(url_for("partner_pages.office_hours"))


@bp.post("/permanences/<int:slot_id>/reservation")
@login_required
def book_office_hour(slot_id: int) -> Any:
    def act() -> None:
        payload = load_form(BookingFormSchema(), request.form)
        office_hour_services.book_office_hour(db_session(), current_user(), slot_id, payload)

    return _slot_action(slot_id, "book", act, "Créneau réservé.")


@bp.post("/permanences/<int:slot_id>/annulation")
@login_required
def cancel_office_hour(slot_id: int) -> Any:
    return _slot_action(
        slot_id,
        "cancel",
        lambda: office_hour_services.cancel_office_hour_booking(db_session(), current_user(), slot_id),
        "Réservation annulée : le créneau est de nouveau libre.",
    )


@bp.post("/permanences/<int:slot_id>/retrait")
@login_required
def withdraw_office_hour(slot_id: int) -> Any:
    return _slot_action(
        slot_id,
        "withdraw",
        lambda: office_hour_services.withdraw_office_hour(db_session(), current_user(), slot_id),
        "Créneau retiré.",
    )


@bp.post("/permanences/<int:slot_id>/notes")
@login_required
def office_hour_notes(slot_id: int) -> Any:
    def act() -> None:
        notes = load_form(NotesFormSchema(), request.form)["notes"]
        office_hour_services.record_office_hour_notes(db_session(), current_user(), slot_id, notes)

    return _slot_action(slot_id, "notes", act, "Notes enregistrées.")
