"""Small hand-built snapshots whose analytics are worked out by hand in the tests.

`small_territory` (Lyon-like, 3 structures, 6 partners, 3 CPs):

- santé: every accepted referral went to Maison de santé Gerland, the only santé partner;
- logement: Bailleur Rhône (3 accepted) and Résidence Horizon (0 accepted, opportunity full);
- emploi: Franprix Lyon 7 and Intérim Solidaire share the accepted referrals 2–2;
- santé mentale: CMP Est alone, referred once by Chantier des Pentes, which refers nowhere else,
  so CMP Est is a cut vertex: without it Chantier des Pentes and the santé mentale domain are cut
  off;
- langue: 3 open needs and nobody at all;
- Chantier des Pentes: 26 open needs, 1 referral (the territory: 43 needs, 31 referrals).
"""

from __future__ import annotations

from datetime import date

from referral.network.snapshot import (
    CPInfo,
    CPPartnerLink,
    Deployment,
    DeploymentStatus,
    DomainInfo,
    NationalNetworkInfo,
    NationalSnapshot,
    NetworkSnapshot,
    OpenNeeds,
    OpenPlaces,
    PartnerInfo,
    ReferralAggregate,
    StructureInfo,
    SubtypeInfo,
    TerritoryInfo,
)

DOMAINS = (
    DomainInfo(
        "emploi",
        "Emploi",
        (
            SubtypeInfo("emploi.offre", "Offre d’emploi en entreprise"),
            SubtypeInfo("emploi.cdi_progressif", "CDI progressif"),
        ),
    ),
    DomainInfo(
        "logement",
        "Logement",
        (
            SubtypeInfo("logement.social", "Logement social"),
            SubtypeInfo("logement.intermediaire", "Logement intermédiaire ou accompagné"),
        ),
    ),
    DomainInfo(
        "sante", "Santé", (SubtypeInfo("sante.medecin_traitant", "Déclaration d’un médecin traitant"),)
    ),
    DomainInfo("sante_mentale", "Santé mentale et addictions"),
    DomainInfo("langue", "Langue française"),
)


def small_territory() -> NetworkSnapshot:
    return NetworkSnapshot(
        territory_slug="lyon",
        territory_name="Lyon",
        structures=(
            StructureInfo(1, "Chantier de la Croix-Rousse", "Lyon", participants=20),
            StructureInfo(2, "Chantier de Gerland", "Lyon", participants=15),
            StructureInfo(3, "Chantier des Pentes", "Lyon", participants=30),
        ),
        partners=(
            PartnerInfo(
                10,
                "Bailleur Rhône",
                "bailleur_social",
                domains=("logement",),
                convention_signed_on=date(2024, 1, 15),
                convention_ends_on=date(2026, 12, 31),
            ),
            PartnerInfo(11, "Résidence Horizon", "residence_sociale", domains=("logement",)),
            PartnerInfo(20, "Maison de santé Gerland", "maison_sante", domains=("sante",)),
            PartnerInfo(
                30, "Franprix Lyon 7", "entreprise", national_network="franprix", domains=("emploi",)
            ),
            PartnerInfo(31, "Intérim Solidaire", "entreprise", domains=("emploi",)),
            PartnerInfo(40, "CMP Est", "cmp", domains=("sante_mentale",)),
        ),
        cps=(
            CPInfo(1, "Karim Belkacem", ("emploi", "formation", "mobilite", "langue")),
            CPInfo(2, "Claire Nguyen", ("sante", "acces_droits", "sante_mentale")),
            CPInfo(3, "Julien Morel", ("logement", "hebergement", "budget")),
        ),
        domains=DOMAINS,
        national_networks=(NationalNetworkInfo("franprix", "Franprix", "entreprise"),),
        referrals=(
            ReferralAggregate(1, 10, "logement", 6, accepted=3, answered=5, median_answer_days=12.0),
            ReferralAggregate(1, 20, "sante", 8, accepted=6, answered=8, median_answer_days=5.0),
            ReferralAggregate(1, 30, "emploi", 4, accepted=2, answered=3, median_answer_days=20.0),
            ReferralAggregate(2, 10, "logement", 3, accepted=1, answered=2, median_answer_days=15.0),
            ReferralAggregate(2, 11, "logement", 2, accepted=0, answered=1, median_answer_days=30.0),
            ReferralAggregate(2, 20, "sante", 5, accepted=4, answered=5, median_answer_days=7.0),
            ReferralAggregate(2, 31, "emploi", 2, accepted=2, answered=2, median_answer_days=3.0),
            ReferralAggregate(3, 40, "sante_mentale", 1, accepted=1, answered=1, median_answer_days=2.0),
        ),
        cp_links=(
            CPPartnerLink(1, 30),
            CPPartnerLink(1, 31),
            CPPartnerLink(2, 20),
            CPPartnerLink(2, 40),
            CPPartnerLink(3, 10),
            CPPartnerLink(3, 11),
        ),
        deployments=(Deployment("franprix", 30, "lyon", DeploymentStatus.DEPLOYED),),
        needs=(
            OpenNeeds(1, "logement", "logement.social", 5),
            OpenNeeds(2, "logement", "logement.social", 3),
            OpenNeeds(3, "logement", "logement.intermediaire", 6),
            OpenNeeds(1, "sante", "sante.medecin_traitant", 4),
            OpenNeeds(3, "sante", None, 10),
            OpenNeeds(3, "emploi", "emploi.offre", 8),
            OpenNeeds(2, "emploi", "emploi.offre", 2),
            OpenNeeds(3, "sante_mentale", None, 2),
            OpenNeeds(1, "langue", None, 3),
        ),
        places=(
            OpenPlaces(100, 10, "logement", ("logement.social",), 2),
            OpenPlaces(101, 11, "logement", ("logement.intermediaire",), 0),
            OpenPlaces(200, 20, "sante", (), 20),
            OpenPlaces(300, 30, "emploi", ("emploi.cdi_progressif",), 3),
            OpenPlaces(301, 31, "emploi", ("emploi.offre",), 4),
            OpenPlaces(400, 40, "sante_mentale", (), 5),
        ),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 10, 31),
    )


