"""Territories, structures and accounts: creating and updating them.

The ``ensure_*`` functions create a row or bring it in line with the given data, keyed by its
natural key (slug, structure key, e-mail), so that `referral seed` can run any number of times.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from referral.db import assign_changed, side_transaction, utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.reference.models import Domain
from referral.territories.exceptions import AccountAlreadyExists, LoginLockedOut, LoginRefused, TokenRefused
from referral.territories.models import ApiToken, LoginAttempt, Programme, Role, Structure, Territory, User

MIN_PASSWORD_LENGTH = 12
# zxcvbn's scale: 3 means about 10⁸ guesses or more ("safely unguessable" for an online attack
# that the login throttling slows down); 0–2 are repetitions, sequences, common words.
MIN_PASSWORD_SCORE = 3
# zxcvbn's dictionaries and keyboard graphs are English and QWERTY: French keyboard rows and
# the commonest French passwords are given as extra words to guess from.
FRENCH_GUESSES = (
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "azerty",
    "motdepasse",
    "bonjour",
    "soleil",
    "doudou",
    "chouchou",
    "loulou",
    "marseille",
    "convergence",
    "insertion",
    "chantier",
)
WEAK_PASSWORD = (
    "Mot de passe trop facile à deviner (répétitions, suites, mots courants ou nom du compte) : "
    "choisissez par exemple trois ou quatre mots sans lien entre eux."
)


def ensure_territory(
    session: Session,
    *,
    slug: str,
    name: str,
    region: str,
    departments: Iterable[str] = (),
    convergence_since: int | None = None,
) -> Territory:
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        territory = Territory(slug=slug)
        session.add(territory)
    assign_changed(
        territory,
        name=name,
        region=region,
        departments=list(departments),
        convergence_since=convergence_since,
    )
    session.flush()
    return territory


def ensure_structure(
    session: Session,
    *,
    key: str,
    name: str,
    town: str,
    region: str,
    programmes: Iterable[str],
    territory_slug: str | None = None,
    full_name: str | None = None,
    siret: str | None = None,
    is_demo: bool = False,
) -> Structure:
    carried = {Programme(code) for code in programmes}
    if not carried:
        raise InvalidInput(
            f"La structure « {name} » doit porter au moins un programme (Convergence ou Premières Heures).",
            errors={"programmes": ["Au moins un programme est requis."]},
        )
    territory_id = None
    if territory_slug is not None:
        territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
        if territory is None:
            raise InvalidInput(
                f"Territoire inconnu : « {territory_slug} ».",
                errors={"territory": [f"« {territory_slug} » n'est pas un territoire connu."]},
            )
        territory_id = territory.id
    structure = session.scalar(select(Structure).where(Structure.key == key))
    if structure is None:
        structure = Structure(key=key)
        session.add(structure)
    assign_changed(
        structure,
        name=name,
        full_name=full_name,
        town=town,
        region=region,
        siret=siret,
        territory_id=territory_id,
        carries_cvg=Programme.CVG in carried,
        carries_phc=Programme.PHC in carried,
        is_demo=is_demo,
    )
    session.flush()
    return structure


def hash_password(password: str) -> str:
    # werkzeug's scrypt: memory-hard, and no extra dependency.
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    return check_password_hash(user.password_hash, password)


def password_problems(password: str, *, personal: Iterable[str] = ()) -> list[str]:
    """Why a password someone chose is refused, in French (empty: accepted).

    Length alone lets ``aaaaaaaaaaaa`` or ``123456789012`` through; zxcvbn estimates how many
    guesses a password takes, knowing repetitions, sequences, keyboard patterns, common
    passwords and words, and the account's own e-mail and name (`personal`).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Au moins {MIN_PASSWORD_LENGTH} caractères."]
    hints = [word for text in personal for word in text.replace("@", " ").replace(".", " ").split() if word]
    # zxcvbn refuses more than 72 characters (its cost grows with the length); the first 72 of a
    # longer password already tell whether it is made of one repeated pattern.
    if zxcvbn(password[:72], user_inputs=[*hints, *FRENCH_GUESSES])["score"] < MIN_PASSWORD_SCORE:
        return [WEAK_PASSWORD]
    return []


