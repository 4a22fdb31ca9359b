"""Server-rendered pages in French: login, logout, and each role's home page.

Views parse input, call one service, render. What each role sees is decided by the services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from referral.cases import services as cases
from referral.exceptions import DomainError
from referral.partners import services as partners
from referral.referrals import services as referrals
from referral.scheduling import services as tasks
from referral.territories import queries as territory_queries
from referral.territories.models import Role
from referral.territories.services import authenticate, territories_overview, territory_overview
from referral.web.auth import client_address, current_user, log_in, log_out, login_required
from referral.web.request_session import db_session, keep_on_error
from referral.web.schemas.forms import LoginFormSchema

pages = Blueprint("pages", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.home")


@pages.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("pages.home"))
        return render_template("login.html", email="", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    try:
        form = LoginFormSchema().load(request.form.to_dict())
    except ValidationError as error:
        return render_template(
            "login.html", email=email, next=request.form.get("next", ""), errors=error.messages
        ), 422
    keep_on_error()  # a refused attempt is recorded: it counts towards the limit
    try:
        user = authenticate(
            db_session(), email=form["email"], password=form["password"], remote_addr=client_address()
        )
    except DomainError as refusal:
        return render_template(
            "login.html", email=form["email"], next=form.get("next", ""), message=refusal.message
        ), refusal.status
    log_in(user)
    return redirect(_safe_next(form.get("next")))


@pages.post("/deconnexion")
def logout() -> Response:
    log_out()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("pages.login"))


@pages.get("/")
@login_required
def home() -> str:
    session = db_session()
    user = current_user()
    context: dict[str, Any] = {
        "tasks": tasks.tasks_of(session, user),
        "notifications": tasks.notifications_of(session, user, unread_only=True),
    }
    if user.role is Role.CIP:
        context["participants"] = cases.list_participants(session, user)
        context["to_act_on"] = referrals.list_referrals(session, user, states=referrals.CIP_TO_ACT_ON)
    elif user.role is Role.CP:
        context["opportunities"] = partners.list_opportunities(session, user)
        context["to_validate"] = referrals.list_referrals(session, user, states=referrals.CP_TO_ACT_ON)
        context["waiting_on_partner"] = referrals.list_referrals(
            session, user, states=referrals.CP_WAITING_ON_PARTNER
        )
    elif user.role is Role.COORDINATOR:
        context["overview"] = territory_overview(session, user.territory_id)
    else:
        territories = territory_queries.territories(session)
        figures = territories_overview(session, [territory.id for territory in territories])
        context["territories"] = [(territory, figures[territory.id]) for territory in territories]
    return render_template(f"home/{user.role.value}.html", **context)
