"""The application factory: the only place that wires the service together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from referral.config import (
    INSTANCE_PATH,
    ConfigurationError,
    account_settings,
    config_class,
    default_database_url,
    environment_settings,
    instance_secret_key,
    production_problems,
)
from referral.db import Database
from referral.web.json_provider import FastJSONProvider

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Every asset is served by the application itself: nothing from elsewhere may load.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
    ),
}


# Browsers must come back over HTTPS only, for a year (production, which is served over HTTPS).
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(response: Response) -> Response:
    """Headers every answer carries; personal data is never kept by a browser or proxy cache.

    Every answer to a signed-in person and every API answer may carry personal data (a record,
    a dossier, a list of names): ``no-store``. Static assets are the same for everyone.
    """
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    if current_app.config.get("PRODUCTION"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    static = (request.endpoint or "").rpartition(".")[2] == "static"  # ours and Bootstrap-Flask's
    if not static and (g.get("user") is not None or request.path.startswith("/api/")):
        response.headers["Cache-Control"] = "no-store"
    return response


def options(items: Any) -> list[tuple[str, str]]:
    """``(value, label)`` pairs for a <select>: reference codes, domains or labelled enums."""
    return [(getattr(item, "code", None) or item.value, item.label) for item in items]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    `config` overrides the class chosen by ``REFERRAL_ENV`` and the environment; tests pass
    ``DATABASE`` (an open `Database`) so the application runs inside the test's transaction.
    Raises `ConfigurationError` (French, saying what to set) when production would start unsafe.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=False)
    app.json = FastJSONProvider(app)
    app.config.from_object(config_class())
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)  # no CDN: Bootstrap-Flask serves its copy
    app.config.from_mapping(environment_settings())
    app.config.from_mapping(account_settings())
    if config:
        app.config.from_mapping(config)
    if app.config["PRODUCTION"] and (problems := production_problems(app.config)):
        raise ConfigurationError(
            "Démarrage refusé (REFERRAL_ENV=production) :\n" + "\n".join(f"- {p}" for p in problems)
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key()
    if app.config["TRUSTED_PROXY_HOPS"]:
        # Only the hops we run are trusted: the client's address is the one the outermost of
        # our proxies saw, not whatever a client writes in X-Forwarded-For.
        hops = int(app.config["TRUSTED_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    database = app.config.get("DATABASE")
    if database is None:
        url = app.config.get("DATABASE_URL") or default_database_url()
        app.config["DATABASE_URL"] = url
        database = Database.from_url(url)
    app.extensions["referral.database"] = database

    from referral import hooks
    from referral.web import (
        api,
        auth,
        errors,
        filters,
        limits,
        proconnect,
        request_id,
        request_session,
        two_factor,
    )
    from referral.web.navigation import navigation
    from referral.web.views import blueprints as page_blueprints
    from referral.web.views.home import pages

    hooks.install()
    request_id.init_app(app)  # first: every response carries one, whatever happens after
    # After-request functions run last-registered first: the headers go on every answer,
    # including the 409 the request's commit may turn into.
    app.after_request(security_headers)
    request_session.init_app(app)
    limits.init_app(app)  # the bounded ``int`` converter before any route; its guards before auth
    auth.init_app(app)
    two_factor.init_app(app)  # after auth: it reads the signed-in user
    Bootstrap5(app)
    csrf = CSRFProtect(app)
    app.register_blueprint(pages)
    for blueprint in page_blueprints():
        app.register_blueprint(blueprint)
    proconnect.init_app(app)
    api.init_app(app, csrf)
    errors.init_app(app)
    app.add_template_global(navigation, "navigation")
    app.add_template_filter(options, "options")
    filters.init_app(app)
    return app
