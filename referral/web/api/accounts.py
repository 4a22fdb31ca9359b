"""Accounts through the API (issue 19): invitations, password resets, one's own tokens and
password, closing accounts, new territories and structures. The same services as the pages."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from referral.cases import leavers
from referral.exceptions import InvalidInput, PermissionDenied
from referral.territories import accounts, creation, invitations
from referral.territories import queries as territory_queries
from referral.web import account_mail
from referral.web.account_mail import RESET_SENT
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.accounts import (
    AccountSchema,
    ApiTokenSchema,
    DeactivationSchema,
    HandoverSchema,
    InvitationCreatedSchema,
    InvitationRequestSchema,
    InvitationSchema,
    LinkPasswordSchema,
    PageQuerySchema,
    PasswordChangeSchema,
    ResetRequestSchema,
    StructureCreateSchema,
    TerritoryCreateSchema,
)
from referral.web.schemas.base import BaseSchema
from referral.web.schemas.reference import StructureSchema, TerritorySchema

blp = Blueprint("accounts", __name__, description="Comptes : invitations, mots de passe, fermeture")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


class DetailSchema(BaseSchema):
    detail = fields.String()


@blp.route("/invitations", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, InvitationSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def list_invitations(query: dict[str, Any]) -> Any:
    """Les invitations que j'ai la charge de suivre, avec leur état, les plus récentes d'abord
    (100 par page : `?page=2`)."""
    user = current_user()
    if not invitations.may_invite(user):
        raise PermissionDenied("Votre rôle ne permet pas d'inviter des personnes.")
    return invitations.invitations_of(db_session(), user, page=query["page"])[: invitations.PAGE_SIZE]


@blp.route("/invitations", methods=["POST"])
@blp.arguments(InvitationRequestSchema)
@blp.response(201, InvitationCreatedSchema)
@blp.doc(security=SECURITY)
@login_required
def create_invitation(payload: dict[str, Any]) -> Any:
    """Inviter une personne (rôle et rattachement dans ma limite) ; le lien part par e-mail.

    Sans serveur d'envoi configuré, la réponse contient le lien (`link`) à transmettre."""
    user = current_user()
    session = db_session()
    invitation, token = invitations.invite(
        session,
        user,
        email=payload["email"],
        full_name=payload["full_name"],
        role=payload["role"],
        structure_id=payload["structure_id"],
        territory_slug=payload["territory"],
        domains=payload["domains"],
    )
    sent = account_mail.send_invitation(session, invitation, token, user)
    invitation.link = None if sent else account_mail.invitation_link(token)  # type: ignore[attr-defined]
    return invitation


@blp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@blp.response(200, InvitationCreatedSchema)
@blp.doc(security=SECURITY)
@login_required
def resend_invitation(invitation_id: int) -> Any:
    """Renvoyer une invitation en attente ou expirée : nouveau lien valable 7 jours ; l'ancien ne
    fonctionne plus."""
    user = current_user()
    session = db_session()
    invitation, token = invitations.resend(session, user, invitation_id)
    sent = account_mail.send_invitation(session, invitation, token, user)
    invitation.link = None if sent else account_mail.invitation_link(token)  # type: ignore[attr-defined]
    return invitation


@blp.route("/invitations/<int:invitation_id>/cancel", methods=["POST"])
@blp.response(200, InvitationSchema)
@blp.doc(security=SECURITY)
@login_required
def cancel_invitation(invitation_id: int) -> Any:
    """Annuler une invitation : son lien ne fonctionne plus."""
    return invitations.cancel(db_session(), current_user(), invitation_id)


@blp.route("/invitations/accept", methods=["POST"])
@blp.arguments(LinkPasswordSchema)
@blp.response(201, AccountSchema)
@blp.alt_response(410, description="Lien d'invitation expiré, déjà utilisé, annulé ou inconnu.")
def accept_invitation(payload: dict[str, Any]) -> Any:
    """Ouvrir son compte avec le jeton du lien d'invitation et le mot de passe choisi (sans
    authentification)."""
    return invitations.accept(db_session(), payload["token"], password=payload["password"])


