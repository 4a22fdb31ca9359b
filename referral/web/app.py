"""The application factory: the only place that wires the service together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect

from referral.config import INSTANCE_PATH, config_class, default_database_url, instance_secret_key
from referral.db import Database

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Every asset is served by the application itself: nothing from elsewhere may load.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
    ),
}


def options(items: Any) -> list[tuple[str, str]]:
    """``(value, label)`` pairs for a <select>: reference codes, domains or labelled enums."""
    return [(getattr(item, "code", None) or item.value, item.label) for item in items]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    `config` overrides the class chosen by ``REFERRAL_ENV``; tests pass ``DATABASE`` (an open
    `Database`) so the application runs inside the test's transaction.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=False)
    app.config.from_object(config_class())
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)  # no CDN: Bootstrap-Flask serves its copy
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=10))
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key()

    database = app.config.get("DATABASE")
    if database is None:
        url = app.config.get("DATABASE_URL") or default_database_url()
        app.config["DATABASE_URL"] = url
        database = Database.from_url(url)
    app.extensions["referral.database"] = database

    from referral.audit import services as audit
    from referral.referrals import proposals
    from referral.web import api, auth, errors, request_id, request_session
    from referral.web.navigation import navigation
    from referral.web.views import blueprints as page_blueprints
    from referral.web.views.home import pages

    audit.install()
    proposals.install()
    request_id.init_app(app)  # first: every response carries one, whatever happens after
    request_session.init_app(app)
    auth.init_app(app)
    Bootstrap5(app)
    csrf = CSRFProtect(app)
    app.register_blueprint(pages)
    for blueprint in page_blueprints():
        app.register_blueprint(blueprint)
    api.init_app(app, csrf)
    errors.init_app(app)
    app.add_template_global(navigation, "navigation")
    app.add_template_filter(options, "options")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app
