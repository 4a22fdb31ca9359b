"""The partner network's pages (« Réseau »): partners, opportunities with their criteria editor
and history, search as you type, mutualisation meetings, office hours, workshops.

Every form posts to a small view that turns the form into the API's payload, loads it with the
API's schema, calls one service and redirects (post/redirect/get). A refusal re-renders the
form with the French messages beside the offending fields and the refusal's status; the request
then rolls back, so nothing is written. Pages work without JavaScript; the search box also
searches as you type with `static/partners-search.js`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from referral.cases import services as cases
from referral.exceptions import DomainError, InvalidInput
from referral.matching.registry import FIELDS, OPERATORS, ValueKind, operators_for
from referral.partners import services
from referral.partners.exceptions import LikelyDuplicatePartner
from referral.partners.models import DeploymentStatus, OpportunityStatus
from referral.reference import queries as reference
from referral.territories.models import Role
from referral.web.auth import current_user, login_required
from referral.web.errors import flatten_messages
from referral.web.limits import ids_in, parse_id
from referral.web.request_session import db_session
from referral.web.schemas import meetings as meeting_schemas
from referral.web.schemas import partners as schemas

bp = Blueprint("partner_pages", __name__, url_prefix="/reseau")

PARIS = ZoneInfo("Europe/Paris")
CONTACT_ROWS_EXTRA = 1
CRITERION_ROWS_EXTRA = 3


@bp.app_template_filter("heure_locale")
def local_time(moment: datetime | None, pattern: str = "%d/%m/%Y à %H:%M") -> str:
    """A stored UTC time as a French reader expects it: Paris time."""
    if moment is None:
        return ""
    return moment.astimezone(PARIS).strftime(pattern)


def _load(schema: Schema, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Load a payload built from a form with the API's schema; French messages per field."""
    try:
        return schema.load(payload)
    except ValidationError as error:
        raise InvalidInput(
            "Certaines données sont invalides.", errors=flatten_messages(error.messages)
        ) from None


