"""Two-factor sign-in with a password: a TOTP code (RFC 6238, any authenticator app) or one of
ten single-use recovery codes.

Required for the national team (it manages every account); offered to everyone; a deployment
may require it for every role that handles health data — the CIPs (whole records) and the CPs
(health referrals) — with ``REFERRAL_TWO_FACTOR=health`` (`required_for`). ProConnect sign-in
does not ask for it: ProConnect applies its own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.exceptions import InvalidInput, PermissionDenied, TooManyAttempts
from referral.territories.exceptions import SecondFactorRefused
from referral.territories.models import LoginAttempt, RecoveryCode, Role, User
from referral.territories.services import password_matches

ISSUER = "Réseau Convergence"
RECOVERY_CODES = 10
# Policies a deployment may choose (REFERRAL_TWO_FACTOR): the national team only, or every role
# handling health data as well.
POLICIES = ("national", "health")
HEALTH_ROLES = frozenset({Role.CIP, Role.CP})
# Wrong codes tolerated per account in a quarter of an hour before waiting: six digits are a
# million guesses, a handful of tries leaves them out of reach.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
STEP = 30  # seconds per TOTP code
DIGITS = 6  # per TOTP code (pyotp's default, what every authenticator app shows)


def required_for(user: User, policy: str) -> bool:
    """Whether `user` must sign in with a second factor; "off" is for tests about other things
    (set by their configuration mapping, never from the environment)."""
    if policy == "off":
        return False
    if user.role is Role.ADMIN:
        return True
    return policy == "health" and user.role in HEALTH_ROLES


def enabled(user: User) -> bool:
    return user.totp_secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads (typed, or from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _code_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]  # 40 bits each, single use
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_digest(user.id, code)) for code in codes)
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code is `code` (one step of clock drift either way), newer than `after`."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def enable(session: Session, user: User, *, secret: str, code: str, now: datetime | None = None) -> list[str]:
    """Turn two-factor on with the secret the person's app now holds, proven by a first code;
    return the recovery codes, shown once."""
    now = now or utcnow()
    step = _matching_step(secret, _normalised(code), now, None)
    if step is None:
        raise InvalidInput(
            "Code incorrect : vérifiez l'heure du téléphone et saisissez le code affiché.",
            errors={"code": ["Code incorrect."]},
        )
    user.totp_secret = secret
    user.totp_last_step = step
    session.flush()
    return _new_recovery_codes(session, user)


def disable(session: Session, user: User, *, password: str, policy: str) -> None:
    if required_for(user, policy):
        raise PermissionDenied("La double authentification est obligatoire pour votre rôle.")
    if not password_matches(user, password):
        raise InvalidInput("Mot de passe incorrect.", errors={"password": ["Mot de passe incorrect."]})
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


def regenerate_recovery_codes(session: Session, user: User) -> list[str]:
    if not enabled(user):
        raise PermissionDenied("Activez d'abord la double authentification.")
    return _new_recovery_codes(session, user)


def remaining_recovery_codes(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def verify(session: Session, user: User, code: str, *, remote_addr: str, now: datetime | None = None) -> None:
    """Accept a TOTP code (each at most once) or an unused recovery code; otherwise record the
    failure and raise `SecondFactorRefused` (`TooManyAttempts` after too many).

    The attempt row must outlive a refused request (`keep_on_error`), like a password's.
    """
    now = now or utcnow()
    attempt_email = f"2fa:{user.id}"
    failures = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.email == attempt_email,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > now - FAILURE_WINDOW,
            )
        )
        or 0
    )
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(
            "Trop de codes incorrects : pour protéger le compte, réessayez dans un quart d'heure."
        )
    typed = _normalised(code)
    accepted = False
    # Six digits are a TOTP code; anything else may be a recovery code — ten hex characters,
    # which are all digits about once in a hundred codes and must not be taken for a TOTP one.
    if user.totp_secret is not None and typed.isdigit() and len(typed) == DIGITS:
        step = _matching_step(user.totp_secret, typed, now, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            accepted = True
    elif typed:
        row = session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _code_digest(user.id, typed),
                RecoveryCode.used_at.is_(None),
            )
        )
        if row is not None:
            row.used_at = now
            accepted = True
    session.add(LoginAttempt(email=attempt_email, remote_addr=remote_addr[:45], at=now, succeeded=accepted))
    session.flush()
    if not accepted:
        raise SecondFactorRefused()
