"""data·inclusion v1: importing a sample file (bad rows reported, good rows kept, duplicates
merged, idempotent), the reference mapping checked against the schema's official package, the
export validated by that package, and the round trip export → import → export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from referral.cli import main
from referral.partners import datainclusion, datainclusion_export
from referral.partners.datainclusion import CREATED, MERGED, REJECTED, UNCHANGED
from referral.partners.datainclusion_schema import (
    CATEGORIES,
    RESEAUX_PORTEURS,
    SOURCE,
    THEMATIQUES,
    check,
)
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerContact,
    PartnerTerritory,
)
from referral.reference import queries as reference
from referral.reference.models import Domain
from referral.seeding import seed_reference, seed_territories
from referral.territories.models import Territory
from tests.helpers import DEMO, login
from tests.partners.test_datainclusion_rows import snapshot

SAMPLE = Path(__file__).with_name("datainclusion_sample.json")


@pytest.fixture
def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def outcomes(report: datainclusion.ImportReport) -> dict[str, str]:
    return {line.source_id: line.outcome for line in report.lines}


def test_import_keeps_good_rows_and_reports_bad_ones(session: Session, sample: dict) -> None:
    steps: list[int] = []
    report = datainclusion.import_datainclusion(session, None, sample, progress=steps.append)
    assert len(steps) == 11  # one step per row: the progress bar reaches its end

    assert outcomes(report) == {
        "exemple--pension-famille-croix-rousse": CREATED,
        "exemple--habitat-rhone-solidaire": MERGED,
        "exemple--siret-faux": REJECTED,
        "exemple--hors-territoire": REJECTED,
        "exemple--sans-nom": REJECTED,
        "exemple--pension-famille-croix-rousse--logement": CREATED,
        "exemple--pension-famille-croix-rousse--acces-droits": CREATED,
        "exemple--habitat-rhone-solidaire--bail": CREATED,
        "exemple--thematique-inconnue": REJECTED,
        "exemple--structure-rejetee--service": REJECTED,
        "exemple--sans-nom--service": REJECTED,
    }
    reasons = {line.source_id: line.detail for line in report.rejected}
    assert (
        reasons["exemple--siret-faux"]
        == "« siret » : SIRET invalide : la clé de contrôle ne correspond pas (vérifiez les chiffres)."
    )
    assert reasons["exemple--hors-territoire"] == "Aucun territoire Convergence ne couvre le département 29."
    assert reasons["exemple--thematique-inconnue"].startswith(
        "Hors du champ Convergence : souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france ("
    )
    assert "absente du fichier, rejetée ou inconnue" in reasons["exemple--structure-rejetee--service"]
    assert reasons["exemple--sans-nom"] == "« nom » : champ obligatoire absent."
    assert report.summary()["structure"] == {
        "created": 1,
        "merged": 1,
        "unchanged": 0,
        "rejected": 3,
        "conflict": 0,
    }
    assert report.summary()["service"] == {
        "created": 3,
        "merged": 0,
        "unchanged": 0,
        "rejected": 3,
        "conflict": 0,
    }

    # The good structure is a partner of Lyon, « in discussion » (found in the directory).
    pension = session.scalar(select(Partner).where(Partner.key == "di:exemple--pension-famille-croix-rousse"))
    assert pension.town == "Lyon"
    assert pension.siret == "81234567800013"
    assert [(link.territory.slug, link.status) for link in pension.territory_links] == [
        ("lyon", DeploymentStatus.IN_DISCUSSION)
    ]
    # The duplicate was merged into the known landlord (neither has a SIRET, same town), said so.
    landlord = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    assert landlord.name == "Habitat Rhône Solidaire (démo)"
    assert landlord.address == "5 quai Claude Bernard"
    assert landlord.postcode == "69007"
    merged = next(line for line in report.lines if line.source_id == "exemple--habitat-rhone-solidaire")
    assert "aucune des deux n'a de SIRET, même commune (Lyon)" in merged.detail
    # Nothing of the rejected rows.
    assert session.scalar(select(Partner).where(Partner.name.like("%SIRET erroné%"))) is None
    assert session.scalar(select(Partner).where(Partner.town == "Quimper")) is None

    # Services became drafts in the right domain, with subtypes from the thématiques, listed.
    housing = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--pension-famille-croix-rousse--logement")
    )
    assert housing.status is OpportunityStatus.DRAFT
    assert housing.domain_code == "logement"
    assert "logement.intermediaire" in [subtype.code for subtype in housing.subtypes]
    # « justificatifs » is no v1 field: ignored, as the schema's model does.
    assert housing.documents_required == []
    assert housing.procedure == (
        "Orientation par le SIAO après évaluation sociale.\nModes de mobilisation : Envoyer un courriel"
    )
    rights = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--pension-famille-croix-rousse--acces-droits")
    )
    assert rights.domain_code == "acces_droits"
    bail = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--habitat-rhone-solidaire--bail")
    )
    assert bail.partner_id == landlord.id
    assert {line.record_id for line in report.drafts} == {housing.id, rights.id, bail.id}


def test_importing_twice_creates_nothing_more(session: Session, sample: dict) -> None:
    datainclusion.import_datainclusion(session, None, sample)
    partners = session.scalars(select(Partner.id).order_by(Partner.id)).all()
    opportunities = session.scalars(select(Opportunity.id).order_by(Opportunity.id)).all()
    again = datainclusion.import_datainclusion(session, None, sample)
    assert session.scalars(select(Partner.id).order_by(Partner.id)).all() == partners
    assert session.scalars(select(Opportunity.id).order_by(Opportunity.id)).all() == opportunities
    kept = {line.outcome for line in again.lines if line.outcome != REJECTED}
    assert kept == {UNCHANGED}


# --- The reference mapping, against the package -----------------------------------------------


def domains_of(session: Session) -> list[Domain]:
    return list(
        session.scalars(select(Domain).options(selectinload(Domain.subtypes)).order_by(Domain.position))
    )


def test_every_thematique_maps_to_a_domain_or_is_outside_scope_with_a_reason(session: Session) -> None:
    domains = domains_of(session)
    outside = reference.labels(session, datainclusion.OUTSIDE_SCOPE_LIST)
    assert len(THEMATIQUES) == 69
    for code in sorted(THEMATIQUES):
        domain, _subtypes = datainclusion.map_thematiques(domains, [code])
        reason = datainclusion.outside_scope_reason(outside, code)
        assert (domain is None) != (reason is None), f"{code}: domain {domain}, outside scope {reason}"
    # The reference lists use only the package's codes.
    for domain in domains:
        assert set(domain.datainclusion) <= THEMATIQUES | CATEGORIES, domain.code
        for subtype in domain.subtypes:
            assert set(subtype.datainclusion) <= THEMATIQUES, subtype.code
    assert set(outside) <= THEMATIQUES | CATEGORIES
    assert all(reason for reason in outside.values())
    networks = {
        code
        for extra in reference.extras(session, "partner_kind").values()
        for code in extra.get("datainclusion", ())
    }
    assert networks
    assert networks <= RESEAUX_PORTEURS, networks - RESEAUX_PORTEURS


def test_thematiques_map_through_the_reference_tables(session: Session) -> None:
    domains = domains_of(session)
    domain, subtypes = datainclusion.map_thematiques(domains, ["sante--acces-aux-soins"])
    assert domain.code == "sante"
    assert "sante.acces_soins" in [subtype.code for subtype in subtypes]
    domain, _subtypes = datainclusion.map_thematiques(
        domains, ["trouver-un-emploi--repondre-a-des-offres-demploi"]
    )
    assert domain.code == "emploi"
    assert datainclusion.map_thematiques(domains, ["inconnu--rien"]) == (None, [])
    # One thématique of a subtype that has two: still that subtype.
    domain, subtypes = datainclusion.map_thematiques(
        domains, ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]
    )
    assert (domain.code, [subtype.code for subtype in subtypes]) == ("emploi", ["emploi.candidature"])


def test_exported_thematiques_read_back_to_the_same_domain_and_thematiques(session: Session) -> None:
    """For every domain, without subtype and with each subtype: the thématiques the export
    writes are never empty, map back to the same domain, and are written again unchanged."""
    domains = domains_of(session)
    for domain in domains:
        for chosen in [[], *[[subtype] for subtype in domain.subtypes]]:
            opportunity = Opportunity(domain_code=domain.code)
            opportunity.subtypes = chosen
            written = datainclusion_export.thematiques_of(opportunity, domain)
            assert written, (domain.code, chosen)
            mapped, subtypes = datainclusion.map_thematiques(domains, written)
            assert mapped is domain, (domain.code, chosen, written)
            again = Opportunity(domain_code=mapped.code)
            again.subtypes = subtypes
            assert datainclusion_export.thematiques_of(again, mapped) == written


# --- Export -------------------------------------------------------------------------------------


def test_the_export_validates_with_the_package(session: Session) -> None:
    partner = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    partner.postcode, partner.insee_code = "69007", "69387"
    session.flush()
    exported = datainclusion_export.export_datainclusion(session, None)
    document = exported.document
    published = session.scalars(
        select(Opportunity).where(Opportunity.status == OpportunityStatus.PUBLISHED)
    ).all()
    assert exported.left_out == []
    assert len(document["services"]) == len(published)
    for kind, rows in (("structure", document["structures"]), ("service", document["services"])):
        for row in rows:
            assert check(kind, row).reasons == {}, row
    assert all(service["thematiques"] for service in document["services"])
    landlord = next(row for row in document["structures"] if row["nom"] == partner.name)
    assert (landlord["code_postal"], landlord["code_insee"]) == ("69007", "69387")
    assert {service["structure_id"] for service in document["services"]} == {
        structure["id"] for structure in document["structures"]
    }
    assert len({row["id"] for row in document["services"]}) == len(document["services"])


def test_a_row_the_schema_refuses_is_left_out_with_its_reason_never_cut(session: Session) -> None:
    partner = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    partner.name = "HR"
    opportunity = session.scalars(
        select(Opportunity)
        .where(Opportunity.status == OpportunityStatus.PUBLISHED, Opportunity.partner_id != partner.id)
        .order_by(Opportunity.id)
    ).first()
    opportunity.title = "T" * 180
    session.flush()
    exported = datainclusion_export.export_datainclusion(session, None)
    left_out = {(item.kind, item.record_id): item.reason for item in exported.left_out}
    assert left_out[("structure", partner.id)] == "« nom » : au moins 3 caractères."
    assert left_out[("service", opportunity.id)] == (
        "« nom » : au plus 150 caractères (180 reçus) : refusé plutôt que tronqué."
    )
    for own in partner.opportunities:
        if own.status is OpportunityStatus.PUBLISHED:
            assert left_out[("service", own.id)] == "Sa structure n'est pas exportable."
    assert all(row["nom"] != "HR" for row in exported.document["structures"])


def test_export_leaves_out_drafts(session: Session, sample: dict) -> None:
    datainclusion.import_datainclusion(session, None, sample)
    document = datainclusion_export.export_datainclusion(session, None).document
    ids = {service["id"] for service in document["services"]}
    assert not any(identifier.startswith("exemple--") for identifier in ids)


# --- Round trip ---------------------------------------------------------------------------------


def without_dates(document: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {
        kind: [{name: value for name, value in row.items() if name != "date_maj"} for row in rows]
        for kind, rows in document.items()
    }


def partner_fields(partner: Partner) -> tuple[Any, ...]:
    contact = partner.contacts[0] if partner.contacts else None
    return (
        partner.name,
        partner.siret,
        partner.address,
        partner.postcode,
        partner.insee_code,
        partner.town,
        partner.description,
        (contact.name, contact.email, contact.phone) if contact else None,
    )


def opportunity_fields(opportunity: Opportunity, domain: Domain) -> tuple[Any, ...]:
    return (
        opportunity.title,
        opportunity.description,
        opportunity.domain_code,
        datainclusion_export.thematiques_of(opportunity, domain),
        opportunity.territory.slug if opportunity.territory else None,
        sorted(
            link.territory.slug
            for link in opportunity.partner.territory_links
            if link.status.value == "deployed"
        ),
        opportunity.procedure,
        opportunity.status,
        partner_fields(opportunity.partner),
    )


def published(session: Session) -> list[tuple[Any, ...]]:
    domains = {domain.code: domain for domain in domains_of(session)}
    rows = session.scalars(
        select(Opportunity).where(Opportunity.status == OpportunityStatus.PUBLISHED).order_by(Opportunity.id)
    ).all()
    return sorted((opportunity_fields(row, domains[row.domain_code]) for row in rows), key=repr)


@pytest.mark.parametrize("territory", ["lyon", "paris", "nantes"])
def test_export_import_export_gives_the_same_file(
    session: Session, empty_session: Session, territory: str
) -> None:
    # A criterion's description travels as the access conditions of the service.
    first = datainclusion_export.export_datainclusion(session, None, territory_slug=territory).document
    assert first["services"]
    # Where the opportunities were offered, in the source database.
    expected = [
        row for row in published(session) if row[4] == territory or (row[4] is None and territory in row[5])
    ]
    seed_reference(empty_session)
    seed_territories(empty_session)

    # Without --territory nor zone of eligibility, structures that give no postcode cannot be placed.
    unplaced = {
        "structures": first["structures"],
        "services": [dict(row, zone_eligibilite=None) for row in first["services"]],
    }
    refused = datainclusion.import_datainclusion(empty_session, None, unplaced)
    assert all(
        line.detail.startswith("Ni code postal ni code commune")
        for line in refused.lines
        if line.kind == "structure"
    )
    assert empty_session.scalar(select(Partner)) is None

    report = datainclusion.import_datainclusion(
        empty_session, None, json.loads(json.dumps(first)), territory_slug=territory, publish=True
    )
    assert {line.outcome for line in report.lines} == {CREATED}, [
        line for line in report.lines if line.outcome != CREATED
    ]
    assert report.drafts == []
    # The same partners and published opportunities, with the same fields.
    assert published(empty_session) == expected
    second = datainclusion_export.export_datainclusion(empty_session, None, territory_slug=territory).document
    assert without_dates(second) == without_dates(first)
    # Importing it once more changes no row.
    before = snapshot(empty_session)
    again = datainclusion.import_datainclusion(
        empty_session, None, first, territory_slug=territory, publish=True
    )
    assert {line.outcome for line in again.lines} == {UNCHANGED}
    assert snapshot(empty_session) == before


def test_the_whole_network_round_trips_without_territory(session: Session, empty_session: Session) -> None:
    """Without --territory, a structure with no address is placed by its services' zones."""
    first = datainclusion_export.export_datainclusion(session, None).document
    expected = published(session)
    seed_reference(empty_session)
    seed_territories(empty_session)
    report = datainclusion.import_datainclusion(empty_session, None, first, publish=True)
    assert {line.outcome for line in report.lines} == {CREATED}, [
        line for line in report.lines if line.outcome != CREATED
    ]
    assert published(empty_session) == expected
    second = datainclusion_export.export_datainclusion(empty_session, None).document
    assert without_dates(second) == without_dates(first)


