"""Refusals of the referral loop, each with the French message shown to people."""

from __future__ import annotations

from referral.exceptions import Conflict, InvalidInput, NotFound


class ReferralNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Cette orientation n'existe pas ou ne fait pas partie de votre périmètre.")


class TransitionNotAllowed(Conflict):
    """Wrong state or wrong role for the move (DESIGN §7: 409)."""


class StaleVersion(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "Cette orientation vient d'être modifiée par quelqu'un d'autre : rechargez la page pour voir "
            "son état actuel avant d'agir."
        )


class ConsentMissing(Conflict):
    pass


class CapacityExhausted(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "Plus aucune place n'est disponible sur cette opportunité : inscrivez plutôt la personne sur "
            "liste d'attente."
        )


class OpportunityUnavailable(Conflict):
    pass


class NotEligible(Conflict):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            "La personne ne remplit plus les critères de cette opportunité : " + " ; ".join(reasons) + ".",
            errors={"opportunity_id": reasons},
        )


class BadTransitionInput(InvalidInput):
    pass
