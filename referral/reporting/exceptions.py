"""Refusals of the reporting services, each with the French message shown to people.

The web layer maps their base classes (`NotFound` 404, `PermissionDenied` 403, `InvalidInput`
422) once, in `referral.web.errors`. A structure or territory outside the caller's scope answers
the same 404 as an unknown one, so its existence is not revealed.
"""

from __future__ import annotations

from referral.exceptions import InvalidInput, NotFound, PermissionDenied


class ScopeNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"Périmètre introuvable : « {code} ».",
            errors={"scope": ["Périmètre inconnu ou hors de votre accès."]},
        )


class ScopeRefused(PermissionDenied):
    """A role asking for a wider scope than its own (a CIP for a territory, a coordinator for
    the whole country)."""


class InvalidReportRequest(InvalidInput):
    """A period, programme or scope the indicators cannot be computed for; `errors` names the
    field."""


class EvaluationExportRefused(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("L'export pour l'évaluation est réservé à l'équipe nationale (Convergence France).")
