"""Which account a ProConnect identity signs in to (the OpenID Connect exchange is in
`referral.web.proconnect`).

A ProConnect identity is linked by its verified e-mail to an account that exists, or to the
pending invitation for that e-mail (which it then accepts, without a password). It never opens
an account on its own: a role and a scope are only ever given by someone who may give them.
Once linked, the identity (`sub`) signs in to that account even if its e-mail changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import Unauthenticated
from referral.territories.invitations import open_account, pending_for_email
from referral.territories.models import User

NO_ACCOUNT = (
    "Aucun compte ni invitation en attente pour l'adresse « {email} » : demandez une invitation à "
    "votre coordinateur·rice de territoire ou à un·e collègue CIP de votre structure."
)
CLOSED = "Ce compte est fermé. Adressez-vous à votre coordinateur·rice de territoire."
UNVERIFIED = "ProConnect n'a pas confirmé votre adresse e-mail : connexion impossible."
OTHER_IDENTITY = "Ce compte est déjà relié à une autre identité ProConnect."


class ProConnectRefused(Unauthenticated):
    title = "Connexion ProConnect refusée"


def account_for_identity(
    session: Session, *, sub: str, email: str | None, email_verified: bool, now: datetime | None = None
) -> User:
    now = now or utcnow()
    user = session.scalar(select(User).where(User.proconnect_sub == sub))
    if user is not None:
        if not user.is_active:
            raise ProConnectRefused(CLOSED)
        user.last_login_at = now
        session.flush()
        return user
    if not email or "@" not in email:
        raise ProConnectRefused(UNVERIFIED)
    if not email_verified:
        raise ProConnectRefused(UNVERIFIED)
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        invitation = pending_for_email(session, email, now=now)
        if invitation is None:
            raise ProConnectRefused(NO_ACCOUNT.format(email=email))
        user = open_account(session, invitation, password=None, now=now)
    elif not user.is_active:
        raise ProConnectRefused(CLOSED)
    elif user.proconnect_sub is not None:
        raise ProConnectRefused(OTHER_IDENTITY)
    user.proconnect_sub = sub
    user.last_login_at = now
    session.flush()
    return user