@blp.route("/password-resets", methods=["POST"])
@blp.arguments(ResetRequestSchema)
@blp.response(202, DetailSchema)
def request_password_reset(payload: dict[str, Any]) -> Any:
    """« Mot de passe oublié » : la même réponse, que l'adresse ait un compte ou non."""
    session = db_session()
    found = accounts.request_reset(session, payload["email"])
    if found is not None:
        account_mail.send_reset(session, *found)
    return {"detail": RESET_SENT}


@blp.route("/password-resets/confirm", methods=["POST"])
@blp.arguments(LinkPasswordSchema)
@blp.response(200, DetailSchema)
@blp.alt_response(410, description="Lien de réinitialisation expiré, déjà utilisé ou inconnu.")
def confirm_password_reset(payload: dict[str, Any]) -> Any:
    """Choisir un nouveau mot de passe avec le jeton du lien (valable une heure, une fois) ; toutes
    les sessions du compte se ferment."""
    accounts.reset_password(db_session(), payload["token"], password=payload["password"])
    return {"detail": "Mot de passe changé : toutes les sessions ouvertes du compte ont été fermées."}


@blp.route("/me/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(200, DetailSchema)
@blp.doc(security=SECURITY)
@login_required
def change_password(payload: dict[str, Any]) -> Any:
    """Changer mon mot de passe (avec l'actuel) ; mes sessions de navigateur se ferment."""
    accounts.change_own_password(
        db_session(), current_user(), current=payload["current_password"], password=payload["password"]
    )
    return {"detail": "Mot de passe changé : vos sessions ouvertes ont été fermées."}


@blp.route("/me/tokens", methods=["GET"])
@blp.response(200, ApiTokenSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def my_tokens() -> Any:
    """Mes jetons d'accès en cours de validité."""
    return accounts.tokens_of(db_session(), current_user())


@blp.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=SECURITY)
@login_required
def revoke_my_token(token_id: int) -> None:
    """Révoquer l'un de mes jetons."""
    accounts.revoke_own_token(db_session(), current_user(), token_id)


@blp.route("/users", methods=["GET"])
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, AccountSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def list_accounts(query: dict[str, Any]) -> Any:
    """Les comptes que je peux ouvrir et fermer (mon territoire, ma structure, ou tous pour l'équipe
    nationale), 100 par page (`?page=2`)."""
    user = current_user()
    if not invitations.may_invite(user):
        raise PermissionDenied("Votre rôle ne permet pas de gérer des comptes.")
    return accounts.accounts_of(db_session(), user, page=query["page"])[: accounts.PAGE_SIZE]


@blp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@blp.arguments(DeactivationSchema)
@blp.response(200, HandoverSchema)
@blp.doc(security=SECURITY)
@login_required
def deactivate_account(payload: dict[str, Any], user_id: int) -> Any:
    """Fermer un compte : sessions et jetons coupés ; dossiers et tâches confiés à `hand_to`."""
    session = db_session()
    actor = current_user()
    account = accounts.managed_account(session, actor, user_id)
    return leavers.close_leaver_account(session, actor, account, hand_to_id=payload["hand_to"])


@blp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@blp.response(200, AccountSchema)
@blp.doc(security=SECURITY)
@login_required
def reactivate_account(user_id: int) -> Any:
    """Rouvrir un compte fermé (ses anciens jetons restent révoqués)."""
    session = db_session()
    actor = current_user()
    return accounts.reactivate(session, actor, accounts.managed_account(session, actor, user_id))


@blp.route("/territories", methods=["POST"])
@blp.arguments(TerritoryCreateSchema)
@blp.response(201, TerritorySchema)
@blp.doc(security=SECURITY)
@login_required
def create_territory(payload: dict[str, Any]) -> Any:
    """Créer un territoire (équipe nationale)."""
    return creation.create_territory(db_session(), current_user(), **payload)


@blp.route("/structures", methods=["POST"])
@blp.arguments(StructureCreateSchema)
@blp.response(201, StructureSchema)
@blp.doc(security=SECURITY)
@login_required
def create_structure(payload: dict[str, Any]) -> Any:
    """Créer une structure dans un territoire (équipe nationale)."""
    session = db_session()
    user = current_user()
    slug = payload.pop("territory")
    territory = territory_queries.territory_by_slug(session, slug)
    creation.require_national(user)
    if territory is None:
        raise InvalidInput(f"Territoire inconnu : « {slug} ».", errors={"territory": ["Territoire inconnu."]})
    return creation.create_structure(session, user, territory_id=territory.id, **payload)