def _resolve_account(
    session: Session,
    *,
    role: str,
    password: str,
    structure_key: str | None,
    structure_id: int | None,
    territory_slug: str | None,
    domains: Iterable[str],
    personal: Iterable[str] = (),
    chosen_password: bool = True,
) -> tuple[Role, dict[str, Any], list[Domain]]:
    """Check an account's role, scope, domains and password; return what to store.

    `chosen_password` is false for the seed's fixed demo password only: see `ensure_user`.
    """
    errors: dict[str, list[str]] = {}
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput(
            "Rôle inconnu.", errors={"role": [f"« {role} » n'est pas un rôle (cip, cp, coordinator, admin)."]}
        ) from None
    if chosen_password:
        if problems := password_problems(password, personal=personal):
            errors["password"] = problems
    elif len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Au moins {MIN_PASSWORD_LENGTH} caractères."]
    scope: dict[str, Any] = {"structure_id": None, "territory_id": None}
    if role_value is Role.CIP:
        if structure_id is not None:
            structure = session.get(Structure, structure_id)
        else:
            structure = session.scalar(select(Structure).where(Structure.key == structure_key))
        if structure is None:
            errors["structure"] = ["Un·e CIP doit être rattaché·e à une structure connue."]
        else:
            scope["structure_id"] = structure.id
    elif role_value in (Role.CP, Role.COORDINATOR):
        territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
        if territory is None:
            errors["territory"] = [
                "Un·e CP ou un·e coordinateur·rice doit être rattaché·e à un territoire connu."
            ]
        else:
            scope["territory_id"] = territory.id
    domain_codes = list(dict.fromkeys(domains))
    found: list[Domain] = []
    if domain_codes and role_value is not Role.CP:
        errors["domains"] = ["Seul·e un·e chargé·e de partenariats a des domaines."]
    elif domain_codes:
        found = list(
            session.scalars(select(Domain).where(Domain.code.in_(domain_codes)).order_by(Domain.position))
        )
        unknown = sorted(set(domain_codes) - {domain.code for domain in found})
        if unknown:
            errors["domains"] = [f"« {code} » n'est pas un domaine connu." for code in unknown]
    if errors:
        raise InvalidInput("Le compte ne peut pas être enregistré.", errors=errors)
    return role_value, scope, found


def ensure_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
    structure_key: str | None = None,
    territory_slug: str | None = None,
    domains: Iterable[str] = (),
) -> User:
    """Create or update an account (seeding); the password is only re-hashed when it changed.

    The strength estimate is not applied here: the seed gives the demo accounts one fixed,
    published password (`seeds/demo.toml`, printed by `referral demo-accounts`), which nobody
    chose and which must keep opening the demo whatever a new version of the estimator's
    dictionaries thinks of it. Passwords people choose go through `create_user` and
    `change_password`, which apply it.
    """
    email = email.strip().lower()
    role_value, scope, found = _resolve_account(
        session,
        role=role,
        password=password,
        structure_key=structure_key,
        structure_id=None,
        territory_slug=territory_slug,
        domains=domains,
        chosen_password=False,
    )
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        session.add(user)
    assign_changed(user, full_name=full_name, role=role_value, **scope)
    if not password_matches(user, password):
        if user.password_hash:
            end_sessions(session, user)  # a new password ends the sessions opened with the old
        user.password_hash = hash_password(password)
    if [domain.code for domain in user.domains] != [domain.code for domain in found]:
        user.domains = found
    session.flush()
    return user