def test_without_publish_the_imported_services_are_drafts_listed_for_the_cp(
    session: Session, empty_session: Session
) -> None:
    first = datainclusion_export.export_datainclusion(session, None, territory_slug="lyon").document
    seed_reference(empty_session)
    seed_territories(empty_session)
    report = datainclusion.import_datainclusion(empty_session, None, first, territory_slug="lyon")
    assert len(report.drafts) == len(first["services"])
    assert all("Brouillon à compléter (import sans --publish)" in line.detail for line in report.drafts)
    assert (
        empty_session.scalar(select(Opportunity).where(Opportunity.status == OpportunityStatus.PUBLISHED))
        is None
    )
    # A file from another producer does not say its services are published: drafts even so.
    foreign = {
        "structures": [dict(row, source="dora") for row in first["structures"]],
        "services": [dict(row, source="dora", id=f"dora--{row['id']}") for row in first["services"]],
    }
    again = datainclusion.import_datainclusion(
        empty_session, None, foreign, territory_slug="lyon", publish=True
    )
    assert all(
        "le fichier ne dit pas qu'elle est publiée (source « dora »)" in line.detail for line in again.drafts
    )


def test_a_partner_contact_travels_with_the_export(session: Session, empty_session: Session) -> None:
    partner = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    partner.contacts.append(
        PartnerContact(name="Nadia Benali", email="n.benali@exemple.fr", phone="0400000002")
    )
    session.flush()
    first = datainclusion_export.export_datainclusion(session, None, territory_slug="lyon").document
    seed_reference(empty_session)
    seed_territories(empty_session)
    datainclusion.import_datainclusion(empty_session, None, first, territory_slug="lyon", publish=True)
    copy = empty_session.scalar(select(Partner).where(Partner.name == partner.name))
    assert [(c.name, c.email, c.phone) for c in copy.contacts] == [
        ("Nadia Benali", "n.benali@exemple.fr", "0400000002")
    ]
    service = next(row for row in first["services"] if row["contact_nom_prenom"] == "Nadia Benali")
    assert service["id"].startswith(f"{SOURCE}--opportunite")


