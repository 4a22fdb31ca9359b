"""« S'identifier avec ProConnect »: OpenID Connect, authorization code with PKCE, through Authlib.

Optional: on when ``REFERRAL_PROCONNECT_ISSUER``, ``REFERRAL_PROCONNECT_CLIENT_ID`` and
``REFERRAL_PROCONNECT_CLIENT_SECRET`` are set (``REFERRAL_PROCONNECT_SCOPE`` defaults to
ProConnect's ``openid email given_name usual_name``). The provider's endpoints and keys come from
its discovery document (``<issuer>/.well-known/openid-configuration``).

The session keeps, for 10 minutes, the ``state`` (the answer must come back with it: no forged
callback), the ``nonce`` (the ID token must carry it: no replayed token) and the PKCE verifier
(the code is worth nothing to whoever intercepts it). Which account the identity opens is the
rule of `referral.territories.proconnect`: an existing or invited account, by verified e-mail,
never a new one. ProConnect's userinfo answer is a signed JWT (``application/jwt``); a plain
JSON one is read too.
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response

from referral.db import utcnow
from referral.exceptions import NotFound
from referral.territories.proconnect import ProConnectRefused, account_for_identity
from referral.web.account_mail import external_link
from referral.web.auth import log_in
from referral.web.request_session import db_session
from referral.web.two_factor import VIA_KEY
from referral.web.views.home import _safe_next as safe_next

bp = Blueprint("proconnect", __name__)

DEFAULT_SCOPE = "openid email given_name usual_name"
SESSION_KEY = "proconnect"
PENDING_LIFETIME_SECONDS = 600
EXTENSION = "referral.proconnect"

STATE_REFUSED = (
    "La réponse de ProConnect ne correspond à aucune connexion en cours (lien expiré, ouvert dans un autre "
    "navigateur ou modifié). Recommencez depuis la page de connexion."
)
TOKEN_REFUSED = "La réponse de ProConnect n'a pas pu être vérifiée : connexion refusée. Recommencez."
CANCELLED = "Connexion ProConnect annulée ou refusée par le fournisseur d'identité."


def configured(app: Flask) -> bool:
    return all(app.config.get(f"PROCONNECT_{name}") for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET"))


def _client() -> Any:
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        raise NotFound("La connexion par ProConnect n'est pas configurée sur ce service.")
    return client


@bp.post("/connexion/proconnect")
def start() -> Response:
    client = _client()
    pending = client.create_authorization_url(external_link("proconnect.callback"))
    session[SESSION_KEY] = {
        "state": pending["state"],
        "nonce": pending["nonce"],
        "verifier": pending["code_verifier"],
        "next": safe_next(request.form.get("next")) or "",
        "at": int(utcnow().timestamp()),
    }
    return redirect(pending["url"])


def _userinfo(client: Any, token: dict[str, Any]) -> dict[str, Any]:
    metadata = client.load_server_metadata()
    endpoint = metadata.get("userinfo_endpoint")
    if not endpoint:
        return {}
    response = client.get(endpoint, token=token)
    response.raise_for_status()
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        return dict(jwt.decode(response.text, keys).claims)
    return dict(response.json())


@bp.get("/connexion/proconnect/retour")
def callback() -> Response:
    client = _client()
    pending: Any = session.pop(SESSION_KEY, None)
    if request.args.get("error"):
        raise ProConnectRefused(CANCELLED)
    if (
        not isinstance(pending, dict)
        or not isinstance(pending.get("state"), str)
        or not secrets.compare_digest(pending["state"], request.args.get("state", ""))
        or utcnow().timestamp() - int(pending.get("at", 0)) > PENDING_LIFETIME_SECONDS
    ):
        raise ProConnectRefused(STATE_REFUSED)
    try:
        token = client.fetch_access_token(
            redirect_uri=external_link("proconnect.callback"),
            code=request.args.get("code", ""),
            code_verifier=pending["verifier"],
        )
        claims = dict(client.parse_id_token(token, nonce=pending["nonce"]) or {})
        if not claims.get("sub"):
            raise ProConnectRefused(TOKEN_REFUSED)
        if not claims.get("email"):
            info = _userinfo(client, token)
            if info.get("sub") != claims["sub"]:
                raise ProConnectRefused(TOKEN_REFUSED)
            claims.update({key: value for key, value in info.items() if key not in claims})
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError) as error:
        current_app.logger.warning("ProConnect answer refused: %s", error)
        raise ProConnectRefused(TOKEN_REFUSED) from None
    user = account_for_identity(
        db_session(),
        sub=str(claims["sub"]),
        email=claims.get("email"),
        # ProConnect's identity providers verify the addresses they give and send no
        # `email_verified`; a provider that says an address is unverified is believed.
        email_verified=claims.get("email_verified", True) is True,
    )
    log_in(user)
    session[VIA_KEY] = "proconnect"
    return redirect(pending.get("next") or url_for("pages.home"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(lambda: EXTENSION in app.extensions, "proconnect_on")
    if not configured(app):
        return
    oauth = OAuth(app)
    issuer = str(app.config["PROCONNECT_ISSUER"]).rstrip("/")
    app.extensions[EXTENSION] = oauth.register(
        "proconnect",
        client_id=app.config["PROCONNECT_CLIENT_ID"],
        client_secret=app.config["PROCONNECT_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config.get("PROCONNECT_SCOPE") or DEFAULT_SCOPE,
            "code_challenge_method": "S256",
            "timeout": 10,
        },
    )
