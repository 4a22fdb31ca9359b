"""Refusals about accounts and access, each with the French message shown to people."""

from __future__ import annotations

import math
from datetime import timedelta

from referral.exceptions import Conflict, DomainError, InvalidInput, TooManyAttempts, Unauthenticated

# One message for a wrong e-mail and a wrong password: which one was wrong is not revealed.
WRONG_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
# The same for every e-mail, known or not; only the wait differs, and it depends on the failures
# from this address, not on the account.
LOCKED_OUT = "Trop de tentatives de connexion infructueuses depuis cette adresse."


class LoginRefused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__(WRONG_CREDENTIALS)


def _in_french(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


class LoginLockedOut(TooManyAttempts):
    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"{LOCKED_OUT} Pour protéger les comptes, réessayez dans {_in_french(wait)}.")
        self.retry_after = max(1, math.ceil(wait.total_seconds()))


class TokenRefused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("Jeton d'accès invalide, expiré ou révoqué.")


class AccountAlreadyExists(Conflict):
    def __init__(self, email: str) -> None:
        super().__init__(
            f"Un compte existe déjà pour « {email} ».", errors={"email": ["Adresse déjà utilisée."]}
        )


class InvalidAccount(InvalidInput):
    pass


class LinkRefused(DomainError):
    """An invitation or reset link that no longer works (used, cancelled, replaced or expired).

    410: the link existed and is gone; the same answer for a link that never existed, so that
    guessing reveals nothing.
    """

    status = 410
    title = "Lien expiré ou déjà utilisé"


class SecondFactorRefused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("Code de vérification incorrect ou déjà utilisé.")
