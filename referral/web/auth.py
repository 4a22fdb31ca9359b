"""Who is making the request: the session cookie for pages, a bearer token for API clients.

`load_user` runs before every request and sets ``g.user`` (or None) and the audit actor of the
request's database session. Views require a user with `login_required` (pages: redirect to the
login page; API: 401 problem+json). What a user may do is decided by the services, not here.

A page session is a signed cookie: it cannot be recalled, so the server decides on every request
whether it still holds. It carries the user's session generation at login (logout, a password
change or a deactivation raises the user's, ending every copy of every cookie at once), the login
time (10 hours at most, `PERMANENT_SESSION_LIFETIME`) and the last request's time (2 hours idle
at most, `SESSION_IDLE_LIFETIME`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from referral.audit.services import Actor, set_actor
from referral.db import utcnow
from referral.exceptions import PermissionDenied, Unauthenticated
from referral.territories.models import User
from referral.territories.services import user_for_token
from referral.web.request_session import db_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_USER_KEY = "user_id"
SESSION_GENERATION_KEY = "generation"
SESSION_LOGIN_KEY = "login_at"
SESSION_SEEN_KEY = "seen_at"

View = TypeVar("View", bound=Callable[..., Any])


def client_address() -> str:
    # Behind reverse proxies, REFERRAL_TRUSTED_PROXY_HOPS makes this the client's address
    # (werkzeug's ProxyFix, see create_app); with 0, X-Forwarded-For is ignored (anyone can send it).
    return (request.remote_addr or "inconnue")[:45]


def current_user() -> User:
    user: User | None = g.get("user")
    if user is None:
        raise Unauthenticated("Veuillez vous connecter.")
    return user


def log_in(user: User) -> None:
    session.clear()  # a new session on login: no fixation of an earlier one
    now = int(utcnow().timestamp())
    session[SESSION_USER_KEY] = user.id
    session[SESSION_GENERATION_KEY] = user.session_generation or 0
    session[SESSION_LOGIN_KEY] = now
    session[SESSION_SEEN_KEY] = now
    session.permanent = True


def log_out() -> None:
    session.clear()


def _session_user() -> User | None:
    """The user of this page session if it still holds; otherwise clear it and say None."""
    now = utcnow().timestamp()
    try:
        user_id = int(session[SESSION_USER_KEY])
        generation = int(session[SESSION_GENERATION_KEY])
        login_at = float(session[SESSION_LOGIN_KEY])
        seen_at = float(session[SESSION_SEEN_KEY])
    except (KeyError, TypeError, ValueError):
        session.clear()  # a cookie from before sessions were checked, or altered
        return None
    config = current_app.config
    if (
        now - login_at > config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        or now - seen_at > config["SESSION_IDLE_LIFETIME"].total_seconds()
    ):
        session.clear()
        return None
    user = db_session().get(User, user_id)
    if user is None or not user.is_active or user.session_generation != generation:
        session.clear()
        return None
    session[SESSION_SEEN_KEY] = int(now)
    return user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def load_user() -> None:
    g.user = None
    if request.endpoint == "static":
        return
    is_api = request.path.startswith("/api/")
    token = bearer_token() if is_api else None
    user: User | None = None
    if token is not None:
        user = user_for_token(db_session(), token)  # raises 401 for a bad token
    elif SESSION_USER_KEY in session:
        user = _session_user()
        if user is not None and is_api and request.method not in SAFE_METHODS:
            # The API accepts the page session for writes only with the page's CSRF token.
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except ValidationError:
                raise PermissionDenied("Jeton CSRF manquant ou invalide.") from None
    g.user = user
    set_actor(
        db_session(),
        Actor(
            user_id=user.id if user else None,
            email=user.email if user else None,
            role=user.role.value if user else None,
            remote_addr=client_address(),
        ),
    )


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if request.path.startswith("/api/"):
                raise Unauthenticated("Authentification requise : jeton « Bearer » ou session.")
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.before_request(load_user)
