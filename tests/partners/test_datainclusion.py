"""data·inclusion v1: importing a sample file (bad rows reported, good rows kept, duplicates
merged, idempotent), and exporting our published opportunities within the schema's field lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cli import main
from referral.partners import datainclusion, datainclusion_export
from referral.partners.datainclusion import CREATED, MERGED, REJECTED, UNCHANGED
from referral.partners.models import DeploymentStatus, Opportunity, OpportunityStatus, Partner
from referral.reference.models import Domain

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
        == "SIRET invalide : la clé de contrôle ne correspond pas (vérifiez les chiffres)."
    )
    assert reasons["exemple--hors-territoire"] == "Aucun territoire Convergence ne couvre le département 29."
    assert reasons["exemple--thematique-inconnue"].startswith(
        "Aucune thématique ne correspond à nos domaines"
    )
    assert "absente du fichier, rejetée ou inconnue" in reasons["exemple--structure-rejetee--service"]
    assert "Nom « nom » manquant." in reasons.values()
    assert report.summary()["structure"] == {"created": 1, "merged": 1, "unchanged": 0, "rejected": 3}
    assert report.summary()["service"] == {"created": 3, "merged": 0, "unchanged": 0, "rejected": 3}

    # The good structure is a partner of Lyon, « in discussion » (found in the directory).
    pension = session.scalar(select(Partner).where(Partner.key == "di:exemple--pension-famille-croix-rousse"))
    assert pension.town == "Lyon"
    assert pension.siret == "81234567800013"
    assert [(link.territory.slug, link.status) for link in pension.territory_links] == [
        ("lyon", DeploymentStatus.IN_DISCUSSION)
    ]
    # The duplicate was merged into the known landlord: blanks filled, name untouched.
    landlord = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    assert landlord.name == "Habitat Rhône Solidaire (démo)"
    assert landlord.address == "5 quai Claude Bernard"
    assert landlord.postcode == "69007"
    # Nothing of the rejected rows.
    assert session.scalar(select(Partner).where(Partner.name.like("%SIRET erroné%"))) is None
    assert session.scalar(select(Partner).where(Partner.town == "Quimper")) is None

    # Services became drafts in the right domain, with subtypes from the thématiques.
    housing = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--pension-famille-croix-rousse--logement")
    )
    assert housing.status is OpportunityStatus.DRAFT
    assert housing.domain_code == "logement"
    assert "logement.social" in [subtype.code for subtype in housing.subtypes]
    assert housing.documents_required == ["Évaluation sociale SIAO"]
    assert "Orientation par le SIAO" in housing.procedure
    rights = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--pension-famille-croix-rousse--acces-droits")
    )
    assert rights.domain_code == "acces_droits"
    bail = session.scalar(
        select(Opportunity).where(Opportunity.key == "di:exemple--habitat-rhone-solidaire--bail")
    )
    assert bail.partner_id == landlord.id


def test_importing_twice_creates_nothing_more(session: Session, sample: dict) -> None:
    datainclusion.import_datainclusion(session, None, sample)
    partners = session.scalars(select(Partner.id).order_by(Partner.id)).all()
    opportunities = session.scalars(select(Opportunity.id).order_by(Opportunity.id)).all()
    again = datainclusion.import_datainclusion(session, None, sample)
    assert session.scalars(select(Partner.id).order_by(Partner.id)).all() == partners
    assert session.scalars(select(Opportunity.id).order_by(Opportunity.id)).all() == opportunities
    kept = {line.outcome for line in again.lines if line.outcome != REJECTED}
    assert kept == {UNCHANGED}


def test_thematiques_map_through_the_reference_tables(session: Session) -> None:
    domains = list(session.scalars(select(Domain).order_by(Domain.position)))
    domain, subtypes = datainclusion.map_thematiques(domains, ["sante--acces-aux-soins"])
    assert domain.code == "sante"
    domain, _subtypes = datainclusion.map_thematiques(
        domains, ["trouver-un-emploi--repondre-a-des-offres-demploi"]
    )
    assert domain.code == "emploi"
    assert datainclusion.map_thematiques(domains, ["inconnu--rien"]) == (None, [])


def test_export_follows_the_schema_field_lists(session: Session) -> None:
    document = datainclusion_export.export_datainclusion(session, None, territory_slug="lyon")
    published = session.scalars(
        select(Opportunity).where(Opportunity.status == OpportunityStatus.PUBLISHED)
    ).all()
    assert document["services"]
    assert len(document["services"]) <= len(published)
    for service in document["services"]:
        assert set(service) == set(datainclusion.SERVICE_FIELDS)
        assert datainclusion_export.service_problems(service) == [], service
    structure_ids = {structure["id"] for structure in document["structures"]}
    for structure in document["structures"]:
        assert set(structure) == set(datainclusion.STRUCTURE_FIELDS)
        assert datainclusion_export.structure_problems(structure) == [], structure
    assert {service["structure_id"] for service in document["services"]} == structure_ids
    # The checker does catch what the schema forbids.
    broken = dict(document["services"][0], nom="Ab.", couleur="bleu", thematiques=["logement-hebergement"])
    problems = datainclusion_export.service_problems(broken)
    assert any("couleur" in problem for problem in problems)
    assert any("« nom »" in problem for problem in problems)
    assert any("thematiques" in problem for problem in problems)


def test_export_leaves_out_drafts(session: Session, sample: dict) -> None:
    datainclusion.import_datainclusion(session, None, sample)
    document = datainclusion_export.export_datainclusion(session, None)
    ids = {service["id"] for service in document["services"]}
    drafts = session.scalars(
        select(Opportunity.id).where(Opportunity.status == OpportunityStatus.DRAFT)
    ).all()
    assert not ids & {f"{datainclusion.SOURCE}--opportunite-{draft}" for draft in drafts}


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_the_import_and_export_commands(app: Flask, session: Session, tmp_path: Path) -> None:
    result = run(app, "import", "data-inclusion", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "Structures : 1 créé·es, 1 fusionné·es, 0 déjà importé·es, 3 rejeté·es." in result.output
    assert "Services : 3 créé·es, 0 fusionné·es, 0 déjà importé·es, 3 rejeté·es." in result.output
    assert "[rejeté] structure exemple--hors-territoire" in result.output
    assert session.scalar(select(Partner).where(Partner.key == "di:exemple--pension-famille-croix-rousse"))

    output = tmp_path / "services.json"
    result = run(app, "export", "data-inclusion", "--territory", "lyon", "--output", str(output))
    assert result.exit_code == 0, result.output
    exported = json.loads(output.read_text(encoding="utf-8"))
    assert all(datainclusion_export.service_problems(item) == [] for item in exported["services"])

    bad = tmp_path / "bad.json"
    bad.write_text("{pas du json", encoding="utf-8")
    result = app.test_cli_runner().invoke(main, ["import", "data-inclusion", str(bad)])
    assert result.exit_code == 1
    assert "Fichier illisible" in result.output
