"""Invitations: people open their own account from a link someone in charge of them sent.

Who may invite whom (issue 19):
- the national team: anyone (coordinators and CPs of any territory, CIPs, the national team);
- a coordinator: the CPs of their territory and the CIPs of its structures;
- a CIP: a colleague CIP of their own structure;
- a CP: nobody.
Nobody hands out more than their own scope: a coordinator cannot invite into another territory
nor invite a coordinator or the national team. The same rule says who may manage an account
once it is open (`referral.territories.accounts`).

The link's token is random; only its SHA-256 is stored, so the table gives nobody a working
link. It works once, for 7 days; resending draws a new one (the earlier e-mail's link stops).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session, selectinload

from referral.db import utcnow
from referral.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from referral.reference.models import Domain
from referral.territories.exceptions import AccountAlreadyExists, LinkRefused
from referral.territories.models import Invitation, InvitationState, Role, Structure, Territory, User
from referral.territories.services import hash_password, password_problems

INVITATION_LIFETIME = timedelta(days=7)
PAGE_SIZE = 100

INVITATION_LINK_REFUSED = (
    "Ce lien d'invitation n'est plus valable (déjà utilisé, annulé ou expiré après 7 jours). "
    "Demandez à la personne qui vous a invité·e de vous l'envoyer à nouveau."
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh link token and the digest to store."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


@dataclass(frozen=True)
class Scope:
    """Where an account sits: a structure (CIP), a territory (CP, coordinator) or nowhere (national)."""

    role: Role
    structure: Structure | None
    territory: Territory | None

    @property
    def territory_id(self) -> int | None:
        if self.structure is not None:
            return self.structure.territory_id
        return self.territory.id if self.territory is not None else None


def refusal_to_invite(actor: User, scope: Scope) -> str | None:
    """Why `actor` may not give an account with this role and scope (None: they may).

    A pure rule on the actor's role and scope, shared by invitations and account management.
    """
    if actor.role is Role.ADMIN:
        return None
    if actor.role is Role.COORDINATOR:
        if scope.role in (Role.COORDINATOR, Role.ADMIN):
            return "Un·e coordinateur·rice invite des CP et des CIP, pas un rôle de coordination ou national."
        if scope.territory_id != actor.territory_id:
            return "Vous ne pouvez inviter que dans votre territoire."
        return None
    if actor.role is Role.CIP:
        if scope.role is not Role.CIP:
            return "Un·e CIP ne peut inviter qu'un·e collègue CIP."
        if scope.structure is None or scope.structure.id != actor.structure_id:
            return "Vous ne pouvez inviter qu'un·e collègue de votre structure."
        return None
    return "Votre rôle ne permet pas d'inviter des personnes."


def may_invite(actor: User) -> bool:
    return actor.role in (Role.ADMIN, Role.COORDINATOR, Role.CIP)


def _scope_filter(actor: User, model: type[Invitation] | type[User]) -> ColumnElement[bool]:
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.COORDINATOR:
        return or_(
            model.territory_id == actor.territory_id,
            model.structure_id.in_(select(Structure.id).where(Structure.territory_id == actor.territory_id)),
        ) & model.role.in_([Role.CP, Role.CIP])
    if actor.role is Role.CIP:
        return (model.structure_id == actor.structure_id) & (model.role == Role.CIP)
    return false()


def scope_filter(actor: User, model: type[Invitation] | type[User]) -> ColumnElement[bool]:
    """The rows of `model` (invitations or accounts) whose scope `actor` may give, hence manage."""
    return _scope_filter(actor, model)


def resolve_scope(
    session: Session,
    *,
    role: str,
    structure_id: int | None,
    territory_slug: str | None,
    domains: Iterable[str],
) -> tuple[Scope, list[str]]:
    """Check role, scope and domains as typed; the scope and the domain codes to store."""
    errors: dict[str, list[str]] = {}
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput(
            "Rôle inconnu.", errors={"role": [f"« {role} » n'est pas un rôle (cip, cp, coordinator, admin)."]}
        ) from None
    structure = territory = None
    if role_value is Role.CIP:
        structure = session.get(Structure, structure_id) if structure_id is not None else None
        if structure is None:
            errors["structure_id"] = ["Un·e CIP doit être rattaché·e à une structure connue."]
    elif role_value in (Role.CP, Role.COORDINATOR):
        territory = session.scalar(select(Territory).where(Territory.slug == (territory_slug or "")))
        if territory is None:
            errors["territory"] = ["Un·e CP ou un·e coordinateur·rice doit être rattaché·e à un territoire."]
    codes = sorted(set(domains))
    if codes and role_value is not Role.CP:
        errors["domains"] = ["Seul·e un·e chargé·e de partenariats a des domaines."]
    elif codes:
        known = set(session.scalars(select(Domain.code).where(Domain.code.in_(codes))))
        if unknown := [code for code in codes if code not in known]:
            errors["domains"] = [f"« {code} » n'est pas un domaine connu." for code in unknown]
    if errors:
        raise InvalidInput("L'invitation ne peut pas être enregistrée.", errors=errors)
    return Scope(role=role_value, structure=structure, territory=territory), codes


def invite(
    session: Session,
    actor: User,
    *,
    email: str,
    full_name: str,
    role: str,
    structure_id: int | None = None,
    territory_slug: str | None = None,
    domains: Iterable[str] = (),
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Invite someone; return the invitation and the link token (to e-mail, never stored)."""
    now = now or utcnow()
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise InvalidInput("Adresse e-mail invalide.", errors={"email": ["Adresse e-mail invalide."]})
    if not full_name.strip():
        raise InvalidInput("Le nom est obligatoire.", errors={"full_name": ["Champ obligatoire."]})
    scope, codes = resolve_scope(
        session, role=role, structure_id=structure_id, territory_slug=territory_slug, domains=domains
    )
    if refusal := refusal_to_invite(actor, scope):
        raise PermissionDenied(refusal)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountAlreadyExists(email)
    pending = session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.cancelled_at.is_(None),
            Invitation.expires_at > now,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"Une invitation est déjà en attente pour « {email} » : renvoyez-la ou annulez-la.",
            errors={"email": ["Invitation déjà en attente."]},
        )
    token, token_hash = new_token()
    invitation = Invitation(
        email=email,
        full_name=full_name.strip(),
        role=scope.role,
        structure_id=scope.structure.id if scope.structure else None,
        territory_id=scope.territory.id if scope.territory else None,
        domains=codes,
        token_hash=token_hash,
        invited_by_id=actor.id,
        created_at=now,
        sent_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def _managed_invitation(session: Session, actor: User, invitation_id: int) -> Invitation:
    invitation = session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, scope_filter(actor, Invitation))
    )
    if invitation is None or not may_invite(actor):
        raise NotFound("Invitation introuvable.")
    return invitation


