"""Accounts people manage themselves (issue 19): « Comptes » (people and invitations of one's
scope), the invitation and reset links, « Mot de passe oublié », « Mon compte » with two-factor,
the code page of two-factor sign-in, and the national team's new territories and structures.

Views load the form, call one service, redirect; who may do what is the services' rule
(`referral.territories.invitations`, `accounts`, `creation`). Link tokens travel in the query
string (``?jeton=``), which the request log never writes, and then in the form's hidden field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from referral.cases import leavers
from referral.db import utcnow
from referral.exceptions import DomainError, NotFound, PermissionDenied
from referral.reference import queries as reference
from referral.territories import accounts, creation, invitations, two_factor
from referral.territories import queries as territory_queries
from referral.territories.models import Role, User
from referral.web import account_mail
from referral.web import two_factor as two_factor_web
from referral.web.account_mail import RESET_SENT
from referral.web.auth import client_address, current_user, log_in, login_required
from referral.web.forms import load_form
from referral.web.request_session import db_session, keep_on_error
from referral.web.schemas.accounts import (
    DeactivationSchema,
    InvitationRequestSchema,
    LinkPasswordSchema,
    PasswordChangeSchema,
    ResetRequestSchema,
    StructureCreateSchema,
    TerritoryCreateSchema,
    TwoFactorCodeSchema,
)

bp = Blueprint("account_pages", __name__)

# The secret being set up waits in the session until a first code proves the app holds it: the
# cookie is signed, not encrypted, but it only ever travels to the person who is shown the secret.
SETUP_SECRET_KEY = "two_factor_setup_secret"


def _values() -> dict[str, Any]:
    return {key: value for key, value in request.form.items() if key not in ("password", "current_password")}


# --- « Comptes »: people and invitations -------------------------------------------------------


def _invite_choices(user: User) -> dict[str, Any]:
    """What the invitation form offers `user` (the service refuses anything else anyway)."""
    session = db_session()
    if user.role is Role.ADMIN:
        roles = list(Role)
        structures = territory_queries.structures(session)
        territories = territory_queries.territories(session)
    elif user.role is Role.COORDINATOR:
        roles = [Role.CIP, Role.CP]
        structures = territory_queries.structures(session, territory_id=user.territory_id)
        territories = [user.territory] if user.territory else []
    else:
        roles = [Role.CIP]
        structures = [user.structure] if user.structure else []
        territories = []
    return {
        "roles": roles,
        "structures": structures,
        "territories": territories,
        "domains": reference.domains(session) if Role.CP in roles else [],
    }


def _render_index(status: int = 200, *, values: dict[str, Any] | None = None, **context: Any) -> Any:
    user = current_user()
    if not invitations.may_invite(user):
        raise PermissionDenied("Votre rôle ne permet pas de gérer des comptes.")
    session = db_session()
    now = utcnow()
    page = request.args.get("page", 1, type=int) or 1
    page = min(max(page, 1), 10_000)
    people = accounts.accounts_of(session, user, page=page)
    sent = invitations.invitations_of(session, user, page=page)
    shown = [person.id for person in people[: accounts.PAGE_SIZE]]
    unused = {account.id for account in accounts.unused_accounts(session, now=now, among=shown)}
    html = render_template(
        "accounts/index.html",
        people=people[: accounts.PAGE_SIZE],
        unused=unused,
        invitations=sent[: invitations.PAGE_SIZE],
        page=page,
        more=len(people) > accounts.PAGE_SIZE or len(sent) > invitations.PAGE_SIZE,
        now=now,
        values=values or {},
        **_invite_choices(user),
        **context,
    )
    return html, status


@bp.get("/comptes")
@login_required
def index() -> Any:
    return _render_index()


@bp.post("/comptes/invitations")
@login_required
def invite() -> Any:
    user = current_user()
    session = db_session()
    try:
        form = load_form(InvitationRequestSchema(), request.form)
        invitation, token = invitations.invite(
            session,
            user,
            email=form["email"],
            full_name=form["full_name"],
            role=form["role"],
            structure_id=form["structure_id"],
            territory_slug=form["territory"],
            domains=form["domains"],
        )
    except DomainError as refusal:
        return _render_index(refusal.status, values=_values(), errors=refusal.errors, message=refusal.message)
    if account_mail.send_invitation(session, invitation, token, user):
        flash(f"Invitation envoyée à {invitation.email}.", "success")
    else:
        flash(
            "L'envoi d'e-mails n'est pas configuré : transmettez vous-même ce lien à "
            f"{invitation.email} (valable 7 jours, une seule fois) : {account_mail.invitation_link(token)}",
            "warning",
        )
    return redirect(url_for("account_pages.index"))


@bp.post("/comptes/invitations/<int:invitation_id>/renvoyer")
@login_required
def resend_invitation(invitation_id: int) -> Response:
    user = current_user()
    session = db_session()
    invitation, token = invitations.resend(session, user, invitation_id)
    if account_mail.send_invitation(session, invitation, token, user):
        flash(f"Invitation renvoyée à {invitation.email} : le lien précédent ne fonctionne plus.", "success")
    else:
        flash(f"Nouveau lien pour {invitation.email} : {account_mail.invitation_link(token)}", "warning")
    return redirect(url_for("account_pages.index"))


@bp.post("/comptes/invitations/<int:invitation_id>/annuler")
@login_required
def cancel_invitation(invitation_id: int) -> Response:
    invitation = invitations.cancel(db_session(), current_user(), invitation_id)
    flash(f"Invitation de {invitation.email} annulée : son lien ne fonctionne plus.", "success")
    return redirect(url_for("account_pages.index"))


@bp.route("/comptes/<int:user_id>/fermer", methods=["GET", "POST"])
@login_required
def close_account(user_id: int) -> Any:
    actor = current_user()
    session = db_session()
    account = accounts.managed_account(session, actor, user_id)
    records, tasks = leavers.work_of(session, account)
    context = {
        "account": account,
        "colleagues": leavers.colleagues(session, account),
        "records": len(records),
        "tasks": len(tasks),
    }
    if request.method == "GET":
        return render_template("accounts/close.html", values={}, **context)
    try:
        form = load_form(DeactivationSchema(), request.form)
        handover = leavers.close_leaver_account(session, actor, account, hand_to_id=form["hand_to"])
    except DomainError as refusal:
        return render_template(
            "accounts/close.html", values=_values(), errors=refusal.errors, message=refusal.message, **context
        ), refusal.status
    message = f"Compte de {account.full_name} fermé : ses sessions et ses jetons ne fonctionnent plus."
    if handover.to_user_id is not None:
        message += f" {handover.records} dossier(s) et {handover.tasks} tâche(s) confiés."
    flash(message, "success")
    return redirect(url_for("account_pages.index"))


@bp.post("/comptes/<int:user_id>/rouvrir")
@login_required
def reopen_account(user_id: int) -> Response:
    session = db_session()
    account = accounts.managed_account(session, current_user(), user_id)
    accounts.reactivate(session, current_user(), account)
    flash(f"Compte de {account.full_name} rouvert.", "success")
    return redirect(url_for("account_pages.index"))


# --- Links from e-mails (no session needed) ---------------------------------------------------


@bp.route("/invitation", methods=["GET", "POST"])
def accept_invitation() -> Any:
    session = db_session()
    if request.method == "GET":
        token = request.args.get("jeton", "")
        invitation = invitations.pending_for_token(session, token)
        return render_template("accounts/accept.html", invitation=invitation, token=token)
    token = request.form.get("token", "")
    invitation = invitations.pending_for_token(session, token)
    try:
        form = load_form(LinkPasswordSchema(), request.form)
        user = invitations.accept(session, form["token"], password=form["password"])
    except DomainError as refusal:
        if refusal.status == 410:
            raise
        return render_template(
            "accounts/accept.html",
            invitation=invitation,
            token=token,
            errors=refusal.errors,
            message=refusal.message,
        ), refusal.status
    flash(f"Votre compte est ouvert. Connectez-vous avec {user.email} et le mot de passe choisi.", "success")
    return redirect(url_for("pages.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgotten_password() -> Any:
    if request.method == "GET":
        return render_template("accounts/forgotten.html", values={})
    session = db_session()
    try:
        form = load_form(ResetRequestSchema(), request.form)
    except DomainError as refusal:
        return render_template(
            "accounts/forgotten.html", values=_values(), errors=refusal.errors, message=refusal.message
        ), refusal.status
    found = accounts.request_reset(session, form["email"])
    if found is not None:
        account_mail.send_reset(session, *found)
    # The same page whether or not an account has this address.
    return render_template("accounts/forgotten.html", values={}, sent=RESET_SENT)


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def reset_password() -> Any:
    session = db_session()
    if request.method == "GET":
        token = request.args.get("jeton", "")
        accounts.reset_for_token(session, token)
        return render_template("accounts/reset.html", token=token)
    token = request.form.get("token", "")
    accounts.reset_for_token(session, token)
    try:
        form = load_form(LinkPasswordSchema(), request.form)
        user = accounts.reset_password(session, form["token"], password=form["password"])
    except DomainError as refusal:
        if refusal.status == 410:
            raise
        return render_template(
            "accounts/reset.html", token=token, errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash(
        f"Mot de passe changé pour {user.email} : connectez-vous. "
        "Toutes les sessions ouvertes ont été fermées.",
        "success",
    )
    return redirect(url_for("pages.login"))


# --- « Mon compte » --------------------------------------------------------------------------


def _render_my_account(status: int = 200, **context: Any) -> Any:
    user = current_user()
    session = db_session()
    return render_template(
        "accounts/mine.html",
        tokens=accounts.tokens_of(session, user),
        two_factor_on=two_factor.enabled(user),
        two_factor_required=two_factor.required_for(user, two_factor_web.policy()),
        recovery_left=two_factor.remaining_recovery_codes(session, user),
        **context,
    ), status


@bp.get("/mon-compte")
@login_required
def my_account() -> Any:
    return _render_my_account()


@bp.post("/mon-compte/mot-de-passe")
@login_required
def change_password() -> Any:
    user = current_user()
    try:
        form = load_form(PasswordChangeSchema(), request.form)
        accounts.change_own_password(
            db_session(), user, current=form["current_password"], password=form["password"]
        )
    except DomainError as refusal:
        return _render_my_account(refusal.status, errors=refusal.errors, message=refusal.message)
    via = session.get(two_factor_web.VIA_KEY)
    log_in(user)  # every session ended with the change; this one goes on
    if via:
        session[two_factor_web.VIA_KEY] = via
    flash("Mot de passe changé. Vos autres sessions ont été fermées.", "success")
    return redirect(url_for("account_pages.my_account"))


@bp.post("/mon-compte/jetons/<int:token_id>/revoquer")
@login_required
def revoke_token(token_id: int) -> Response:
    row = accounts.revoke_own_token(db_session(), current_user(), token_id)
    flash(f"Jeton « {row.name or 'sans nom'} » révoqué.", "success")
    return redirect(url_for("account_pages.my_account"))


@bp.route("/mon-compte/double-authentification", methods=["GET", "POST"])
@login_required
def two_factor_setup() -> Any:
    user = current_user()
    if two_factor.enabled(user):
        return redirect(url_for("account_pages.my_account"))
    secret = session.get(SETUP_SECRET_KEY)
    if request.method == "GET" or not isinstance(secret, str):
        secret = two_factor.new_secret()
        session[SETUP_SECRET_KEY] = secret
        return render_template(
            "accounts/two_factor_setup.html", secret=secret, uri=two_factor.provisioning_uri(user, secret)
        )
    try:
        form = load_form(TwoFactorCodeSchema(), request.form)
        codes = two_factor.enable(db_session(), user, secret=secret, code=form["code"])
    except DomainError as refusal:
        return render_template(
            "accounts/two_factor_setup.html",
            secret=secret,
            uri=two_factor.provisioning_uri(user, secret),
            errors=refusal.errors,
            message=refusal.message,
        ), refusal.status
    session.pop(SETUP_SECRET_KEY, None)
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.post("/mon-compte/double-authentification/desactiver")
@login_required
def two_factor_disable() -> Any:
    user = current_user()
    try:
        two_factor.disable(
            db_session(), user, password=request.form.get("password", ""), policy=two_factor_web.policy()
        )
    except DomainError as refusal:
        return _render_my_account(refusal.status, errors=refusal.errors, message=refusal.message)
    flash("Double authentification désactivée.", "success")
    return redirect(url_for("account_pages.my_account"))


@bp.post("/mon-compte/double-authentification/codes")
@login_required
def two_factor_codes() -> Any:
    codes = two_factor.regenerate_recovery_codes(db_session(), current_user())
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.route("/connexion/code", methods=["GET", "POST"])
def two_factor_code() -> Any:
    pending = two_factor_web.pending_user()
    if pending is None:
        flash("Connectez-vous d'abord avec votre adresse et votre mot de passe.", "warning")
        return redirect(url_for("pages.login"))
    user, next_url = pending
    if request.method == "GET":
        return render_template("accounts/two_factor_code.html")
    keep_on_error()  # a wrong code is recorded: it counts towards the limit
    try:
        form = load_form(TwoFactorCodeSchema(), request.form)
        two_factor.verify(db_session(), user, form["code"], remote_addr=client_address())
    except DomainError as refusal:
        return render_template(
            "accounts/two_factor_code.html", errors=refusal.errors, message=refusal.message
        ), refusal.status
    log_in(user)
    session[two_factor_web.VIA_KEY] = "password"
    return redirect(next_url or url_for("pages.home"))


# --- New territories and structures (national team) -------------------------------------------


@bp.route("/territoires/nouveau", methods=["GET", "POST"])
@login_required
def new_territory() -> Any:
    user = current_user()
    if user.role is not Role.ADMIN:
        raise PermissionDenied("Seule l'équipe nationale crée des territoires et des structures.")
    if request.method == "GET":
        return render_template("accounts/territory_form.html", values={})
    try:
        form = load_form(TerritoryCreateSchema(), request.form)
        territory = creation.create_territory(db_session(), user, **form)
    except DomainError as refusal:
        return render_template(
            "accounts/territory_form.html", values=_values(), errors=refusal.errors, message=refusal.message
        ), refusal.status
    flash(
        f"Territoire « {territory.name} » créé. Ajoutez ses structures, puis invitez sa coordination.",
        "success",
    )
    return redirect(url_for("account_pages.new_structure", slug=territory.slug))


@bp.route("/territoires/<slug>/structures/nouvelle", methods=["GET", "POST"])
@login_required
def new_structure(slug: str) -> Any:
    user = current_user()
    if user.role is not Role.ADMIN:
        raise PermissionDenied("Seule l'équipe nationale crée des territoires et des structures.")
    session = db_session()
    territory = territory_queries.territory_by_slug(session, slug)
    if territory is None:
        raise NotFound(f"Territoire inconnu : « {slug} ».")
    if request.method == "GET":
        return render_template("accounts/structure_form.html", territory=territory, values={})
    try:
        data = request.form.copy()
        data["territory"] = slug
        form = load_form(StructureCreateSchema(), data)
        form.pop("territory")
        structure = creation.create_structure(session, user, territory_id=territory.id, **form)
    except DomainError as refusal:
        return render_template(
            "accounts/structure_form.html",
            territory=territory,
            values=_values(),
            errors=refusal.errors,
            message=refusal.message,
        ), refusal.status
    flash(
        f"Structure « {structure.name} » ({structure.town}) créée dans le territoire {territory.name}.",
        "success",
    )
    return redirect(url_for("account_pages.new_structure", slug=slug))