def _text(form: MultiDict[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _optional(form: MultiDict[str, str], name: str) -> str | None:
    return _text(form, name) or None


def _territory_slug() -> str | None:
    """The territory a page is about: the user's own; the national team picks one."""
    user = current_user()
    if user.role is Role.ADMIN:
        return request.args.get("territoire") or None
    if user.structure is not None:
        return user.structure.territory.slug if user.structure.territory is not None else None
    return user.territory.slug if user.territory is not None else None


def _choose_territory(title: str, endpoint: str) -> str:
    from referral.territories import queries as territory_queries

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
    slug = _territory_slug()
    if user.role is Role.ADMIN and not query and slug is None:
        # Nationally the lists would run to tens of thousands of rows: search, or pick a territory.
        return _choose_territory("Réseau de partenaires", "partner_pages.index")
    context: dict[str, Any] = {"q": query}
    if query:
        context["partner_hits"] = services.search_partners(
            session, user, query, territory_slug=slug, limit=20
        )
        context["offer_hits"] = services.search_opportunities(
            session, user, query, territory_slug=slug, limit=20
        )
    else:
        context["partners"] = services.list_partners(session, user, territory_slug=slug)
        context["offers"] = services.list_opportunities(session, user, territory_slug=slug)
        # Counted from what the user may see (a CIP: published offers only), in one query.
        context["offer_counts"] = Counter(offer.partner_id for offer in context["offers"])
    context["kinds"] = reference.labels(session, "partner_kind")
    context["domains"] = {domain.code: domain.label for domain in reference.domains(session)}
    context["may_build"] = user.role in (Role.CP, Role.ADMIN)
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
    }


def _contact_rows(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The contacts typed in the form's rows; a row left blank is no contact."""
    rows = []
    index = 0
    while f"contact-{index}-name" in form:
        row = {
            name: _optional(form, f"contact-{index}-{name}") for name in ("name", "role", "email", "phone")
        }
        if any(row.values()):
            row["name"] = row["name"] or ""  # a contact without a name: the schema says so
            rows.append(row)
        index += 1
    return rows


def _partner_payload(form: MultiDict[str, str], *, editing: bool) -> dict[str, Any]:
    """The API payload of the partner form: empty optional inputs are « no value »."""
    payload: dict[str, Any] = {"name": _text(form, "name"), "kind": _text(form, "kind")}
    for name in ("siret", "address", "postcode", "town", "national_network", "description"):
        value = _optional(form, name)
        if value is not None or editing:
            payload[name] = value
    for name in ("convention_signed_on", "convention_ends_on"):
        value = _optional(form, name)
        if value is not None or editing:
            payload[name] = value
    payload["tags"] = [tag.strip() for tag in _text(form, "tags").split(",") if tag.strip()]
    payload["contacts"] = _contact_rows(form)
    status = _optional(form, "deployment_status")
    if status is not None and current_user().role is Role.CP:
        payload["territories"] = [{"slug": _territory_slug(), "status": status}]
    return payload


def _partner_values(partner: Any) -> dict[str, Any]:
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
    partner: Any = None,
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


@bp.route("/partenaires/nouveau", methods=["GET", "POST"])
@login_required
def create_partner() -> Any:
    if request.method == "GET":
        return _render_partner_form(values={"deployment_status": "deployed"})
    form = request.form
    try:
        payload = _load(schemas.PartnerInSchema(), _partner_payload(form, editing=False))
        payload.pop("confirm_new", None)
        partner = services.create_partner(
            db_session(), current_user(), payload, confirm_new=form.get("confirm_new") == "on"
        )
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
    offers = services.list_opportunities(session, user, partner_id=found.id)
    return render_template(
        "partners/partner.html",
        partner=found,
        offers=offers,
        kinds=reference.labels(session, "partner_kind"),
        domains={domain.code: domain.label for domain in reference.domains(session)},
        may_build=user.role in (Role.CP, Role.ADMIN),
    )


@bp.route("/partenaires/<int:partner_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_partner(partner_id: int) -> Any:
    session, user = db_session(), current_user()
    found = services.get_partner(session, user, partner_id)
    if request.method == "GET":
        return _render_partner_form(partner=found, values=_partner_values(found))
    try:
        payload = _load(schemas.PartnerPatchSchema(), _partner_payload(request.form, editing=True))
        services.update_partner(session, user, found.id, payload)
    except DomainError as refusal:
        return _render_partner_form(
            partner=found, values=request.form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash("Partenaire mis à jour.", "success")
    return redirect(url_for("partner_pages.partner", partner_id=found.id))


# =============================================================================================
# Opportunities and the criteria editor
# =============================================================================================


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


def _criteria_rows(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    rows = []
    index = 0
    while f"criterion-{index}-field" in form:
        field = _text(form, f"criterion-{index}-field")
        if field:
            op = _text(form, f"criterion-{index}-op")
            weight = _number(_text(form, f"criterion-{index}-weight") or "1")
            rows.append(
                {
                    "field": field,
                    "op": op,
                    "value": criterion_value(field, op, _text(form, f"criterion-{index}-value")),
                    "hard": form.get(f"criterion-{index}-hard") == "on",
                    "weight": weight,
                }
            )
        index += 1
    return rows


def _offer_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": _text(form, "title"),
        "domain": _text(form, "domain"),
        "subtypes": [value for value in form.getlist("subtypes") if value],
        "description": _optional(form, "description"),
        "procedure": _optional(form, "procedure"),
        "requires_cp_validation": form.get("requires_cp_validation") == "on",
        "valid_from": _optional(form, "valid_from"),
        "valid_until": _optional(form, "valid_until"),
        "shared_categories": [value for value in form.getlist("shared_categories") if value],
        "documents_required": [
            line.strip() for line in _text(form, "documents_required").splitlines() if line.strip()
        ],
        "tags": [tag.strip() for tag in _text(form, "tags").split(",") if tag.strip()],
        "criteria": _criteria_rows(form),
    }
    for name in ("capacity", "answer_delay_days"):
        raw = _text(form, name)
        payload[name] = _number(raw) if raw else None
        if payload[name] is None:
            del payload[name]
    return payload


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _offer_values(offer: Any) -> dict[str, Any]:
    state = services.offer_state(offer)
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
        "version": offer.version,
        "partner_id": offer.partner_id,
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


def _render_offer_form(
    *,
    partner: Any,
    offer: Any = None,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> str:
    session, user = db_session(), current_user()
    all_domains = reference.domains(session)
    domains = [d for d in all_domains if user.role is not Role.CP or d.code in user.domain_codes]
    rows = 0
    while f"criterion-{rows}-field" in values:
        rows += 1
    return render_template(
        "partners/offer_form.html",
        partner=partner,
        offer=offer,
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
def create_offer() -> Any:
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
        return _render_offer_form(partner=found, values=defaults)
    try:
        payload = _load(
            schemas.OpportunityInSchema(), {"partner_id": found.id, **_offer_payload(request.form)}
        )
        offer = services.create_opportunity(session, user, payload)
    except DomainError as refusal:
        return _render_offer_form(
            partner=found, values=request.form, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash("Opportunité enregistrée en brouillon : publiez-la pour que les CIP la voient.", "success")
    return redirect(url_for("partner_pages.offer", opportunity_id=offer.id))


def _render_offer(opportunity_id: int, *, message: str | None = None) -> str:
    session, user = db_session(), current_user()
    found = services.get_opportunity(session, user, opportunity_id)
    return render_template(
        "partners/offer.html",
        offer=found,
        history=services.opportunity_history(session, user, found.id),
        actions=services.allowed_offer_actions(found) if user.role in (Role.CP, Role.ADMIN) else [],
        may_build=user.role in (Role.CP, Role.ADMIN) and found.status is not OpportunityStatus.CLOSED,
        describe=partial(services.describe_criterion, labels=services.criterion_labels(session)),
        domains={domain.code: domain.label for domain in reference.domains(session)},
        message=message,
    )


@bp.get("/opportunites/<int:opportunity_id>")
@login_required
def offer(opportunity_id: int) -> str:
    return _render_offer(opportunity_id)


@bp.route("/opportunites/<int:opportunity_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_offer(opportunity_id: int) -> Any:
    session, user = db_session(), current_user()
    found = services.get_opportunity(session, user, opportunity_id)
    if request.method == "GET":
        return _render_offer_form(partner=found.partner, offer=found, values=_offer_values(found))
    try:
        version = request.form.get("version", type=int)
        payload = _load(
            schemas.OpportunityPatchSchema(), {"version": version, **_offer_payload(request.form)}
        )
        services.update_opportunity(session, user, found.id, payload, version=payload.pop("version"))
    except DomainError as refusal:
        return _render_offer_form(
            partner=found.partner,
            offer=found,
            values=request.form,
            errors=refusal.errors,
            message=refusal.message,
        ), refusal.status
    flash("Opportunité mise à jour.", "success")
    return redirect(url_for("partner_pages.offer", opportunity_id=found.id))


@bp.post("/opportunites/<int:opportunity_id>/<any(publish, pause, close):action>")
@login_required
def transition_offer(opportunity_id: int, action: str) -> Any:
    try:
        offer = services.transition_opportunity(
            db_session(),
            current_user(),
            opportunity_id,
            action,
            version=request.form.get("version", type=int),
        )
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return _render_offer(opportunity_id, message=refusal.message), refusal.status
    flash(f"Opportunité « {offer.title} » : {offer.status.label.lower()}.", "success")
    return redirect(url_for("partner_pages.offer", opportunity_id=offer.id))


# =============================================================================================
# Mutualisation meetings
# =============================================================================================


@bp.route("/reunions", methods=["GET", "POST"])
@login_required
def meetings() -> Any:
    session, user = db_session(), current_user()
    slug = _territory_slug()
    if slug is None:
        return _choose_territory("Réunions de mutualisation", "partner_pages.meetings")
    errors: dict[str, list[str]] = {}
    message = None
    status = 200
    if request.method == "POST":
        form = request.form
        payload = {
            "title": _text(form, "title"),
            "held_at": _text(form, "held_at"),
            "place": _optional(form, "place"),
            "other_attendees": _optional(form, "other_attendees"),
            "attendee_ids": ids_in(form.getlist("attendee_ids")),
        }
        try:
            meeting = services.create_meeting(
                session, user, slug, _load(meeting_schemas.MeetingInSchema(), payload)
            )
        except DomainError as refusal:
            errors, message, status = refusal.errors, refusal.message, refusal.status
        else:
            flash("Réunion programmée : son ordre du jour a été construit.", "success")
            return redirect(url_for("partner_pages.meeting", meeting_id=meeting.id))
    return render_template(
        "partners/meetings.html",
        meetings=services.list_meetings(session, user, slug),
        members=services.territory_members(session, user, slug),
        values=request.form if request.method == "POST" else {"title": "Réunion de mutualisation"},
        selected=set(request.form.getlist("attendee_ids")) if request.method == "POST" else {str(user.id)},
        errors=errors,
        message=message,
        may_prepare=user.role is Role.CP,
        slug=slug,
    ), status


def _render_meeting(
    meeting_id: int, *, errors: Mapping[str, list[str]] | None = None, message: str | None = None
) -> str:
    session, user = db_session(), current_user()
    agenda = services.meeting_agenda(session, user, meeting_id)
    return render_template(
        "partners/meeting.html",
        agenda=agenda,
        meeting=agenda.meeting,
        may_prepare=user.role is Role.CP and user.territory_id == agenda.meeting.territory_id,
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
    agenda = services.meeting_agenda(db_session(), current_user(), meeting_id)
    return render_template("partners/meeting_print.html", agenda=agenda, meeting=agenda.meeting)


def _meeting_action(meeting_id: int, action: Any, done: str) -> Any:
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
        payload = {"title": _text(request.form, "title"), "body": _optional(request.form, "body")}
        services.add_agenda_item(
            db_session(), current_user(), meeting_id, _load(meeting_schemas.AgendaItemInSchema(), payload)
        )

    return _meeting_action(meeting_id, act, "Point ajouté à l'ordre du jour.")


@bp.post("/reunions/<int:meeting_id>/ordre-du-jour")
@login_required
def rebuild_agenda(meeting_id: int) -> Any:
    return _meeting_action(
        meeting_id,
        lambda: services.rebuild_agenda(db_session(), current_user(), meeting_id),
        "Ordre du jour mis à jour avec les derniers changements du réseau.",
    )


@bp.post("/reunions/<int:meeting_id>/compte-rendu")
@login_required
def record_minutes(meeting_id: int) -> Any:
    def act() -> None:
        payload = _load(meeting_schemas.MeetingPatchSchema(), {"minutes": _optional(request.form, "minutes")})
        services.update_meeting(db_session(), current_user(), meeting_id, payload)

    return _meeting_action(meeting_id, act, "Compte rendu enregistré.")


# =============================================================================================
# Office hours
# =============================================================================================


def _render_office_hours(
    slug: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    message: str | None = None,
    form: str | None = None,
) -> str:
    session, user = db_session(), current_user()
    participants = cases.list_participants(session, user) if user.role is Role.CIP else []
    return render_template(
        "partners/office_hours.html",
        slots=services.list_office_hours(
            session, user, slug, upcoming_only=request.args.get("passes") != "1"
        ),
        participants=participants,
        errors=errors or {},
        message=message,
        failed_form=form,
        values=request.form if request.method == "POST" else {"duration": "45"},
        show_past=request.args.get("passes") == "1",
        is_cp=user.role is Role.CP,
        is_cip=user.role is Role.CIP,
        now=datetime.now(PARIS),
    )


@bp.route("/permanences", methods=["GET", "POST"])
@login_required
def office_hours() -> Any:
    slug = _territory_slug()
    if slug is None:
        return _choose_territory("Permanences", "partner_pages.office_hours")
    if request.method == "GET":
        return _render_office_hours(slug)
    form = request.form
    try:
        loaded = _load(
            meeting_schemas.OfficeHourFormSchema(),
            {
                "starts_at": _text(form, "starts_at"),
                "duration": _number(_text(form, "duration") or "0"),
                "place": _optional(form, "place"),
            },
        )
        duration = loaded.pop("duration")
        loaded["ends_at"] = loaded["starts_at"] + timedelta(minutes=duration)
        services.publish_office_hour(db_session(), current_user(), loaded)
    except DomainError as refusal:
        return _render_office_hours(
            slug, errors=refusal.errors, message=refusal.message, form="publish"
        ), refusal.status
    flash("Créneau de permanence proposé aux CIP du territoire.", "success")
    return redirect(url_for("partner_pages.office_hours"))


def _slot_action(slot_id: int, form_name: str, action: Any, done: str) -> Any:
    slug = _territory_slug() or ""
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
        participant = request.form.get("participant_id", type=int)
        payload = {"participant_id": participant, "topic": _optional(request.form, "topic")}
        services.book_office_hour(
            db_session(), current_user(), slot_id, _load(meeting_schemas.BookingInSchema(), payload)
        )

    return _slot_action(slot_id, "book", act, "Créneau réservé.")


@bp.post("/permanences/<int:slot_id>/annulation")
@login_required
def cancel_office_hour(slot_id: int) -> Any:
    return _slot_action(
        slot_id,
        "cancel",
        lambda: services.cancel_office_hour_booking(db_session(), current_user(), slot_id),
        "Réservation annulée : le créneau est de nouveau libre.",
    )


@bp.post("/permanences/<int:slot_id>/retrait")
@login_required
def withdraw_office_hour(slot_id: int) -> Any:
    return _slot_action(
        slot_id,
        "withdraw",
        lambda: services.withdraw_office_hour(db_session(), current_user(), slot_id),
        "Créneau retiré.",
    )


@bp.post("/permanences/<int:slot_id>/notes")
@login_required
def office_hour_notes(slot_id: int) -> Any:
    return _slot_action(
        slot_id,
        "notes",
        lambda: services.record_office_hour_notes(
            db_session(), current_user(), slot_id, _optional(request.form, "notes")
        ),
        "Notes enregistrées.",
    )


# =============================================================================================
# Workshops
# =============================================================================================


def _workshop_payload(form: MultiDict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "held_on": _text(form, "held_on"),
        "theme": _text(form, "theme"),
        "audience": _text(form, "audience"),
        "domain": _optional(form, "domain"),
        "notes": _optional(form, "notes"),
    }
    count = _text(form, "attendance_count")
    payload["attendance_count"] = _number(count) if count else None
    return payload


def _render_workshops(
    slug: str, *, errors: Mapping[str, list[str]] | None = None, message: str | None = None
) -> str:
    session, user = db_session(), current_user()
    domains = [
        d for d in reference.domains(session) if user.role is not Role.CP or d.code in user.domain_codes
    ]
    return render_template(
        "partners/workshops.html",
        workshops=services.list_workshops(session, user, slug),
        audiences=reference.codes(session, "workshop_audience"),
        audience_labels=reference.labels(session, "workshop_audience"),
        domains=domains,
        domain_labels={domain.code: domain.label for domain in reference.domains(session)},
        errors=errors or {},
        message=message,
        values=request.form if request.method == "POST" else {},
        is_cp=user.role is Role.CP,
    )


@bp.route("/ateliers", methods=["GET", "POST"])
@login_required
def workshops() -> Any:
    slug = _territory_slug()
    if slug is None:
        return _choose_territory("Ateliers collectifs", "partner_pages.workshops")
    if request.method == "GET":
        return _render_workshops(slug)
    try:
        payload = _load(meeting_schemas.WorkshopInSchema(), _workshop_payload(request.form))
        services.create_workshop(db_session(), current_user(), payload)
    except DomainError as refusal:
        return _render_workshops(slug, errors=refusal.errors, message=refusal.message), refusal.status
    flash("Atelier enregistré.", "success")
    return redirect(url_for("partner_pages.workshops"))


@bp.post("/ateliers/<int:workshop_id>")
@login_required
def update_workshop(workshop_id: int) -> Any:
    slug = _territory_slug() or ""
    count = _text(request.form, "attendance_count")
    try:
        payload = _load(
            meeting_schemas.WorkshopPatchSchema(),
            {
                "attendance_count": _number(count) if count else None,
                "notes": _optional(request.form, "notes"),
            },
        )
        services.update_workshop(db_session(), current_user(), workshop_id, payload)
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        errors = {f"{key}-{workshop_id}": value for key, value in refusal.errors.items()}
        return _render_workshops(slug, errors=errors, message=refusal.message), refusal.status
    flash("Atelier mis à jour.", "success")
    return redirect(url_for("partner_pages.workshops"))
