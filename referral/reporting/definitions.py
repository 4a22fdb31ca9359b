"""What every indicator means, in French: the one table shown beside each picture, in the XLSX's
« Définitions » sheet and in the API. Also the groupings the indicators use (housing groups,
« sorties dynamiques », follow-up outcomes), so a definition and its computation are read together.

The programme's own figures these follow: the 2017 impact evaluation (47 % « sorties positives »,
50 % « en logement » at exit, 75 % « meilleure prise en charge santé », 75 % « accèdent à plus de
droits »), the 2022 report (Premières Heures paths per worksite, people per territory), and the
DGEFP's exit families of the IAE.
"""

from __future__ import annotations

from types import MappingProxyType

# A path (« parcours ») is one case record: a person who left and came back later has a second
# record, hence two paths, but is one person in the « file active ».
PATH_PAST_DAYS = 730  # « plus de 24 mois »: 24 months of 30.4 days
DAYS_PER_MONTH = 30.4375
PHC_TARGET_HOURS = 20.0

# DGEFP exit families counted as « sorties dynamiques » (the programme's « sorties positives »).
DYNAMIC_FAMILIES = ("emploi_durable", "emploi_transition", "sortie_positive")

# Housing situations grouped for the entry → exit flows (every code of seeds/reference/lists.toml
# [[housing_status]] has a group; a test checks it).
HOUSING_GROUPS: MappingProxyType[str, tuple[str, tuple[str, ...]]] = MappingProxyType(
    {
        "rue": ("Rue, squat, abri de fortune", ("rue", "squat", "abri_fortune")),
        "urgence": (
            "Hébergement d'urgence ou hôtel",
            ("chu", "hotel_social", "hebergement_asile", "structure_soins"),
        ),
        "insertion": (
            "Hébergement d'insertion, chez un tiers, habitat mobile",
            ("chrs", "heberge_tiers", "caravane_habitat_mobile"),
        ),
        "logement_accompagne": (
            "Logement accompagné (résidence sociale, pension de famille, IML)",
            ("residence_sociale", "pension_famille", "intermediation_locative"),
        ),
        "logement": ("Logement autonome (social ou privé)", ("logement_social", "logement_prive")),
    }
)
HOUSING_GROUP_OF = {code: group for group, (_label, codes) in HOUSING_GROUPS.items() for code in codes}
# « En logement » (the 2017 evaluation's 50 %): autonomous or supported housing, not shelter.
HOUSED_GROUPS = ("logement_accompagne", "logement")
UNKNOWN = "non_renseigne"
UNKNOWN_LABEL = "Non renseigné"

# Health coverage, from none to the fullest: a move up is a better coverage.
COVERAGE_RANK = MappingProxyType({"aucune": 0, "ame": 1, "puma": 1, "css": 2})

# Follow-up outcomes grouped as the programme reports them.
FOLLOW_UP_GROUPS: MappingProxyType[str, tuple[str, tuple[str, ...]]] = MappingProxyType(
    {
        "emploi": (
            "En emploi ou en parcours",
            ("emploi_meme_employeur", "emploi_ailleurs", "parcours_siae", "formation"),
        ),
        "logement": ("Toujours logé·e", ("toujours_loge",)),
        "perte_logement": ("A perdu son logement", ("perte_logement",)),
        "sans_emploi": ("Sans emploi ou sans activité", ("recherche_emploi", "inactivite")),
        "contact_perdu": ("Contact perdu", ("contact_perdu",)),
    }
)

# Referral states grouped for the acceptance rate: a partner's answer is an acceptance (and what
# follows it) or a refusal; a waiting list is not yet an answer either way.
ACCEPTED_STATES = ("accepted", "started", "closed")

