"""Refusals about case records, each with the French message shown to people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from referral.exceptions import Conflict, NotFound, PermissionDenied


class ParticipantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Ce dossier n'existe pas ou ne fait pas partie de votre périmètre.")


class RecordsNotVisible(PermissionDenied):
    """Only a structure's CIPs open named records (DESIGN §8)."""

    def __init__(self) -> None:
        super().__init__(
            "Les dossiers nominatifs ne sont consultables que par les CIP de la structure qui accompagne "
            "la personne. Les chargé·es de partenariats voient ce que partage une orientation ; les "
            "coordinateur·rices et l'équipe nationale, des indicateurs agrégés."
        )


class RecordAnonymised(Conflict):
    """A record anonymised at the end of its retention period is kept for the figures only."""

    def __init__(self) -> None:
        super().__init__(
            "Ce dossier a été anonymisé à la fin de sa durée de conservation : il ne se modifie plus. "
            "Si la personne revient, ouvrez-lui un nouveau dossier."
        )


class LikelyDuplicate(Conflict):
    """Another structure of the territory probably follows this person: transfer, don't copy."""

    def __init__(self, candidates: Sequence[Any]) -> None:
        if any(c.same_structure for c in candidates):
            message = (
                "Cette personne semble déjà avoir un dossier dans votre structure. Ouvrez ce dossier "
                "plutôt que d'en créer un second, ou confirmez qu'il s'agit d'une autre personne."
            )
        else:
            message = (
                "Cette personne semble déjà suivie par une autre structure du territoire. Demandez "
                "plutôt le transfert de son dossier (avec son accord), ou confirmez qu'il s'agit d'une "
                "autre personne."
            )
        super().__init__(message)
        self.candidates = list(candidates)
        self.extra = {
            "candidates": [
                # Who follows the person, never a handle on their record: a transfer is asked
                # by naming the person (`transfers.request_transfer`).
                {
                    "structure_id": c.structure_id,
                    "structure_name": c.structure_name,
                    "score": round(c.score, 1),
                    "reason": c.reason,
                    "same_structure": c.same_structure,
                    # Within the CIP's own structure the record is theirs to open: its id is given.
                    **({"participant_id": c.participant_id} if c.same_structure else {}),
                }
                for c in self.candidates
            ]
        }


class TransferNotAllowed(Conflict):
    pass