# --- The commands -------------------------------------------------------------------------------


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_the_import_and_export_commands(app: Flask, session: Session, tmp_path: Path) -> None:
    result = run(app, "import", "data-inclusion", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert (
        "Structures : 1 créé·es, 1 fusionné·es, 0 déjà importé·es, 3 rejeté·es, 0 en conflit."
        in result.output
    )
    assert (
        "Services : 3 créé·es, 0 fusionné·es, 0 déjà importé·es, 3 rejeté·es, 0 en conflit." in result.output
    )
    assert "[rejeté] structure n° 4 exemple--hors-territoire" in result.output
    assert "Brouillons à compléter puis publier (3) :" in result.output
    assert session.scalar(select(Partner).where(Partner.key == "di:exemple--pension-famille-croix-rousse"))

    output = tmp_path / "services.json"
    result = run(app, "export", "data-inclusion", "--territory", "lyon", "--output", str(output))
    assert result.exit_code == 0, result.output
    exported = json.loads(output.read_text(encoding="utf-8"))
    assert all(check("service", item).reasons == {} for item in exported["services"])

    bad = tmp_path / "bad.json"
    bad.write_text("{pas du json", encoding="utf-8")
    result = app.test_cli_runner().invoke(main, ["import", "data-inclusion", str(bad)])
    assert result.exit_code == 1
    assert "Fichier illisible" in result.output


def test_the_import_command_survives_any_row(app: Flask, tmp_path: Path) -> None:
    """A lone surrogate and a row too deep for the JSON reader used to end the command with a
    traceback: now each is one rejected row, printed, and the good row is imported."""
    good = {
        "source": "exemple",
        "id": "commande--bonne",
        "nom": "Centre social (exemple)",
        "date_maj": "2025-03-01",
        "code_postal": "69007",
    }
    text = (
        '{"structures": ['
        + json.dumps(good)
        + ', {"source": "exemple", "id": "commande--surrogate", "nom": "Nom \\ud800", '
        + '"date_maj": "2025-03-01"}, '
        + '{"id": "commande--profonde", "nom": '
        + "[" * 50_000
        + "]" * 50_000
        + "}]}"
    )
    path = tmp_path / "rows.json"
    path.write_text(text, encoding="utf-8")
    result = run(app, "import", "data-inclusion", str(path), "--publish")
    assert result.exit_code == 0, result.output
    assert (
        "Structures : 1 créé·es, 0 fusionné·es, 0 déjà importé·es, 2 rejeté·es, 0 en conflit."
        in result.output
    )
    assert "« nom » : caractère invalide U+D800 (texte illisible ou tronqué)." in result.output
    assert "« ligne » : ligne imbriquée trop profondément pour être lue." in result.output


def test_an_imported_row_never_takes_the_id_of_one_of_ours(session: Session) -> None:
    first = datainclusion_export.export_datainclusion(session, None, territory_slug="lyon").document
    ours, our_service = first["structures"][0]["id"], first["services"][0]["id"]
    lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
    # A Convergence export imported into this database: its ids may be those of our own rows.
    copy = Partner(key=f"di:{ours}", name="Copie importée (exemple)", kind="autre", tags=[])
    copy.territory_links.append(PartnerTerritory(territory_id=lyon.id, status=DeploymentStatus.DEPLOYED))
    session.add(copy)
    session.flush()
    opportunity = Opportunity(
        key=f"di:{our_service}",
        partner_id=copy.id,
        territory_id=lyon.id,
        title="Offre importée (exemple)",
        domain_code="emploi",
        status=OpportunityStatus.PUBLISHED,
    )
    session.add(opportunity)
    session.flush()
    document = datainclusion_export.export_datainclusion(session, None, territory_slug="lyon").document
    structure_ids = [row["id"] for row in document["structures"]]
    service_ids = [row["id"] for row in document["services"]]
    assert len(set(structure_ids)) == len(structure_ids)
    assert len(set(service_ids)) == len(service_ids)
    assert {ours, f"{SOURCE}--partenaire-{copy.id}"} <= set(structure_ids)
    assert {our_service, f"{SOURCE}--opportunite-{opportunity.id}"} <= set(service_ids)
    copied = next(row for row in document["services"] if row["nom"] == "Offre importée (exemple)")
    assert copied["structure_id"] == f"{SOURCE}--partenaire-{copy.id}"


def test_the_pages_show_what_the_directory_said(client: FlaskClient, session: Session) -> None:
    """The access conditions read from the directory are there for the CP to turn into criteria."""
    payload = {
        "structures": [
            {
                "source": "exemple",
                "id": "page--structure",
                "nom": "Centre social des Pentes (exemple)",
                "date_maj": "2025-03-01",
                "code_postal": "69001",
                "code_insee": "69381",
                "commune": "Lyon",
            }
        ],
        "services": [
            {
                "source": "exemple",
                "id": "page--service",
                "structure_id": "page--structure",
                "nom": "Atelier CV (exemple)",
                "description": "Rédiger son CV avec une bénévole.",
                "date_maj": "2025-03-01",
                "thematiques": ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
                "conditions_acces": "Être inscrit·e à France Travail.",
            }
        ],
    }
    report = datainclusion.import_datainclusion(session, None, payload)
    partner_id, opportunity_id = (line.record_id for line in report.lines)
    session.commit()
    login(client, DEMO["cp_emploi"])
    opportunity_page = client.get(f"/reseau/opportunites/{opportunity_id}").get_data(as_text=True)
    assert "Être inscrit·e à France Travail." in opportunity_page
    partner_page = client.get(f"/reseau/partenaires/{partner_id}").get_data(as_text=True)
    assert '<dd class="col-sm-9" id="code-insee">69381</dd>' in partner_page
