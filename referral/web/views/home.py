"""Server-rendered pages in French: login, logout, and each role's home page.

Views parse input, call one service, render. What each role sees is decided by the services.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from referral.cases import listing
from referral.exceptions import DomainError
from referral.paging import FIRST_PAGE
from referral.partners import opportunities
from referral.referrals import services as referrals
from referral.referrals import summaries
from referral.reporting.overview import territories_overview, territory_overview
from referral.tasks import queries as tasks
from referral.territories import queries as territory_queries
from referral.territories.models import Role
from referral.territories.services import authenticate, end_sessions
from referral.web import two_factor
from referral.web.auth import client_address, current_user, log_out, login_required
from referral.web.request_session import db_session, keep_on_error
from referral.web.schemas.forms import LoginFormSchema

pages = Blueprint("pages", __name__)


def _safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: a login link must not send people away.

    Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so
    ``/<tab>/evil.test`` is ``//evil.test``, another site: anything not printable, a backslash,
    a scheme or a host refuses the target (and a line break never reaches a header).
    """
    if not target or not target.startswith("/") or not target.isprintable() or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


@pages.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("pages.home"))
        return render_template("login.html", email="", next=_safe_next(request.args.get("next")) or "")
    email = request.form.get("email", "")
    try:
        form = LoginFormSchema().load(request.form.to_dict())
    except ValidationError as error:
        return render_template(
            "login.html",
            email=email,
            next=_safe_next(request.form.get("next")) or "",
            errors=error.messages,
        ), 422
    keep_on_error()  # a refused attempt is recorded: it counts towards the limit
    try:
        user = authenticate(
            db_session(), email=form["email"], password=form["password"], remote_addr=client_address()
        )
    except DomainError as refusal:
        retry_after = getattr(refusal, "retry_after", None)
        return (
            render_template(
                "login.html",
                email=form["email"],
                next=_safe_next(form.get("next")) or "",
                message=refusal.message,
            ),
            refusal.status,
            {"Retry-After": str(retry_after)} if retry_after else {},
        )
    return two_factor.sign_in_with_password(user, _safe_next(form.get("next")))


@pages.post("/deconnexion")
def logout() -> Response:
    user = g.get("user")
    if user is not None:
        end_sessions(db_session(), user)  # every copy of this session cookie stops working
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
        context["participants"] = listing.participants_page(session, user, FIRST_PAGE)
        context["to_act_on"] = referrals.list_referrals(session, user, states=referrals.CIP_TO_ACT_ON)
    elif user.role is Role.CP:
        # The CP's own domains first; the rest of the territory behind « toutes ».
        everything = opportunities.list_opportunities(session, user)
        own = {domain.code for domain in user.domains}
        context["opportunities"] = [o for o in everything if o.domain_code in own]
        context["other_opportunities"] = [o for o in everything if o.domain_code not in own]
        context["show_all"] = request.args.get("offres") == "toutes"
        context["to_validate"] = referrals.list_referrals(session, user, states=referrals.CP_TO_ACT_ON)
        context["waiting_on_partner"] = referrals.list_referrals(
            session, user, states=referrals.CP_WAITING_ON_PARTNER
        )
        context["summary"] = summaries.summaries(
            session, user, [*context["to_validate"], *context["waiting_on_partner"]]
        )
    elif user.role is Role.COORDINATOR:
        assert user.territory_id is not None  # the users table's CHECK: a coordinator has a territory
        context["overview"] = territory_overview(session, user.territory_id)
    else:
        territories = territory_queries.territories(session)
        figures = territories_overview(session, [territory.id for territory in territories])
        context["territories"] = [(territory, figures[territory.id]) for territory in territories]
    context["waiting_for_me"] = _waiting_for_me(context)
    return render_template(f"home/{user.role.value}.html", **context)


def _waiting_for_me(context: dict[str, Any]) -> list[tuple[str, int, str]]:
    """The referrals waiting for the signed-in person, as lines of « À faire »: (what, how
    many, where on the page). A task list saying « Rien à faire » above referrals to handle
    misled people."""
    lines = []
    if context.get("to_act_on"):
        lines.append(("orientation(s) à traiter", len(context["to_act_on"]), "#a-traiter"))
    if context.get("to_validate"):
        lines.append(("orientation(s) à valider", len(context["to_validate"]), "#a-valider"))
    return lines
