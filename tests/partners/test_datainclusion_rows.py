"""data·inclusion import, row by row, against the schema's official package (issue 18).

One file of valid records covering all 69 thématiques and every public, plus one invalid row of
each kind: each valid row is imported, each invalid row rejected with its French reason (the
table below). Then merging, conflicts inside a file, rows that used to crash the whole import,
and idempotence.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from data_inclusion.schema import v1
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.partners import datainclusion, services
from referral.partners.datainclusion import CONFLICT, CREATED, MERGED, REJECTED, UNCHANGED
from referral.partners.datainclusion_schema import THEMATIQUES, read_document
from referral.partners.models import (
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerContact,
    PartnerTerritory,
    opportunity_subtypes,
)
from referral.reference import queries as reference

OUTSIDE = {"creer-une-entreprise", "souvrir-a-linternational"}  # categories listed outside scope
COMPANION = "trouver-un-emploi--repondre-a-des-offres-demploi"
PUBLICS = [public.value for public in v1.Public]
TOO_DEEP: Any = "fond"
for _level in range(40):
    TOO_DEEP = [TOO_DEEP]


def with_key(prefix13: str) -> str:
    """A SIRET with a right Luhn key (the project's own check is the oracle)."""
    return next(
        prefix13 + digit for digit in "0123456789" if services.siret_problem(prefix13 + digit) is None
    )


def wrong_key(prefix13: str) -> str:
    return next(prefix13 + digit for digit in "0123456789" if services.siret_problem(prefix13 + digit))


def structure(source_id: str, nom: str, **fields: Any) -> dict[str, Any]:
    return {
        "source": "exemple",
        "id": source_id,
        "nom": nom,
        "date_maj": "2025-03-01",
        "commune": "Lyon",
        "code_postal": "69007",
        **fields,
    }


def service(source_id: str, nom: str, thematiques: list[str] | None, **fields: Any) -> dict[str, Any]:
    row = {
        "source": "exemple",
        "id": source_id,
        "structure_id": "valide--centre-social",
        "nom": nom,
        "description": "Un service décrit en quelques mots.",
        "date_maj": "2025-03-01",
        **fields,
    }
    if thematiques is not None:
        row["thematiques"] = thematiques
    return row


def valid_services() -> list[dict[str, Any]]:
    """One service per thématique (an out-of-scope one beside an in-scope companion), publics
    in turn so that every public appears, and every optional field somewhere."""
    rows = []
    for index, code in enumerate(sorted(THEMATIQUES)):
        outside = code.split("--")[0] in OUTSIDE
        rows.append(
            service(
                f"valide--service-{index:02d}",
                f"Service {index:02d} {code.split('--')[1][:80]}",
                [code, COMPANION] if outside else [code],
                publics=[PUBLICS[index % len(PUBLICS)]],
            )
        )
    rows[0].update(
        frais="payant",
        frais_precisions="10 € par an",
        modes_accueil=["en-presentiel", "a-distance"],
        modes_mobilisation=["envoyer-un-courriel", "telephoner"],
        mobilisable_par=["professionnels", "usagers"],
        lien_mobilisation="https://exemple.fr/inscription",
        lien_source="https://exemple.fr/services/0",
        contact_nom_prenom="Camille Martin",
        courriel="accueil@exemple.fr",
        telephone="+33400000001",
        zone_eligibilite=["69", "69123", "200046977", "france"],
        nombre_semaines=3,
        volume_horaire_hebdomadaire=2.5,
        horaires_accueil="Mo-Fr 09:00-12:00",
        type="atelier",
        conditions_acces="Être orienté·e par un·e travailleur·se social·e.",
    )
    return rows


FUTURE = f"{clock.today().year + 5}-01-01"

# (kind, id, row, outcome, reason): the expected outcome of every row that is not valid.
INVALID: list[tuple[str, str, Any, str, str]] = [
    (
        "structure",
        "invalide--date-mois-13",
        structure("invalide--date-mois-13", "Centre A", date_maj="2025-13-45"),
        REJECTED,
        "« date_maj » : date invalide « 2025-13-45 » (AAAA-MM-JJ attendu).",
    ),
    (
        "structure",
        "invalide--date-francaise",
        structure("invalide--date-francaise", "Centre B", date_maj="31/02/2025"),
        REJECTED,
        "« date_maj » : date invalide « 31/02/2025 » (AAAA-MM-JJ attendu).",
    ),
    (
        "structure",
        "invalide--date-1999",
        structure("invalide--date-1999", "Centre C", date_maj="1999-12-31"),
        REJECTED,
        "« date_maj » : La date de dernière modification doit être au 21e siècle.",
    ),
    (
        "structure",
        "invalide--date-future",
        structure("invalide--date-future", "Centre D", date_maj=FUTURE),
        REJECTED,
        "« date_maj » : La date de dernière modification ne peut pas être dans le futur.",
    ),
    (
        "structure",
        "invalide--courriel",
        structure("invalide--courriel", "Centre E", courriel="pas-une-adresse"),
        REJECTED,
        "« courriel » : adresse électronique invalide « pas-une-adresse ».",
    ),
    (
        "structure",
        "invalide--nom-long",
        structure("invalide--nom-long", "N" * 225),
        REJECTED,
        "« nom » : au plus 150 caractères (225 reçus) : refusé plutôt que tronqué.",
    ),
    (
        "structure",
        "invalide--reseau",
        structure("invalide--reseau", "CCAS de Paris", reseaux_porteurs=["ccas"]),
        REJECTED,
        "« reseaux_porteurs » : valeur inconnue du schéma data·inclusion : « ccas ».",
    ),
    (
        "structure",
        "invalide--siret-cle",
        structure("invalide--siret-cle", "Centre F", siret=wrong_key("8123456780001")),
        REJECTED,
        "« siret » : SIRET invalide : la clé de contrôle ne correspond pas (vérifiez les chiffres).",
    ),
    (
        "structure",
        "invalide--siret-court",
        structure("invalide--siret-court", "Centre G", siret="123"),
        REJECTED,
        "« siret » : « 123 » n'est pas un SIRET à 14 chiffres.",
    ),
    (
        "structure",
        "invalide--code-postal",
        structure("invalide--code-postal", "Centre H", code_postal="6900"),
        REJECTED,
        "« code_postal » : « 6900 » n'est pas un code postal à 5 chiffres.",
    ),
    (
        "structure",
        "invalide--adresse-longue",
        structure("invalide--adresse-longue", "Centre I", adresse="x" * 300),
        REJECTED,
        "« adresse » : au plus 255 caractères ici (300 reçus), refusé plutôt que tronqué.",
    ),
    (
        "structure",
        "invalide--surrogate",
        structure("invalide--surrogate", "Centre \ud800 social"),
        REJECTED,
        "« nom » : caractère invalide U+D800 (texte illisible ou tronqué).",
    ),
    (
        "structure",
        "invalide--nul",
        structure("invalide--nul", "Centre J", description="Un texte avec un \x00 dedans."),
        REJECTED,
        "« description » : caractère invalide U+0000 (texte illisible ou tronqué).",
    ),
    (
        "structure",
        "invalide--imbrique",
        structure("invalide--imbrique", "Centre K", extra=TOO_DEEP),
        REJECTED,
        "« extra » : imbrication de plus de 16 niveaux.",
    ),
    (
        "structure",
        "invalide--sans-nom",
        {key: value for key, value in structure("invalide--sans-nom", "x").items() if key != "nom"},
        REJECTED,
        "« nom » : champ obligatoire absent.",
    ),
    (
        "structure",
        "invalide--hors-territoire",
        structure("invalide--hors-territoire", "Centre de Quimper", commune="Quimper", code_postal="29000"),
        REJECTED,
        "Aucun territoire Convergence ne couvre le département 29.",
    ),
    ("structure", "?", "pas une structure", REJECTED, "« ligne » : objet JSON attendu."),
    (
        "service",
        "invalide--thematique-inconnue",
        service("invalide--thematique-inconnue", "Service A", ["sante--inconnue"]),
        REJECTED,
        "« thematiques » : valeur inconnue du schéma data·inclusion : « sante--inconnue ».",
    ),
    (
        "service",
        "invalide--semaines",
        service("invalide--semaines", "Service B", [COMPANION], nombre_semaines="trois"),
        REJECTED,
        "« nombre_semaines » : nombre entier attendu, « trois » reçu.",
    ),
    (
        "service",
        "invalide--tous-publics",
        service("invalide--tous-publics", "Service C", [COMPANION], publics=["tous-publics", "femmes"]),
        REJECTED,
        "« publics » : « tous-publics » ne peut pas être utilisé avec d’autres valeurs.",
    ),
    (
        "service",
        "invalide--frais",
        service("invalide--frais", "Service D", [COMPANION], frais="gratuit-sous-conditions"),
        REJECTED,
        "« frais » : valeur inconnue du schéma data·inclusion : « gratuit-sous-conditions ».",
    ),
    (
        "service",
        "invalide--nom-long",
        service("invalide--nom-long", "S" * 225, [COMPANION]),
        REJECTED,
        "« nom » : au plus 150 caractères (225 reçus) : refusé plutôt que tronqué.",
    ),
    (
        "service",
        "invalide--date",
        service("invalide--date", "Service E", [COMPANION], date_maj="2025-13-45"),
        REJECTED,
        "« date_maj » : date invalide « 2025-13-45 » (AAAA-MM-JJ attendu).",
    ),
    (
        "service",
        "invalide--courriel",
        service("invalide--courriel", "Service F", [COMPANION], courriel="pas-une-adresse"),
        REJECTED,
        "« courriel » : adresse électronique invalide « pas-une-adresse ».",
    ),
    (
        "service",
        "invalide--sans-description",
        {
            key: value
            for key, value in service("invalide--sans-description", "Service G", [COMPANION]).items()
            if key != "description"
        },
        REJECTED,
        "« description » : champ obligatoire absent.",
    ),
    (
        "service",
        "invalide--zone",
        service("invalide--zone", "Service H", [COMPANION], zone_eligibilite=["zz-9"]),
        REJECTED,
        "« zone_eligibilite » : code géographique invalide « zz-9 » "
        "(codes commune, département, EPCI, pays ou « france »).",
    ),
    (
        "service",
        "invalide--contact-long",
        service("invalide--contact-long", "Service I", [COMPANION], contact_nom_prenom="C" * 200),
        REJECTED,
        "« contact_nom_prenom » : au plus 160 caractères ici (200 reçus), refusé plutôt que tronqué.",
    ),
    (
        "service",
        "invalide--surrogate",
        service("invalide--surrogate", "Service J", [COMPANION], description="Texte \udfff cassé"),
        REJECTED,
        "« description » : caractère invalide U+DFFF (texte illisible ou tronqué).",
    ),
    (
        "service",
        "invalide--imbrique",
        service("invalide--imbrique", "Service K", TOO_DEEP),
        REJECTED,
        "« thematiques » : imbrication de plus de 16 niveaux.",
    ),
    (
        "service",
        "invalide--sans-thematique",
        service("invalide--sans-thematique", "Service L", None),
        REJECTED,
        "« thematiques » : aucune thématique, impossible de choisir le domaine de l'offre.",
    ),
    (
        "service",
        "invalide--structure-rejetee",
        service("invalide--structure-rejetee", "Service M", [COMPANION], structure_id="invalide--courriel"),
        REJECTED,
        "Structure « invalide--courriel » absente du fichier, rejetée ou inconnue.",
    ),
]
OUTSIDE_ONLY = service(
    "hors-champ--creation", "Créer son entreprise", ["creer-une-entreprise--developper-son-entreprise"]
)


def document() -> dict[str, list[Any]]:
    structures = [
        structure(
            "valide--centre-social",
            "Centre social de la Guillotière (exemple)",
            siret=with_key("8123456780001"),
            code_insee="69387",
            adresse="10 rue de la Guillotière",
            description="Centre social de quartier.",
            reseaux_porteurs=["ccas-cias"],
            lien_source="https://exemple.fr/structures/1",
            site_web="https://exemple.fr",
            accessibilite_lieu="https://acceslibre.beta.gouv.fr/app/erp/1/",
            horaires_accueil="Mo-Fr 09:00-17:00",
            latitude=45.75,
            longitude=4.84,
        )
    ]
    services_ = valid_services()
    for kind, _source_id, row, _outcome, _reason in INVALID:
        (structures if kind == "structure" else services_).append(row)
    services_.append(OUTSIDE_ONLY)
    return {"structures": structures, "services": services_}


def snapshot(session: Session) -> tuple[list[Any], ...]:
    """Every row an import may write, with what moves when it is written."""
    session.expire_all()
    return (
        session.execute(
            select(Partner.id, Partner.revision, Partner.updated_at, Partner.key).order_by(Partner.id)
        ).all(),
        session.execute(
            select(Opportunity.id, Opportunity.version, Opportunity.updated_at, Opportunity.status).order_by(
                Opportunity.id
            )
        ).all(),
        session.execute(
            select(
                PartnerTerritory.partner_id, PartnerTerritory.territory_id, PartnerTerritory.status
            ).order_by(PartnerTerritory.partner_id, PartnerTerritory.territory_id)
        ).all(),
        session.execute(select(PartnerContact.id, PartnerContact.name).order_by(PartnerContact.id)).all(),
        session.execute(
            select(opportunity_subtypes).order_by(
                opportunity_subtypes.c.opportunity_id, opportunity_subtypes.c.subtype_code
            )
        ).all(),
    )


def test_valid_rows_are_imported_and_each_invalid_row_rejected_with_its_reason(session: Session) -> None:
    report = datainclusion.import_datainclusion(session, None, document())
    lines = {(line.kind, line.source_id): line for line in report.lines}

    # The valid structure, its kind read from a real v1 réseau porteur, its codes kept.
    centre = lines[("structure", "valide--centre-social")]
    assert centre.outcome == CREATED, centre.detail
    partner = session.get(Partner, centre.record_id)
    assert partner.kind == "collectivite"  # « ccas-cias »
    assert (partner.postcode, partner.insee_code, partner.town) == ("69007", "69387", "Lyon")

    # Every valid service, one per thématique (all 69) and every public, is imported as a draft.
    valid = valid_services()
    assert len({code for row in valid for code in row["thematiques"]}) == len(THEMATIQUES) == 69
    assert {public for row in valid for public in row["publics"]} == set(PUBLICS)
    outside_reasons = reference.labels(session, datainclusion.OUTSIDE_SCOPE_LIST)
    for row in valid:
        line = lines[("service", row["id"])]
        assert line.outcome == CREATED, (row["id"], line.detail)
        assert line.draft
        opportunity = session.get(Opportunity, line.record_id)
        assert opportunity.status is OpportunityStatus.DRAFT
        assert opportunity.title == row["nom"]
        category = row["thematiques"][0].split("--")[0]
        if category in OUTSIDE:
            # Beside an in-scope thématique, an out-of-scope one is ignored, with its reason shown.
            assert f"Thématiques hors champ ignorées : {row['thematiques'][0]} (" in line.detail
            assert outside_reasons[category] in line.detail
    # The service with every optional field: its ways in kept in the procedure, its contact created.
    full = session.get(Opportunity, lines[("service", "valide--service-00")].record_id)
    assert full.access_conditions == "Être orienté·e par un·e travailleur·se social·e."
    assert "Lien de mobilisation : https://exemple.fr/inscription" in full.procedure
    assert "Modes de mobilisation : Envoyer un courriel, Téléphoner" in full.procedure
    assert "Frais : Payant (10 € par an)" in full.procedure
    assert [(c.name, c.email, c.phone) for c in partner.contacts] == [
        ("Camille Martin", "accueil@exemple.fr", "+33400000001")
    ]

    # Each invalid row: rejected, with its French reason.
    for kind, source_id, _row, outcome, reason in INVALID:
        line = lines[(kind, source_id)]
        assert (line.outcome, line.detail) == (outcome, reason), source_id
    # A service whose thématiques are all outside the programme's scope: refused, with why.
    outside_only = lines[("service", "hors-champ--creation")]
    assert outside_only.outcome == REJECTED
    assert outside_only.detail == (
        "Hors du champ Convergence : creer-une-entreprise--developper-son-entreprise "
        f"({outside_reasons['creer-une-entreprise']})"
    )
    # Nothing of the rejected rows reached the database; nothing was cut to fit.
    assert session.scalar(select(Partner).where(Partner.key.like("di:invalide--%"))) is None
    assert session.scalar(select(Opportunity).where(Opportunity.key.like("di:invalide--%"))) is None
    assert session.scalar(select(Partner).where(Partner.name.startswith("NNN"))) is None
    assert report.summary()["service"]["created"] == len(valid)


def test_importing_the_same_file_twice_changes_no_row(session: Session) -> None:
    payload = document()
    datainclusion.import_datainclusion(session, None, payload)
    session.flush()
    before = snapshot(session)
    again = datainclusion.import_datainclusion(session, None, payload)
    session.flush()
    assert snapshot(session) == before
    assert {line.outcome for line in again.lines} <= {UNCHANGED, REJECTED}


def test_a_row_too_deep_for_the_json_reader_costs_only_itself(session: Session) -> None:
    good = structure("profond--bon", "Centre social du Point-du-Jour (exemple)")
    too_deep = '{"source": "exemple", "id": "profond--mauvais", "nom": ' + "[" * 100_000 + "]" * 100_000 + "}"
    good_service = service("profond--service", "Atelier CV", [COMPANION], structure_id="profond--bon")
    text = (
        '{"structures": ['
        + json.dumps(good)
        + ", "
        + too_deep
        + '], "services": ['
        + json.dumps(good_service)
        + "]}"
    )
    with pytest.raises(RecursionError):
        json.loads(text)
    payload = read_document(text)
    report = datainclusion.import_datainclusion(session, None, payload)
    assert [(line.kind, line.outcome) for line in report.lines] == [
        ("structure", CREATED),
        ("structure", REJECTED),
        ("service", CREATED),
    ]
    assert report.lines[1].detail == "« ligne » : ligne imbriquée trop profondément pour être lue."
    # A text that is no JSON at all is still refused as a whole.
    with pytest.raises(ValueError, match="JSON"):
        read_document('{"structures": [' + "[" * 100_000)


def test_merging_needs_the_same_siret_or_no_siret_at_all_in_the_same_town(session: Session) -> None:
    siret_a, siret_b = with_key("4123456780001"), with_key("4123456780002")
    known = Partner(
        key="known-siret", name="Maison de l'emploi du Rhône", kind="autre", town="Lyon", siret=siret_a
    )
    bare = Partner(key="known-bare", name="Épicerie solidaire des Pentes", kind="autre", town="Lyon")
    session.add_all([known, bare])
    session.flush()
    payload = {
        "structures": [
            # A close name, another SIRET: two establishments, never merged.
            structure("fusion--autre-siret", "Maison de l’emploi du Rhone", commune="Lyon", siret=siret_b),
            # The same SIRET: the same establishment, whatever its name.
            structure("fusion--meme-siret", "MDE Rhône", commune="Lyon", siret=siret_a),
            # No SIRET on either side, close name, same town: merged, and said so.
            structure("fusion--nom-proche", "EPICERIE SOLIDAIRE DES PENTES", commune="LYON"),
            # A close name, but one of the two has a SIRET: a CP decides.
            structure("fusion--un-siret", "Maison de l'emploi du Rhône", commune="Lyon"),
        ]
    }
    report = datainclusion.import_datainclusion(session, None, payload)
    lines = {line.source_id: line for line in report.lines}

    other = lines["fusion--autre-siret"]
    assert other.outcome == CREATED
    assert other.record_id != known.id
    assert (
        "Non fusionnée avec « Maison de l'emploi du Rhône » (SIRET différents) : à vérifier." in other.detail
    )
    assert session.get(Partner, other.record_id).siret == siret_b

    same = lines["fusion--meme-siret"]
    assert (same.outcome, same.record_id) == (MERGED, known.id)
    assert same.detail == f"Fusionnée avec « Maison de l'emploi du Rhône » : même SIRET ({siret_a})."

    close = lines["fusion--nom-proche"]
    assert (close.outcome, close.record_id) == (MERGED, bare.id)
    assert close.detail == (
        "Fusionnée avec « Épicerie solidaire des Pentes » : nom proche, aucune des deux n'a de SIRET, "
        "même commune (Lyon)."
    )
    one = lines["fusion--un-siret"]
    assert one.outcome == CREATED
    assert "(une seule des deux a un SIRET)" in one.detail


def test_a_close_name_in_another_town_is_not_merged(session: Session) -> None:
    session.add(Partner(key="known-lille", name="Épicerie solidaire des Pentes", kind="autre", town="Lille"))
    session.flush()
    report = datainclusion.import_datainclusion(
        session, None, {"structures": [structure("fusion--ville", "Epicerie solidaire des Pentes")]}
    )
    assert report.lines[0].outcome == CREATED


def test_an_id_twice_in_one_file_is_a_conflict(session: Session) -> None:
    lyon = structure("doublon--structure", "Centre social Lyon (exemple)")
    lille = structure(
        "doublon--structure", "Centre social Lille (exemple)", commune="Lille", code_postal="59000"
    )
    same = structure("doublon--identique", "Centre social identique (exemple)")
    first_service = service("doublon--service", "Atelier CV", [COMPANION], structure_id="doublon--identique")
    other_service = service(
        "doublon--service", "Atelier lettre", [COMPANION], structure_id="doublon--identique"
    )
    orphan = service("doublon--orphelin", "Atelier", [COMPANION], structure_id="doublon--structure")
    payload = {
        "structures": [lyon, lille, same, dict(same)],
        "services": [first_service, other_service, orphan],
    }
    report = datainclusion.import_datainclusion(session, None, payload)
    assert [(line.source_id, line.position, line.outcome) for line in report.lines] == [
        ("doublon--structure", 1, CONFLICT),
        ("doublon--structure", 2, CONFLICT),
        ("doublon--identique", 3, CREATED),
        ("doublon--identique", 4, CONFLICT),
        ("doublon--service", 1, CONFLICT),
        ("doublon--service", 2, CONFLICT),
        ("doublon--orphelin", 3, REJECTED),
    ]
    assert report.lines[0].detail == (
        "Identifiant « doublon--structure » présent 2 fois avec des contenus différents (lignes 1, 2) : "
        "aucune n'est importée, corrigez le fichier."
    )
    assert report.lines[3].detail == "Identifiant en double : répète à l'identique la ligne 3, ignorée."
    assert report.lines[6].detail == "Sa structure « doublon--structure » est en conflit dans le fichier."
    assert session.scalar(select(Partner).where(Partner.key == "di:doublon--structure")) is None
    assert session.scalar(select(Opportunity).where(Opportunity.key == "di:doublon--service")) is None
