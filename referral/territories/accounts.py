"""Accounts people manage themselves: forgotten passwords, « Mon compte », closing and reopening.

Who may close an account: whoever may invite that account (`invitations.refusal_to_invite`),
or the national team; nobody closes their own. Closing ends the account's sessions and revokes
its tokens at once (`services.deactivate_user`); handing its work to a colleague is composed one
layer up (`referral.cases.leavers`), since tasks and records live above this package.

Every change of role, scope or state of an account is a write of the ``users`` table and so is
in the audit log (`referral.audit`), with the fields that changed and who changed them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from referral.db import utcnow
from referral.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from referral.territories.exceptions import LinkRefused
from referral.territories.invitations import Scope, digest, new_token, refusal_to_invite, scope_filter
from referral.territories.models import ApiToken, PasswordReset, User
from referral.territories.services import change_password, deactivate_user, password_matches

RESET_LIFETIME = timedelta(hours=1)
# Reset e-mails one account may be sent per hour: more would let anyone flood a mailbox.
MAX_RESETS_PER_HOUR = 3
RESET_LINK_REFUSED = (
    "Ce lien de réinitialisation n'est plus valable (déjà utilisé ou expiré après une heure). "
    "Demandez-en un nouveau depuis « Mot de passe oublié »."
)
# An account nobody used for this long is listed to its coordinator (`unused_accounts`).
UNUSED_AFTER = timedelta(days=183)
# « Comptes » shows people by pages of this many (a national list runs to thousands).
PAGE_SIZE = 100


# --- Forgotten password ----------------------------------------------------------------------


def request_reset(session: Session, email: str, *, now: datetime | None = None) -> tuple[User, str] | None:
    """A reset link for the active account with this e-mail, or None (unknown, closed, or
    already sent three this hour). The caller answers the same in every case."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.is_active.is_(True)))
    if user is None:
        return None
    recent = session.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= MAX_RESETS_PER_HOUR:
        return None
    token, token_hash = new_token()
    session.add(
        PasswordReset(user_id=user.id, token_hash=token_hash, created_at=now, expires_at=now + RESET_LIFETIME)
    )
    session.flush()
    return user, token


def reset_for_token(session: Session, token: str, *, now: datetime | None = None) -> PasswordReset:
    now = now or utcnow()
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise LinkRefused(RESET_LINK_REFUSED)
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise LinkRefused(RESET_LINK_REFUSED)
    return reset


def reset_password(session: Session, token: str, *, password: str, now: datetime | None = None) -> User:
    """Set the password a reset link allows; every session of the account ends, and every other
    reset link of the account stops working."""
    now = now or utcnow()
    reset = reset_for_token(session, token, now=now)
    user = session.get(User, reset.user_id)
    assert user is not None  # checked by reset_for_token
    change_password(session, None, user, password=password)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    session.flush()
    return user


# --- Mon compte --------------------------------------------------------------------------------


def change_own_password(session: Session, user: User, *, current: str, password: str) -> User:
    """The owner changes their password, proving they know the current one; every session of the
    account ends (the caller signs the current one in again)."""
    if not password_matches(user, current):
        raise InvalidInput(
            "Le mot de passe actuel est incorrect.", errors={"current_password": ["Mot de passe incorrect."]}
        )
    return change_password(session, user, user, password=password)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The account's API tokens still in force, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_own_token(session: Session, user: User, token_id: int) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise NotFound("Jeton introuvable.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


# --- Managing accounts -------------------------------------------------------------------------


def refusal_to_manage(actor: User, user: User) -> str | None:
    if actor.id == user.id:
        return "Vous ne pouvez pas fermer ni rouvrir votre propre compte."
    return refusal_to_invite(actor, Scope(role=user.role, structure=user.structure, territory=user.territory))


def managed_account(session: Session, actor: User, user_id: int) -> User:
    """An account `actor` may manage (404 otherwise: accounts outside one's scope are not shown)."""
    user = session.scalar(select(User).where(User.id == user_id, scope_filter(actor, User)))
    if user is None or user.id == actor.id or refusal_to_manage(actor, user) is not None:
        raise NotFound("Compte introuvable.")
    return user


def accounts_of(session: Session, actor: User, *, page: int = 1) -> list[User]:
    """One page of the accounts `actor` looks after (their scope's), active first, then by name;
    one more than `PAGE_SIZE` when another page follows."""
    return list(
        session.scalars(
            select(User)
            .where(scope_filter(actor, User))
            .options(selectinload(User.structure), selectinload(User.territory))
            .order_by(User.is_active.desc(), User.full_name, User.id)
            .offset((max(page, 1) - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )


def deactivate(session: Session, actor: User, user: User) -> User:
    """Close `user`'s account: sessions end and tokens are revoked at once (the audit log keeps
    who did it)."""
    if refusal := refusal_to_manage(actor, user):
        raise PermissionDenied(refusal)
    if not user.is_active:
        raise Conflict("Ce compte est déjà fermé.")
    # The permission is this module's rule, checked above; deactivate_user's own check is for
    # its direct callers (the national team, the command line).
    return deactivate_user(session, None, user)


def reactivate(session: Session, actor: User, user: User) -> User:
    """Reopen a closed account. Its old sessions and tokens stay ended: the person signs in again."""
    if refusal := refusal_to_manage(actor, user):
        raise PermissionDenied(refusal)
    if user.is_active:
        raise Conflict("Ce compte est déjà ouvert.")
    user.is_active = True
    session.flush()
    return user


def unused_accounts(session: Session, *, now: datetime, among: list[int] | None = None) -> list[User]:
    """Open accounts nobody signed in to, nor used a token of, for six months (nor ever, when
    opened that long ago): people who may have left without anyone closing their account."""
    since = now - UNUSED_AFTER
    recent_token = (
        select(ApiToken.id).where(ApiToken.user_id == User.id, ApiToken.last_used_at > since).exists()
    )
    return list(
        session.scalars(
            select(User)
            .where(
                User.id.in_(among) if among is not None else true(),
                User.is_active.is_(True),
                or_(
                    User.last_login_at <= since, and_(User.last_login_at.is_(None), User.created_at <= since)
                ),
                ~recent_token,
            )
            .options(selectinload(User.structure))
            .order_by(User.full_name, User.id)
        )
    )
