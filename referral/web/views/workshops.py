"""The collective workshop pages (« ateliers collectifs »): a territory's workshops, the CP's
form to record one and, afterwards, its attendance and notes.

The routes join the `partner_pages` blueprint of `referral.web.views.partners`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from referral.exceptions import DomainError
from referral.partners import scope
from referral.partners import workshops as workshop_services
from referral.reference import queries as reference
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.request_session import db_session
from referral.web.schemas.partner_forms import WorkshopAttendanceFormSchema, WorkshopFormSchema
from referral.web.views.partners import bp, choose_territory, territory_slug


def _render_workshops(
    slug: str, *, errors: Mapping[str, list[str]] | None = None, message: str | None = None
) -> str:
    session, user = db_session(), current_user()
    all_domains = reference.domains(session)
    return render_template(
        "partners/workshops.html",
        workshops=workshop_services.list_workshops(session, user, slug),
        audiences=reference.codes(session, "workshop_audience"),
        audience_labels=reference.labels(session, "workshop_audience"),
        domains=[domain for domain in all_domains if scope.in_own_domains(user, domain.code)],
        domain_labels={domain.code: domain.label for domain in all_domains},
        errors=errors or {},
        message=message,
        values=request.form if request.method == "POST" else {},
        is_cp=workshop_services.may_run_workshops(user),
    )


@bp.route("/ateliers", methods=["GET", "POST"])
@login_required
def workshops() -> Any:
    slug = territory_slug()
    if slug is None:
        return choose_territory("Ateliers collectifs", "partner_pages.workshops")
    if request.method == "GET":
        return _render_workshops(slug)
    try:
        payload = load_form(WorkshopFormSchema(), request.form)
        workshop_services.create_workshop(db_session(), current_user(), payload)
    except DomainError as refusal:
        return _render_workshops(slug, errors=refusal.errors, message=refusal.message), refusal.status
    flash("Atelier enregistré.", "success")
    return redirect(url_for("partner_pages.workshops"))


@bp.post("/ateliers/<int:workshop_id>")
@login_required
def update_workshop(workshop_id: int) -> Any:
    slug = territory_slug() or ""
    try:
        payload = load_form(WorkshopAttendanceFormSchema(), request.form)
        workshop_services.update_workshop(db_session(), current_user(), workshop_id, payload)
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        errors = {f"{key}-{workshop_id}": value for key, value in refusal.errors.items()}
        return _render_workshops(slug, errors=errors, message=refusal.message), refusal.status
    flash("Atelier mis à jour.", "success")
    return redirect(url_for("partner_pages.workshops"))
