"""The partner network's pages (« Réseau »): the network's search and lists, and the partners.

The network's other pages share this module's blueprint (`partner_pages`, so their endpoints
keep one prefix): opportunities with their criteria editor and history (`opportunities`),
mutualisation meetings (`meetings`), office hours (`office_hours`) and workshops (`workshops`).

Every form posts to a small view that loads it with a page form schema
(`referral.web.schemas.partner_forms`, through `referral.web.forms.load_form`), calls one
service and redirects (post/redirect/get). A refusal re-renders the form with the French
messages beside the offending fields and the refusal's status; the request then rolls back, so
nothing is written. Pages work without JavaScript; the search box also searches as you type with
`static/partners-search.js`. Who may do what is asked of the services' predicates
(`referral.partners.scope` and each room's), never decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from referral.exceptions import DomainError
from referral.paging import PageRequest
from referral.partners import deployments, opportunities, scope, search, services
from referral.partners.exceptions import LikelyDuplicatePartner
from referral.partners.models import DeploymentStatus, Partner
from referral.reference import queries as reference
from referral.territories import queries as territory_queries
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.paging import page_link, page_number
from referral.web.request_session import db_session
from referral.web.schemas.partner_forms import DeploymentFormSchema, PartnerEditFormSchema, PartnerFormSchema

bp = Blueprint("partner_pages", __name__, url_prefix="/reseau")

CONTACT_ROWS_EXTRA = 1
# The network page shows this many partners, and this many opportunities, a page (issue 20); the
# opportunities' page number has an argument of its own.
PAGE_SIZE = 50
OPPORTUNITY_PAGE = "page_offres"


def territory_slug() -> str | None:
    """The territory a page is about: the user's own; the national team picks one."""
    user = current_user()
    if scope.works_nationally(user):
        return request.args.get("territoire") or None
    if user.structure is not None:
        return user.structure.territory.slug if user.structure.territory is not None else None
    return user.territory.slug if user.territory is not None else None


def choose_territory(title: str, endpoint: str) -> str:
    """The national team's page asking which territory to look at."""
    return render_template(
        "partners/choose_territory.html",
        title=title,
        endpoint=endpoint,
        territories=territory_queries.territories(db_session()),
    )


# =============================================================================================
# The network: search and lists
# =============================================================================================


@bp.get("/")
@login_required
def index() -> str:
    session, user = db_session(), current_user()
    query = request.args.get("q", "").strip()
    slug = territory_slug()
    if scope.works_nationally(user) and not query and slug is None:
        # Nationally the lists would run to tens of thousands of rows: search, or pick a territory.
        return choose_territory("Réseau de partenaires", "partner_pages.index")
    context: dict[str, Any] = {"q": query}
    if query:
        context["partner_hits"] = search.search_partners(session, user, query, territory_slug=slug, limit=20)
        context["opportunity_hits"] = search.search_opportunities(
            session, user, query, territory_slug=slug, limit=20
        )
    else:
        # 50 a page each, like « Mes salarié·es »; the search above looks through everything.
        args = request.args
        partners = services.partner_lines_page(
            session, user, PageRequest(limit=PAGE_SIZE, number=page_number(args)), territory_slug=slug
        )
        context["partners"] = partners
        context["opportunities"] = opportunities.opportunities_page(
            session,
            user,
            PageRequest(limit=PAGE_SIZE, number=page_number(args, OPPORTUNITY_PAGE)),
            territory_slug=slug,
            with_details=False,
        )
        # Counted from what the user may see (a CIP: published opportunities only), in one query.
        context["opportunity_counts"] = opportunities.opportunity_counts(
            session, user, (partner.id for partner in partners.items), territory_slug=slug
        )
        context["page_link"] = page_link
        context["opportunity_page"] = OPPORTUNITY_PAGE
    context["kinds"] = reference.labels(session, "partner_kind")
    context["domains"] = {domain.code: domain.label for domain in reference.domains(session)}
    context["may_build"] = scope.may_manage_partners(user)
    return render_template("partners/index.html", **context)


# =============================================================================================
# Partners
# =============================================================================================


def _partner_choices() -> dict[str, Any]:
    session = db_session()
    return {
        "kinds": reference.codes(session, "partner_kind"),
        "network_options": [(network.code, network.name) for network in services.national_networks(session)],
        "status_options": DeploymentStatus.choices(),
        # A CP says how the partner stands with their own territory.
        "links_own_territory": scope.is_territory_cp(current_user()),
    }


def _partner_values(partner: Partner) -> dict[str, Any]:
    own = next(
        (link for link in partner.territory_links if link.territory_id == current_user().scope_territory_id),
        None,
    )
    values = {
        "name": partner.name,
        "kind": partner.kind,
        "siret": partner.siret or "",
        "address": partner.address or "",
        "postcode": partner.postcode or "",
        "town": partner.town or "",
        "national_network": partner.national_network_code or "",
        "convention_signed_on": partner.convention_signed_on.isoformat()
        if partner.convention_signed_on
        else "",
        "convention_ends_on": partner.convention_ends_on.isoformat() if partner.convention_ends_on else "",
        "description": partner.description or "",
        "tags": ", ".join(partner.tags or []),
        "deployment_status": own.status.value if own else DeploymentStatus.DEPLOYED.value,
    }
    for index, contact in enumerate(partner.contacts):
        for name in ("name", "role", "email", "phone"):
            values[f"contact-{index}-{name}"] = getattr(contact, name) or ""
    return values


