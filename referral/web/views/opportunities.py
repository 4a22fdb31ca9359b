"""The partner network's opportunity pages: an opportunity with its history, the form with its
criteria editor, and the buttons of its lifecycle (publish, pause, close).

The routes join the `partner_pages` blueprint of `referral.web.views.partners`; the form is read
by `OpportunityFormSchema`/`OpportunityEditFormSchema` (criteria typed in rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from referral.exceptions import DomainError
from referral.matching.registry import FIELDS, OPERATORS, operators_for
from referral.partners import lifecycle, opportunities, scope, services
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.reference import queries as reference
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.limits import parse_id
from referral.web.request_session import db_session
from referral.web.schemas.partner_forms import OpportunityEditFormSchema, OpportunityFormSchema
from referral.web.schemas.partners import OpportunityTransitionSchema
from referral.web.views.partners import bp

CRITERION_ROWS_EXTRA = 3


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _opportunity_values(opportunity: Opportunity) -> dict[str, Any]:
    state = opportunities.opportunity_state(opportunity)
    values: dict[str, Any] = {
        "title": state["title"],
        "domain": state["domain"],
        "subtypes": state["subtypes"],
        "description": state["description"] or "",
        "procedure": state["procedure"] or "",
        "capacity": state["capacity"],
        "answer_delay_days": state["answer_delay_days"],
        "requires_cp_validation": "on" if state["requires_cp_validation"] else "",
        "valid_from": state["valid_from"] or "",
        "valid_until": state["valid_until"] or "",
        "shared_categories": state["shared_categories"],
        "documents_required": "\n".join(state["documents_required"]),
        "tags": ", ".join(state["tags"]),
        "version": opportunity.version,
        "partner_id": opportunity.partner_id,
    }
    for index, item in enumerate(state["criteria"]):
        values[f"criterion-{index}-field"] = item["field"]
        values[f"criterion-{index}-op"] = item["op"]
        values[f"criterion-{index}-value"] = _value_text(item["value"])
        values[f"criterion-{index}-hard"] = "on" if item["hard"] else ""
        values[f"criterion-{index}-weight"] = f"{item['weight']:g}"
    return values


def _listed(values: Mapping[str, Any], name: str) -> list[str]:
    if isinstance(values, MultiDict):
        return values.getlist(name)
    value = values.get(name) or []
    return list(value) if isinstance(value, list | tuple) else [value]


def _render_opportunity_form(
    *,
    partner: Partner,
    opportunity: Opportunity | None = None,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> str:
    session, user = db_session(), current_user()
    domains = [domain for domain in reference.domains(session) if scope.in_own_domains(user, domain.code)]
    rows = 0
    while f"criterion-{rows}-field" in values:
        rows += 1
    return render_template(
        "partners/opportunity_form.html",
        partner=partner,
        opportunity=opportunity,
        values=values,
        errors=errors or {},
        domains=domains,
        selected_subtypes=set(_listed(values, "subtypes")),
        selected_categories=set(_listed(values, "shared_categories")),
        criterion_rows=rows + CRITERION_ROWS_EXTRA,
        fields=list(FIELDS.values()),
        operators=OPERATORS,
        operators_for=operators_for,
        reference_codes={
            name: reference.codes(session, name)
            for name in ("housing_status", "health_coverage", "residence_status", "language_level")
        },
        **extra,
    )


@bp.route("/opportunites/nouvelle", methods=["GET", "POST"])
@login_required
def create_opportunity() -> Any:
    session, user = db_session(), current_user()
    partner_id = request.values.get("partner_id", type=parse_id)  # None when not an id in range
    if partner_id is None:
        flash("Choisissez d'abord le partenaire qui propose l'opportunité.", "info")
        return redirect(url_for("partner_pages.index"))
    found = services.get_partner(session, user, partner_id)
    if request.method == "GET":
        defaults = {
            "capacity": 1,
            "answer_delay_days": 30,
            "requires_cp_validation": "on",
            "criterion-0-hard": "on",
        }
        return _render_opportunity_form(partner=found, values=defaults)
    try:
        payload = load_form(OpportunityFormSchema(), request.form)
        created = opportunities.create_opportunity(session, user, {"partner_id": found.id, **payload})
    except DomainError as refusal:
        return _render_opportunity_form(
            partner=found, values=request.form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash("Opportunité enregistrée en brouillon : publiez-la pour que les CIP la voient.", "success")
    return redirect(url_for("partner_pages.opportunity", opportunity_id=created.id))


def _render_opportunity(opportunity_id: int, *, message: str | None = None) -> str:
    session, user = db_session(), current_user()
    found = opportunities.get_opportunity(session, user, opportunity_id)
    return render_template(
        "partners/opportunity.html",
        opportunity=found,
        history=opportunities.opportunity_history(session, user, found.id),
        actions=lifecycle.allowed_opportunity_actions(found, user.role),
        may_build=scope.may_manage_partners(user) and found.status is not OpportunityStatus.CLOSED,
        describe=partial(opportunities.describe_criterion, labels=opportunities.criterion_labels(session)),
        domains={domain.code: domain.label for domain in reference.domains(session)},
        message=message,
    )


@bp.get("/opportunites/<int:opportunity_id>")
@login_required
def opportunity(opportunity_id: int) -> str:
    return _render_opportunity(opportunity_id)


@bp.route("/opportunites/<int:opportunity_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_opportunity(opportunity_id: int) -> Any:
    session, user = db_session(), current_user()
    found = opportunities.get_opportunity(session, user, opportunity_id)
    if request.method == "GET":
        return _render_opportunity_form(
            partner=found.partner, opportunity=found, values=_opportunity_values(found)
        )
    try:
        payload = load_form(OpportunityEditFormSchema(), request.form)
        opportunities.update_opportunity(session, user, found.id, payload, version=payload.pop("version"))
    except DomainError as refusal:
        return _render_opportunity_form(
            partner=found.partner,
            opportunity=found,
            values=request.form,
            errors=refusal.errors,
            message=refusal.message,
        ), refusal.status
    flash("Opportunité mise à jour.", "success")
    return redirect(url_for("partner_pages.opportunity", opportunity_id=found.id))


@bp.post("/opportunites/<int:opportunity_id>/<any(publish, pause, close):action>")
@login_required
def transition_opportunity(opportunity_id: int, action: str) -> Any:
    try:
        seen = load_form(OpportunityTransitionSchema(), request.form).get("version")
        moved = opportunities.transition_opportunity(
            db_session(), current_user(), opportunity_id, action, version=seen
        )
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render_opportunity(opportunity_id, message=refusal.message), refusal.status
    flash(f"Opportunité « {moved.title} » : {moved.status.label.lower()}.", "success")
    return redirect(url_for("partner_pages.opportunity", opportunity_id=moved.id))
