"""The application factory: the only place that wires the service together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from referral.config import INSTANCE_PATH, config_class, default_database_url, instance_secret_key
from referral.db import Database


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    `config` overrides the class chosen by ``REFERRAL_ENV``; tests pass ``DATABASE`` (an open
    `Database`) so the application runs inside the test's transaction.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=False)
    app.config.from_object(config_class())
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

    from referral.web import errors, request_session
    from referral.web.api import api
    from referral.web.pages import pages

    request_session.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(api)
    errors.init_app(app)
    return app
