"""Refusals of the partner network's actions, each with the French message shown to people.

The web layer maps their base classes (`NotFound` 404, `PermissionDenied` 403, `Conflict` 409,
`InvalidInput` 422) to responses once, in `referral.web.errors`; members of ``extra`` (the
duplicate `candidates`) are added to the problem+json body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied


class PartnerNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Ce partenaire n'existe pas ou n'intervient pas sur votre territoire.")


class OpportunityNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Cette opportunité n'existe pas ou n'est pas proposée sur votre territoire.")


class MeetingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Cette réunion n'existe pas ou ne concerne pas votre territoire.")


class OfficeHourNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Ce créneau de permanence n'existe pas ou ne concerne pas votre territoire.")


class WorkshopNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Cet atelier n'existe pas ou ne concerne pas votre territoire.")


class TerritoryNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(f"Territoire inconnu ou hors de votre périmètre : « {slug} ».")


class NotThePartnerNetworkRole(PermissionDenied):
    """Only CPs build the network; coordinators and CIPs read it (DESIGN §8)."""


class OutsideYourDomains(PermissionDenied):
    def __init__(self, domain_label: str) -> None:
        super().__init__(
            f"Le domaine « {domain_label} » ne fait pas partie de vos domaines : seul·e un·e chargé·e "
            "de partenariats de ce domaine peut créer, modifier ou publier cette opportunité."
        )


class InvalidPartner(InvalidInput):
    pass


class InvalidOpportunity(InvalidInput):
    pass


@dataclass(frozen=True)
class DuplicateCandidate:
    """A partner that probably is the one being created, and why we think so."""

    id: int
    name: str
    town: str | None
    reason: str
    score: float = 100.0
    # Same SIRET: certain, and not something a CP can confirm away.
    same_siret: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "town": self.town, "reason": self.reason}


class LikelyDuplicatePartner(Conflict):
    """A partner with the same SIRET, or a close name in the same town, already exists.

    The CP opens the existing one, or confirms (``confirm_new``) that it is another organisation.
    A same-SIRET candidate cannot be confirmed away: a SIRET identifies one establishment.
    """

    def __init__(self, candidates: Sequence[DuplicateCandidate], *, same_siret: bool) -> None:
        if same_siret:
            message = (
                "Un partenaire porte déjà ce numéro SIRET : un SIRET désigne un seul établissement. "
                "Ouvrez la fiche existante plutôt que d'en créer une seconde."
            )
        else:
            message = (
                "Ce partenaire existe probablement déjà (nom proche dans la même commune). Ouvrez la "
                "fiche existante, ou confirmez qu'il s'agit d'une autre structure."
            )
        super().__init__(message)
        self.candidates = list(candidates)
        self.same_siret = same_siret
        self.extra = {"candidates": [candidate.as_dict() for candidate in self.candidates]}


class SiretAlreadyUsed(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Ce numéro SIRET est déjà celui du partenaire « {name} ».",
            errors={"siret": ["SIRET déjà utilisé par un autre partenaire."]},
        )


class StaleVersion(Conflict):
    """Optimistic locking: someone changed the opportunity since the caller loaded it."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"Cette opportunité a été modifiée entre-temps (version {current}, vous aviez la version "
            f"{expected}). Rechargez-la et refaites vos modifications.",
            errors={"version": [f"Version périmée : la version actuelle est {current}."]},
        )
        self.extra = {"current_version": current}


class OpportunityTransitionRefused(Conflict):
    """The action is not allowed from the opportunity's current state (transitions table)."""


class OfficeHourUnavailable(Conflict):
    pass
