"""Signing in with a password, then a second factor when the account has one.

After the right password, an account with two-factor on is not signed in yet: the session only
remembers, for 10 minutes, which account passed the first step (and its session generation, so
a password change in between ends it); the code page then signs it in. An account for which
two-factor is required (`two_factor.required_for`) but not set up yet is signed in and sent to
set it up: every other page redirects there until it is done.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from referral.db import utcnow
from referral.territories import two_factor
from referral.territories.models import User
from referral.web.auth import log_in
from referral.web.request_session import db_session

PENDING_KEY = "pending_second_factor"
VIA_KEY = "signed_in_via"
PENDING_LIFETIME_SECONDS = 600
# What an account that must set up two-factor may still open.
ALLOWED_DURING_SETUP = frozenset(
    {"account_pages.two_factor_setup", "pages.logout", "static", "bootstrap.static", "health.healthz"}
)


def policy() -> str:
    return str(current_app.config.get("TWO_FACTOR", "national"))


def sign_in_with_password(user: User, next_url: str | None) -> Response:
    """The response to a right password: signed in, or on to the code page."""
    if two_factor.enabled(user):
        session.clear()
        session[PENDING_KEY] = {
            "user_id": user.id,
            "generation": user.session_generation or 0,
            "at": int(utcnow().timestamp()),
            "next": next_url or "",
        }
        return redirect(url_for("account_pages.two_factor_code"))
    log_in(user)
    session[VIA_KEY] = "password"
    return redirect(next_url or url_for("pages.home"))


def pending_user() -> tuple[User, str] | None:
    """The account waiting for its code in this session (and where to go next), if still valid."""
    pending: Any = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        user_id, generation, at = int(pending["user_id"]), int(pending["generation"]), int(pending["at"])
    except (KeyError, TypeError, ValueError):
        session.pop(PENDING_KEY, None)
        return None
    if utcnow().timestamp() - at > PENDING_LIFETIME_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db_session().get(User, user_id)
    if user is None or not user.is_active or (user.session_generation or 0) != generation:
        session.pop(PENDING_KEY, None)
        return None
    return user, str(pending.get("next") or "")


def require_setup() -> Response | None:
    """Send an account that must have two-factor, signed in with a password, to set it up."""
    user: User | None = g.get("user")
    if user is None or request.path.startswith("/api/") or request.endpoint in ALLOWED_DURING_SETUP:
        return None
    if session.get(VIA_KEY) == "proconnect":
        return None  # ProConnect applies its own second factor
    if two_factor.required_for(user, policy()) and not two_factor.enabled(user):
        flash(
            "La double authentification est obligatoire pour votre rôle : activez-la pour continuer.",
            "warning",
        )
        return redirect(url_for("account_pages.two_factor_setup"))
    return None


def init_app(app: Flask) -> None:
    app.before_request(require_setup)  # after auth.load_user, which sets g.user