def bridge_territory() -> NetworkSnapshot:
    """Two clusters — {structures 1, 2; partner Alpha} and {structures 3, 4; partner Beta} — that
    only Passerelle joins: structures 2 and 3 both refer to it. No domains, CPs or networks, so
    the graph is exactly that path-like shape and betweenness can be checked by hand."""
    return NetworkSnapshot(
        territory_slug="test",
        territory_name="Pont",
        structures=tuple(StructureInfo(i, f"Structure {i}") for i in (1, 2, 3, 4)),
        partners=(
            PartnerInfo(1, "Alpha", "association"),
            PartnerInfo(2, "Beta", "association"),
            PartnerInfo(3, "Passerelle", "association"),
        ),
        referrals=(
            ReferralAggregate(1, 1, "emploi", 2),
            ReferralAggregate(2, 1, "emploi", 2),
            ReferralAggregate(2, 3, "emploi", 1),
            ReferralAggregate(3, 3, "emploi", 1),
            ReferralAggregate(3, 2, "emploi", 2),
            ReferralAggregate(4, 2, "emploi", 2),
        ),
        domains=(),
    )


def national() -> NationalSnapshot:
    return NationalSnapshot(
        territories=(
            TerritoryInfo("paris", "Paris"),
            TerritoryInfo("lyon", "Lyon"),
            TerritoryInfo("lille", "Lille"),
        ),
        networks=(
            NationalNetworkInfo("franprix", "Franprix", "entreprise"),
            NationalNetworkInfo("cnam", "Caisse nationale de l’Assurance Maladie (CNAM)", "cpam"),
            NationalNetworkInfo("cdc_habitat", "CDC Habitat", "bailleur_social"),
        ),
        deployments=(
            Deployment("franprix", 30, "lyon", DeploymentStatus.DEPLOYED),
            Deployment("franprix", 32, "paris", DeploymentStatus.IN_DISCUSSION),
            Deployment("franprix", 33, "paris", DeploymentStatus.DEPLOYED),
            Deployment("cnam", 50, "lille", DeploymentStatus.IN_DISCUSSION),
        ),
    )
