"""The base of every domain error: a French message for people, and the HTTP status it maps to.

Domain packages subclass these in their own `exceptions.py`; the web layer maps them to responses
once, in `referral.web.errors`.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal by a rule of the service, carrying a French message fit to show as it is."""

    status = 400
    title = "Demande refusée"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        # Extra members of the problem+json body (e.g. duplicate `candidates`).
        self.extra: dict[str, object] = {}


class NotFound(DomainError):
    """Missing, or outside the caller's scope: both answer the same, so existence is not revealed."""

    status = 404
    title = "Introuvable"


class PermissionDenied(DomainError):
    status = 403
    title = "Action non autorisée"


class Conflict(DomainError):
    """The action does not fit the current state (wrong state, stale version, duplicate…)."""

    status = 409
    title = "Conflit"


class InvalidInput(DomainError):
    """The input breaks a rule; `errors` maps each offending field to its French messages."""

    status = 422
    title = "Données invalides"


class Unauthenticated(DomainError):
    """Who is asking is not known (no session, wrong credentials, expired or revoked token)."""

    status = 401
    title = "Authentification requise"


class TooManyAttempts(DomainError):
    status = 429
    title = "Trop de tentatives"