def resend(
    session: Session, actor: User, invitation_id: int, *, now: datetime | None = None
) -> tuple[Invitation, str]:
    """A new link, valid 7 days from now; the earlier one stops working. Expired ones too."""
    now = now or utcnow()
    invitation = _managed_invitation(session, actor, invitation_id)
    state = invitation.state(now)
    if state in (InvitationState.ACCEPTED, InvitationState.CANCELLED):
        raise Conflict(f"Cette invitation est {state.label.lower()} : elle ne peut pas être renvoyée.")
    token, invitation.token_hash = new_token()
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_LIFETIME
    session.flush()
    return invitation, token


def cancel(session: Session, actor: User, invitation_id: int, *, now: datetime | None = None) -> Invitation:
    now = now or utcnow()
    invitation = _managed_invitation(session, actor, invitation_id)
    if invitation.accepted_at is not None:
        raise Conflict("Cette invitation est déjà acceptée : fermez le compte plutôt.")
    if invitation.cancelled_at is None:
        invitation.cancelled_at = now
        session.flush()
    return invitation


def invitations_of(session: Session, actor: User, *, page: int = 1) -> list[Invitation]:
    """One page of the invitations `actor` looks after, newest first; one more than `PAGE_SIZE`
    when another page follows."""
    if not may_invite(actor):
        return []
    return list(
        session.scalars(
            select(Invitation)
            .where(scope_filter(actor, Invitation))
            .options(selectinload(Invitation.structure), selectinload(Invitation.territory))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .offset((max(page, 1) - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )


def pending_for_token(session: Session, token: str, *, now: datetime | None = None) -> Invitation:
    """The invitation a link opens, if it still may; otherwise `LinkRefused` (French)."""
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None or invitation.state(now) is not InvitationState.PENDING:
        raise LinkRefused(INVITATION_LINK_REFUSED)
    return invitation


def pending_for_email(session: Session, email: str, *, now: datetime | None = None) -> Invitation | None:
    now = now or utcnow()
    return session.scalars(
        select(Invitation)
        .where(
            Invitation.email == email.strip().lower(),
            Invitation.accepted_at.is_(None),
            Invitation.cancelled_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).first()


def open_account(
    session: Session, invitation: Invitation, *, password: str | None, now: datetime | None = None
) -> User:
    """The account an invitation gives: its role, scope and domains, and the chosen password
    (None: signed in through ProConnect, no password until one is set)."""
    now = now or utcnow()
    if session.scalar(select(User.id).where(User.email == invitation.email)) is not None:
        raise AccountAlreadyExists(invitation.email)
    password_hash = None
    if password is not None:
        if problems := password_problems(password, personal=(invitation.email, invitation.full_name)):
            raise InvalidInput("Le mot de passe ne peut pas être enregistré.", errors={"password": problems})
        password_hash = hash_password(password)
    user = User(
        email=invitation.email,
        full_name=invitation.full_name,
        role=invitation.role,
        structure_id=invitation.structure_id,
        territory_id=invitation.territory_id,
        password_hash=password_hash,
    )
    if invitation.domains:
        user.domains = list(
            session.scalars(
                select(Domain).where(Domain.code.in_(invitation.domains)).order_by(Domain.position)
            )
        )
    session.add(user)
    session.flush()
    invitation.accepted_at = now
    invitation.user_id = user.id
    session.flush()
    return user


def accept(session: Session, token: str, *, password: str, now: datetime | None = None) -> User:
    """Open the account of the invitation `token` names, with the password its holder chose."""
    invitation = pending_for_token(session, token, now=now)
    return open_account(session, invitation, password=password, now=now)
