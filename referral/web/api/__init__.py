"""The JSON API under ``/api/v1`` (DESIGN §9), described by ``/api/v1/openapi.json``.

flask-smorest builds the OpenAPI document from the marshmallow schemas the views declare. Errors
take the single problem+json shape of `referral.web.errors` (registered after this, so it wins).
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from referral.web.api import document
from referral.web.api.document import ProblemApi

API_SETTINGS = {
    "API_TITLE": "Réseau Convergence — API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def init_app(app: Flask, csrf: CSRFProtect) -> ProblemApi:
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = ProblemApi(
        app,
        spec_kwargs=document.spec_kwargs(
            "API de l'outil partagé des réseaux Convergence. Authentification : "
            "`POST /api/v1/tokens` puis en-tête `Authorization: Bearer <jeton>`. Toute erreur est "
            "en `application/problem+json` (`type`, `title`, `status`, `detail`, `errors` : champ → "
            "messages en français)."
        ),
    )
    document.register(api)
    app.before_request(document.require_documented_body)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})

    from referral.web.api import (
        accounts,
        audit,
        indicators,
        me,
        meetings,
        network,
        participants,
        partners,
        reference,
        referrals,
        tokens,
    )

    for module in (
        tokens,
        reference,
        partners,
        meetings,
        participants,
        referrals,
        me,
        network,
        accounts,
        audit,
        indicators,
    ):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
        # The API authenticates with bearer tokens (or the page session plus an X-CSRFToken
        # header, checked in auth.load_user), not with form tokens.
        csrf.exempt(module.blp)
    return api