def create_user(
    session: Session,
    actor: User | None,
    *,
    email: str,
    full_name: str,
    role: str,
    password: str,
    structure_id: int | None = None,
    territory_slug: str | None = None,
    domains: Iterable[str] = (),
) -> User:
    """Open an account. Only the national team (or the command line, `actor=None`) may."""
    if actor is not None and actor.role is not Role.ADMIN:
        raise PermissionDenied("Seule l'équipe nationale peut créer des comptes.")
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput("Adresse e-mail invalide.", errors={"email": ["Adresse e-mail invalide."]})
    if not full_name.strip():
        raise InvalidInput("Le nom est obligatoire.", errors={"name": ["Champ obligatoire."]})
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountAlreadyExists(email)
    role_value, scope, found = _resolve_account(
        session,
        role=role,
        password=password,
        structure_key=None,
        structure_id=structure_id,
        territory_slug=territory_slug,
        domains=domains,
        personal=(email, full_name),
    )
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role_value,
        password_hash=hash_password(password),
        **scope,
    )
    user.domains = found
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every page session of `user`, on every device: the session cookies they hold carry
    the old generation and are refused from the next request on (`referral.web.auth`)."""
    user.session_generation = (user.session_generation or 0) + 1
    session.flush()


def change_password(session: Session, actor: User | None, user: User, *, password: str) -> User:
    """Set a new password chosen by its owner (or the national team, or the command line:
    `actor=None`), ending all of the account's sessions."""
    if actor is not None and actor.id != user.id and actor.role is not Role.ADMIN:
        raise PermissionDenied("Seule la personne titulaire du compte ou l'équipe nationale le peut.")
    if problems := password_problems(password, personal=(user.email, user.full_name)):
        raise InvalidInput("Le mot de passe ne peut pas être enregistré.", errors={"password": problems})
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    return user


def deactivate_user(session: Session, actor: User | None, user: User) -> User:
    """Close an account (national team or command line): its sessions and tokens stop at once."""
    if actor is not None and actor.role is not Role.ADMIN:
        raise PermissionDenied("Seule l'équipe nationale peut fermer des comptes.")
    user.is_active = False
    end_sessions(session, user)
    revoke_tokens_of(session, user)
    return user


def revoke_tokens_of(session: Session, user: User) -> int:
    """Revoke every token of `user` still in force (a closed account's tokens stay dead even if
    the account is reopened)."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


# Failed logins slow down the pair (typed e-mail, client address) with growing delays, and the
# address as a whole; never the account alone, which anyone could then lock for its owner.
ATTEMPT_WINDOW = timedelta(hours=1)  # failures older than this are forgotten
FREE_FAILURES = 3  # typing errors: no delay before the fourth try
FIRST_DELAY = timedelta(seconds=30)  # then 30 s, 1 min, 2 min… between tries
MAX_DELAY = timedelta(minutes=15)
ADDRESS_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 20  # across all e-mails: one address trying many accounts
TOKEN_LIFETIME = timedelta(days=90)


def pair_delay(failures: int) -> timedelta:
    """How long to wait after the last of `failures` consecutive failures of one pair."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - FREE_FAILURES - 1, 16))


def _login_wait(session: Session, email: str, remote_addr: str, now: datetime) -> timedelta:
    """How long this e-mail must wait before trying again from this address (0: not at all).

    Only real failures count (an attempt refused for waiting checks no password and is not
    recorded), and a success from the same address starts the count again.
    """
    failed = LoginAttempt.succeeded.is_(False)
    pair = (LoginAttempt.email == email, LoginAttempt.remote_addr == remote_addr)
    recent = LoginAttempt.at >= now - ATTEMPT_WINDOW
    # Rows are compared by id, not time: two attempts may share a timestamp.
    last_success_id = session.scalar(
        select(func.max(LoginAttempt.id)).where(*pair, recent, LoginAttempt.succeeded.is_(True))
    )
    failures, last_failure = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *pair, recent, failed, LoginAttempt.id > (last_success_id or 0)
        )
    ).one()
    wait = timedelta(0)
    if last_failure is not None:
        wait = last_failure + pair_delay(failures) - now
    # The address as a whole: the oldest of its last MAX_FAILURES_PER_ADDRESS failures in the
    # window says when one of them leaves it.
    oldest = session.scalar(
        select(LoginAttempt.at)
        .where(LoginAttempt.remote_addr == remote_addr, failed, LoginAttempt.at >= now - ADDRESS_WINDOW)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .offset(MAX_FAILURES_PER_ADDRESS - 1)
        .limit(1)
    )
    if oldest is not None:
        wait = max(wait, oldest + ADDRESS_WINDOW - now)
    return max(wait, timedelta(0))


