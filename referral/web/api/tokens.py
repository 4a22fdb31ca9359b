"""`POST /api/v1/tokens`: exchange an e-mail and a password for a bearer token."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.exceptions import PermissionDenied, Unauthenticated
from referral.territories import two_factor
from referral.territories.services import authenticate, issue_token, revoke_token
from referral.web.auth import bearer_token, client_address, login_required
from referral.web.request_session import db_session, keep_on_error
from referral.web.schemas.tokens import TokenRequestSchema, TokenSchema
from referral.web.two_factor import policy

blp = Blueprint("tokens", __name__, description="Jetons d'accès à l'API")


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
def create_token(payload: dict[str, Any]) -> dict[str, Any]:
    """Obtenir un jeton « Bearer » (valable 90 jours), avec les identifiants d'un compte (et `otp`,
    le code de double authentification, quand le compte l'a activée)."""
    session = db_session()
    keep_on_error()  # a refused attempt is recorded: it counts towards the limit
    user = authenticate(
        session, email=payload["email"], password=payload["password"], remote_addr=client_address()
    )
    if two_factor.enabled(user):
        if not payload.get("otp"):
            raise Unauthenticated("Code de double authentification requis (champ « otp »).")
        two_factor.verify(session, user, payload["otp"], remote_addr=client_address())
    elif two_factor.required_for(user, policy()):
        raise PermissionDenied(
            "La double authentification est obligatoire pour votre rôle : activez-la depuis « Mon compte » "
            "avant de demander un jeton."
        )
    token, row = issue_token(session, user, name=payload["name"])
    return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


@blp.route("/tokens/current", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=[{"bearer": []}])
@login_required
def revoke_current_token() -> None:
    """Révoquer le jeton utilisé pour cette requête."""
    token = bearer_token()
    if token is not None:
        revoke_token(db_session(), token)
