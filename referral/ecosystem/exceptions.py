"""Refusals of the ecosystem's services, each with the French message shown to people.

The web layer maps their base classes (`NotFound` 404, `PermissionDenied` 403, `InvalidInput` 422)
to responses once, in `referral.web.errors`. An unknown territory and a territory outside the
caller's scope answer the same 404 (`referral.partners.exceptions.TerritoryNotFound`), so the
existence of another territory's data is not revealed.
"""

from __future__ import annotations

from referral.exceptions import InvalidInput, PermissionDenied


class EcosystemRefused(PermissionDenied):
    """CIPs work with their own participants; the ecosystem is the coordination's view (DESIGN §8)."""

    def __init__(self) -> None:
        super().__init__(
            "L'écosystème du territoire est réservé à la coordination, aux chargé·es de partenariats "
            "et à l'équipe nationale."
        )


class NationalViewRefused(PermissionDenied):
    def __init__(self) -> None:
        super().__init__(
            "La vue nationale de l'écosystème est réservée à l'équipe nationale (Convergence France)."
        )


class InvalidNetworkFilter(InvalidInput):
    """A domain or a period the ecosystem cannot be filtered by; `errors` names the field."""


class UnknownExportFormat(InvalidInput):
    def __init__(self, fmt: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"Format d'export inconnu : « {fmt} ».",
            errors={"format": [f"Formats possibles : {', '.join(known)}."]},
        )