def authenticate(session: Session, *, email: str, password: str, remote_addr: str) -> User:
    """Check credentials, recording the attempt; make a pair (e-mail, address) or an address
    that failed repeatedly wait, with the same answer whether the account exists or not.

    The attempt row must outlive a refused request: the caller keeps it (see
    `referral.web.request_session.keep_on_error`).
    """
    email = email.strip().lower()
    now = utcnow()
    wait = _login_wait(session, email, remote_addr, now)
    if wait > timedelta(0):
        raise LoginLockedOut(wait)
    user = session.scalar(select(User).where(User.email == email))
    # A hash is checked even for an unknown e-mail, so timing does not reveal which accounts exist.
    candidate_hash = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    valid = check_password_hash(candidate_hash, password) and user is not None and user.is_active
    session.add(LoginAttempt(email=email, remote_addr=remote_addr, at=now, succeeded=valid))
    if not valid or user is None:
        session.flush()
        raise LoginRefused()
    user.last_login_at = now
    session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, *, name: str = "", lifetime: timedelta = TOKEN_LIFETIME
) -> tuple[str, ApiToken]:
    """A new bearer token for `user`; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):
        # A token starting with « - » reads as an option on a command line (`referral tokens
        # revoke`, curl's arguments): drawn again, it loses a sixty-fourth of one character.
        token = secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id, token_hash=_token_digest(token), name=name, created_at=now, expires_at=now + lifetime
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User:
    """The active user a valid bearer token belongs to, read with the token in one statement of
    the request's own session; its last use is noted on the side when it is stale.

    Nearly every request finds the last use recent (`TOKEN_USE_PERIOD`) and writes nothing: no
    side connection, no commit, no second read of the user. Once per period per token the use
    is noted in a short transaction of its own (`note_token_use`), after the request's reads so
    far are rolled back: the request itself never writes the token row, so two requests with the
    same token never wait for each other, and on SQLite the request's snapshot (or write lock,
    for a request that writes) starts after that write rather than before it.
    """
    now = now or utcnow()
    row = session.execute(
        select(User, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_digest(token))
    ).one_or_none()
    if row is None:
        raise TokenRefused()
    user, revoked_at, expires_at, last_used_at = row
    if revoked_at is not None or expires_at <= now or not user.is_active:
        raise TokenRefused()
    if last_used_at is not None and last_used_at >= now - TOKEN_USE_PERIOD:
        return user
    session.rollback()  # nothing of the request's yet but this read; it holds nothing from here
    noted = session.get(User, note_token_use(session.get_bind(), token, now))
    if noted is None or not noted.is_active:
        raise TokenRefused()
    return noted


# The last use of a token is known to within this period: one write per token per period at
# most, instead of one per request.
TOKEN_USE_PERIOD = timedelta(minutes=5)


def note_token_use(bind: Engine | Connection, token: str, now: datetime | None = None) -> int:
    """Check `token` and note that it is used; return its user's id or raise `TokenRefused`.

    Runs in a transaction of its own (`side_transaction`) that holds the row for as long as one
    UPDATE at most. The UPDATE is skipped when the last use read is recent, and it is
    conditional, so two requests that both found it stale write it once.
    """
    now = now or utcnow()
    recent = now - TOKEN_USE_PERIOD
    with side_transaction(bind) as connection:
        row = connection.execute(
            select(
                ApiToken.id, ApiToken.user_id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at
            )
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == _token_digest(token), User.is_active.is_(True))
        ).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise TokenRefused()
        if row.last_used_at is None or row.last_used_at < recent:
            connection.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == row.id,
                    or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < recent),
                )
                .values(last_used_at=now)
            )
    return row.user_id


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise TokenRefused()
    row.revoked_at = utcnow()
    session.flush()
