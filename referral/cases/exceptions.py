"""Refusals about case records, each with the French message shown to people."""

from __future__ import annotations

from referral.exceptions import NotFound, PermissionDenied


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