def _contact_count(values: Mapping[str, Any]) -> int:
    index = 0
    while f"contact-{index}-name" in values:
        index += 1
    return index + CONTACT_ROWS_EXTRA


def _render_partner_form(
    *,
    partner: Partner | None = None,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> str:
    return render_template(
        "partners/partner_form.html",
        partner=partner,
        values=values,
        errors=errors or {},
        contact_rows=_contact_count(values),
        **_partner_choices(),
        **extra,
    )


def _with_own_territory(payload: dict[str, Any]) -> dict[str, Any]:
    """The form's relation with the CP's own territory, as the service's territory links."""
    status = payload.pop("deployment_status", None)
    if status is not None and scope.is_territory_cp(current_user()):
        payload["territories"] = [{"slug": territory_slug(), "status": status}]
    return payload


@bp.route("/partenaires/nouveau", methods=["GET", "POST"])
@login_required
def create_partner() -> Any:
    if request.method == "GET":
        return _render_partner_form(values={"deployment_status": "deployed"})
    form = request.form
    try:
        payload = _with_own_territory(load_form(PartnerFormSchema(), form))
        confirm_new = payload.pop("confirm_new")
        partner = services.create_partner(db_session(), current_user(), payload, confirm_new=confirm_new)
    except LikelyDuplicatePartner as duplicate:
        return _render_partner_form(
            values=form,
            candidates=duplicate.candidates,
            same_siret=duplicate.same_siret,
            message=duplicate.message,
        ), 409
    except DomainError as refusal:
        return _render_partner_form(
            values=form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash(f"Partenaire « {partner.name} » ajouté au réseau.", "success")
    return redirect(url_for("partner_pages.partner", partner_id=partner.id))


@bp.get("/partenaires/<int:partner_id>")
@login_required
def partner(partner_id: int) -> str:
    session, user = db_session(), current_user()
    found = services.get_partner(session, user, partner_id)
    return render_template(
        "partners/partner.html",
        partner=found,
        opportunities=opportunities.list_opportunities(session, user, partner_id=found.id),
        kinds=reference.labels(session, "partner_kind"),
        domains={domain.code: domain.label for domain in reference.domains(session)},
        may_build=scope.may_manage_partners(user),
        may_edit_identity=deployments.may_edit_identity(user, found),
        shared=deployments.is_shared(found),
        own_deployment=scope.is_territory_cp(user)
        and deployments.deployment(found, user.territory_id or 0) is not None,
    )


@bp.route("/partenaires/<int:partner_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_partner(partner_id: int) -> Any:
    session, user = db_session(), current_user()
    found = services.get_partner(session, user, partner_id)
    if request.method == "GET":
        if scope.may_manage_partners(user) and not deployments.may_edit_identity(user, found):
            # A shared partner: what the CP edits is their territory's deployment.
            return redirect(url_for("partner_pages.edit_deployment", partner_id=found.id))
        return _render_partner_form(partner=found, values=_partner_values(found))
    try:
        payload = _with_own_territory(load_form(PartnerEditFormSchema(), request.form))
        services.update_partner(session, user, found.id, payload)
    except DomainError as refusal:
        return _render_partner_form(
            partner=found, values=request.form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash("Partenaire mis à jour.", "success")
    return redirect(url_for("partner_pages.partner", partner_id=found.id))


def _deployment_values(link: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"status": link.status.value, "notes": link.local_notes or ""}
    for index, contact in enumerate(link.local_contacts or []):
        for name in ("name", "role", "email", "phone"):
            values[f"contact-{index}-{name}"] = contact.get(name) or ""
    return values


@bp.route("/partenaires/<int:partner_id>/deploiement", methods=["GET", "POST"])
@login_required
def edit_deployment(partner_id: int) -> Any:
    """A CP's page for their territory's deployment of a partner: status, local contacts, notes."""
    session, user = db_session(), current_user()
    found = services.get_partner(session, user, partner_id)
    scope.require_builder(user)
    slug = territory_slug()
    link = deployments.deployment(found, user.scope_territory_id) if user.scope_territory_id else None
    if slug is None or link is None:
        flash("Ce partenaire n'est pas déployé sur votre territoire.", "error")
        return redirect(url_for("partner_pages.partner", partner_id=found.id))

    def render(
        values: Mapping[str, Any], errors: Mapping[str, list[str]] | None = None, message: str | None = None
    ) -> str:
        return render_template(
            "partners/deployment_form.html",
            partner=found,
            territory=link.territory,
            values=values,
            errors=errors or {},
            message=message,
            contact_rows=_contact_count(values),
            status_options=DeploymentStatus.choices(),
        )

    if request.method == "GET":
        return render(_deployment_values(link))
    try:
        payload = load_form(DeploymentFormSchema(), request.form)
        deployments.update_deployment(session, user, found, slug, payload)
    except DomainError as refusal:
        return render(request.form, refusal.errors, refusal.message), refusal.status
    flash(f"Déploiement sur le territoire « {link.territory.name} » mis à jour.", "success")
    return redirect(url_for("partner_pages.partner", partner_id=found.id))