DEFINITIONS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "activity": (
            "Activité",
            "File active : personnes dont un parcours est en cours à un moment de la période (entrée "
            "avant la fin de la période, pas de sortie avant son début) ; une personne sortie puis "
            "revenue (deux dossiers : mêmes nom, prénom et date de naissance) compte une fois. "
            "Parcours en cours : dossiers dans ce cas (la personne revenue compte deux fois). "
            "Entrées : parcours commencés dans la période. Sorties : sorties enregistrées dans la "
            "période. Durée des parcours : de l'entrée à la sortie, pour les sorties de la période, "
            "en mois (30,4 jours). Parcours de plus de 24 mois : parcours en cours dans la période "
            "qui ont duré plus de 730 jours à leur sortie ou à la fin de la période. "
            "Renouvellements : demandés dans la période ; accordés ou refusés par une décision de la "
            "période ; en attente à la fin de la période.",
        ),
        "activity_monthly": (
            "Entrées et sorties par mois",
            "Parcours commencés et sorties enregistrées, mois par mois, sur la période.",
        ),
        "exits_by_family": (
            "Sorties par famille (DGEFP)",
            "Sorties de la période, par famille de sortie de la DGEFP. Taux de sorties dynamiques : "
            "emploi durable, emploi de transition et sorties positives, rapportés à toutes les "
            "sorties de la période — les « sorties positives » du programme (47 % à l'évaluation de "
            "2017).",
        ),
        "exits_by_type": (
            "Sorties par type",
            "Sorties de la période, par type de sortie, avec leur famille DGEFP.",
        ),
        "housing_flows": (
            "Logement : de l'entrée à la sortie",
            "Pour les sorties de la période : situation de logement à l'entrée (celle que le dossier "
            "indiquait à sa création, même mis à jour depuis) et à la sortie (enregistrée avec la "
            "sortie), regroupée. En logement : logement autonome "
            "(social ou privé) ou logement accompagné (résidence sociale, pension de famille, "
            "intermédiation locative) — 50 % à la sortie à l'évaluation de 2017.",
        ),
        "housing_share": (
            "Part des personnes en logement",
            "Part des sorties de la période en logement (autonome ou accompagné) à l'entrée et à la "
            "sortie ; les situations non renseignées comptent au dénominateur.",
        ),
        "health": (
            "Santé et droits : de l'entrée à la sortie",
            "Pour les sorties de la période. Couverture maladie à l'entrée (celle du dossier "
            "à sa création) et médecin traitant à l'entrée (quand le volet santé a été rempli pour la "
            "première fois), et à la sortie. Meilleure prise en charge santé (75 % en 2017) : couverture "
            "plus complète à la sortie (aucune → AME ou PUMa → CSS) ou médecin traitant trouvé. "
            "Accès à plus de droits (75 % en 2017) : au moins un droit ouvert enregistré à la sortie, "
            "ou une couverture maladie obtenue. Dénominateur : sorties dont la situation de santé "
            "à la sortie est renseignée (couverture ou médecin traitant).",
        ),
        "coverage_flows": (
            "Couverture maladie : de l'entrée à la sortie",
            "Sorties de la période, par couverture maladie à l'entrée et à la sortie.",
        ),
        "phc_progression": (
            "Premières Heures : progression des heures",
            "Parcours Premières Heures en cours dans la période. Heures de départ : celles du premier "
            "contrat d'insertion ; heures atteintes : le plus d'heures par semaine d'un contrat "
            "commencé avant la fin de la période. Atteint 20 h ou un CDDI : un contrat d'au moins "
            "20 h par semaine ou un CDDI (hors CDDI-PHC) commencé avant la fin de la période ; délai "
            "en semaines depuis l'entrée.",
        ),
        "phc_summary": (
            "Premières Heures : vers 20 heures",
            "Parcours Premières Heures en cours dans la période ; part de ceux qui ont atteint 20 h par "
            "semaine ou un CDDI (hors CDDI-PHC) par un contrat commencé avant la fin de la période ; "
            "délai médian, en semaines entières depuis l'entrée, pour y parvenir.",
        ),
        "phc_by_structure": (
            "Premières Heures : parcours par chantier",
            "Parcours Premières Heures en cours dans la période, par chantier (comme le rapport "
            "d'activité 2022).",
        ),
        "follow_ups": (
            "Suivis après la sortie",
            "Suivis à 6 et 12 mois dont l'échéance tombe dans la période : dus, faits, en retard "
            "(échéance passée et pas faits). Une sortie récente dont le suivi n'est pas encore dû "
            "n'y figure pas : elle compte dans « Sorties sans suivi encore dû ».",
        ),
        "follow_up_outcomes": (
            "Résultats des suivis",
            "Suivis faits dont l'échéance tombe dans la période, par résultat (toujours en emploi, "
            "toujours logé·e, contact perdu…).",
        ),
        "referrals_by_domain": (
            "Orientations par domaine",
            "Orientations des personnes du périmètre créées dans la période, par domaine de "
            "l'opportunité. Transmises : parvenues au partenaire. Réponses : acceptation ou refus "
            "du partenaire. Taux d'acceptation : acceptées (et entrées ou clôturées ensuite) sur "
            "réponses. Délai de réponse : médiane en jours, de la transmission à la première "
            "réponse (liste d'attente comprise).",
        ),
        "referrals_by_state": (
            "Orientations par état",
            "Orientations créées dans la période, par état aujourd'hui.",
        ),
        "referrals_by_partner": (
            "Orientations par partenaire",
            "Orientations créées dans la période et transmises, par partenaire, avec leur taux "
            "d'acceptation.",
        ),
        "referral_reasons": (
            "Motifs de refus et d'abandon",
            "Orientations créées dans la période, refusées par le ou la CP, refusées par le "
            "partenaire ou abandonnées, par motif.",
        ),
        "needs_without_answer": (
            "Besoins sans réponse",
            "Freins ouverts à la fin de la période (ni résolus, ni de personnes sorties), par "
            "domaine. Sans orientation : la personne n'a aucune orientation dans ce domaine. Sans "
            "offre sur le territoire : aucune opportunité publiée du territoire (ou d'un "
            "partenaire national déployé) dans ce domaine aujourd'hui — le chiffre des besoins non "
            "couverts.",
        ),
        "protection": (
            "Petits effectifs",
            "Hors de la structure (coordination, CP, équipe nationale), chaque effectif est arrondi "
            "au multiple de 5 le plus proche et un effectif de 1 à 4 s'affiche « < 5 » ; les parts "
            "sont calculées sur les effectifs arrondis, moyennes et médianes ne s'affichent qu'à "
            "partir de 5 personnes. Ainsi deux filtres qui se recouvrent ne permettent pas de "
            "retrouver une personne par différence. Les totaux sont arrondis à part : ils peuvent "
            "différer de la somme des lignes.",
        ),
    }
)


def definition(key: str) -> str:
    return DEFINITIONS[key][1]
