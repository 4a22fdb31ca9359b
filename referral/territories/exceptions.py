"""Refusals about accounts and access, each with the French message shown to people."""

from __future__ import annotations

from referral.exceptions import Conflict, InvalidInput, TooManyAttempts, Unauthenticated

# One message for a wrong e-mail and a wrong password: which one was wrong is not revealed.
WRONG_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
LOCKED_OUT = (
    "Trop de tentatives de connexion infructueuses. Pour protéger les comptes, la connexion est "
    "suspendue quelques minutes : réessayez plus tard."
)


class LoginRefused(Unauthenticated):
    def __init__(self) -> None:
        super().__init__(WRONG_CREDENTIALS)


class LoginLockedOut(TooManyAttempts):
    def __init__(self) -> None:
        super().__init__(LOCKED_OUT)


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
