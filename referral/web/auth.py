"""Who is making the request: the session cookie for pages, a bearer token for API clients.

`load_user` runs before every request and sets ``g.user`` (or None) and the audit actor of the
request's database session. Views require a user with `login_required` (pages: redirect to the
login page; API: 401 problem+json). What a user may do is decided by the services, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from referral.audit.services import Actor, set_actor
from referral.exceptions import PermissionDenied, Unauthenticated
from referral.territories.models import User
from referral.territories.services import user_for_token
from referral.web.request_session import db_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_USER_KEY = "user_id"

View = TypeVar("View", bound=Callable[..., Any])


def client_address() -> str:
    # Behind a reverse proxy, configure werkzeug's ProxyFix so this is the client's address.
    return (request.remote_addr or "inconnue")[:45]


def current_user() -> User:
    user: User | None = g.get("user")
    if user is None:
        raise Unauthenticated("Veuillez vous connecter.")
    return user


def log_in(user: User) -> None:
    session.clear()  # a new session on login: no fixation of an earlier one
    session[SESSION_USER_KEY] = user.id
    session.permanent = True


def log_out() -> None:
    session.clear()


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
        candidate = db_session().get(User, session[SESSION_USER_KEY])
        if candidate is None or not candidate.is_active:
            session.clear()
        else:
            user = candidate
            if is_api and request.method not in SAFE_METHODS:
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
