"""The ecosystem's services on the hand-built territory: scope, filters, analytics whose answers
are known (a gap, a single-partner dependency), exports read back, the national precomputation."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import networkx as nx
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.cli import main
from referral.ecosystem import services
from referral.ecosystem.exceptions import EcosystemRefused, NationalViewRefused
from referral.ecosystem.models import NetworkFigures
from referral.ecosystem.services import NetworkFilter
from referral.exceptions import InvalidInput, NotFound, PermissionDenied
from referral.scheduling.jobs import JOBS_BY_NAME
from tests.ecosystem import territory_data
from tests.ecosystem.territory_data import Clairval
from tests.helpers import demo_user


@pytest.fixture
def clairval(session: Session) -> Clairval:
    return territory_data.build(session)


demo = demo_user


def test_the_coordinator_sees_the_gap_and_the_dependence(session: Session, clairval: Clairval) -> None:
    analytics = services.territory_ecosystem(session, clairval.coordinator, "clairval").analytics

    gaps = {(g.domain, g.subtype): g for g in analytics.coverage_gaps}
    langue = gaps["langue", None]
    assert (langue.status, langue.open_needs, langue.structures, langue.places_left) == ("gap", 3, 2, 0)
    assert langue.explanation == (
        "Langue française : 3 besoins ouverts dans 2 structures, "
        "et aucune opportunité ouverte du territoire n'y répond."
    )
    social = gaps["logement", "logement.social"]
    assert (social.status, social.open_needs, social.places_left) == ("short", 2, 1)
    assert set(gaps) == {("langue", None), ("logement", "logement.social")}

    (sante,) = [d for d in analytics.dependence if d.domain == "sante"]
    assert (sante.top_partner_id, sante.accepted, sante.top_share, sante.dependent) == (
        clairval.sante.id,
        4,
        1.0,
        True,
    )
    assert "le territoire dépend fortement de ce partenaire" in sante.explanation
    critical = {(c.domain, c.partner_id) for c in analytics.critical_partners}
    assert ("sante", clairval.sante.id) in critical
    assert analytics.summary.referrals == 6
    assert analytics.summary.accepted == 4


def test_the_period_changes_the_referral_figures(session: Session, clairval: Clairval) -> None:
    spring = NetworkFilter(since=date(2026, 3, 1), until=date(2026, 3, 31))
    ecosystem = services.territory_ecosystem(session, clairval.coordinator, "clairval", spring)
    assert ecosystem.analytics.summary.referrals == 2
    assert ecosystem.filter_label == "orientations créées du 01/03/2026 au 31/03/2026"
    assert ecosystem.title == "Écosystème — Clairval (orientations créées du 01/03/2026 au 31/03/2026)"
    # Two accepted referrals are too few to speak of a dependence.
    assert not [d for d in ecosystem.analytics.dependence if d.dependent]


def test_a_domain_filter(session: Session, clairval: Clairval) -> None:
    ecosystem = services.territory_ecosystem(session, clairval.cp, "clairval", NetworkFilter(domain="langue"))
    assert ecosystem.filter_label == "Langue française"
    assert [g.domain for g in ecosystem.analytics.coverage_gaps] == ["langue"]
    assert ecosystem.snapshot.partners == ()


@pytest.mark.parametrize(
    ("network_filter", "field"),
    [
        (NetworkFilter(domain="astrologie"), "domain"),
        (NetworkFilter(since=date(2026, 5, 1), until=date(2026, 4, 1)), "until"),
    ],
)
def test_bad_filters_are_refused_in_french(
    session: Session, clairval: Clairval, network_filter: NetworkFilter, field: str
) -> None:
    with pytest.raises(InvalidInput) as refusal:
        services.territory_ecosystem(session, clairval.coordinator, "clairval", network_filter)
    assert refusal.value.status == 422
    assert list(refusal.value.errors) == [field]
    assert refusal.value.message == "Le filtre demandé n'est pas valable."


def test_scope(session: Session, clairval: Clairval) -> None:
    # The CP and the coordinator of the territory, and the national team, see it.
    for actor in (clairval.cp, clairval.coordinator, demo(session, "admin")):
        assert services.territory_ecosystem(session, actor, "clairval").slug == "clairval"
    # Another territory's coordinator or CP: as if it did not exist.
    for who in ("coordinator", "cp_sante"):
        with pytest.raises(NotFound, match="hors de votre périmètre"):
            services.territory_ecosystem(session, demo(session, who), "clairval")
    with pytest.raises(NotFound):
        services.territory_ecosystem(session, clairval.coordinator, "atlantide")
    # CIPs are refused, whatever the territory.
    with pytest.raises(EcosystemRefused):
        services.territory_ecosystem(session, demo(session, "cip"), "lyon")


def test_where_ecosystem_leads(session: Session, clairval: Clairval) -> None:
    assert services.ecosystem_home(session, clairval.coordinator) == "clairval"
    assert services.ecosystem_home(session, demo(session, "cp_emploi")) == "lyon"
    assert services.ecosystem_home(session, demo(session, "admin")) is None
    with pytest.raises(PermissionDenied):
        services.ecosystem_home(session, demo(session, "cip"))


@pytest.mark.parametrize(("fmt", "read"), [("gexf", nx.read_gexf), ("graphml", nx.read_graphml)])
def test_exports_read_back_by_networkx(session: Session, clairval: Clairval, fmt: str, read) -> None:  # noqa: ANN001
    ecosystem = services.territory_ecosystem(session, clairval.coordinator, "clairval")
    exported = services.territory_export(session, clairval.coordinator, "clairval", fmt)
    assert exported.filename == f"network-clairval.{fmt}"
    graph = read(io.BytesIO(exported.content))
    assert set(graph.nodes) == set(ecosystem.graph.nodes)
    assert {(u, v) for u, v in graph.edges} == {(u, v) for u, v in ecosystem.graph.edges}
    assert graph.nodes[f"partner:{clairval.sante.id}"]["name"] == "Maison de santé Clairval"
    edge = graph.edges[f"structure:{clairval.alpha.id}", f"partner:{clairval.sante.id}"]
    assert (edge["count"], edge["accepted"], edge["median_answer_days"]) == (4, 4, 4.0)


def test_every_export_and_the_analytics_name_nobody(session: Session, clairval: Clairval) -> None:
    texts = [
        services.territory_export(session, clairval.coordinator, "clairval", fmt).content.decode("utf-8")
        for fmt in services.EXPORT_FORMATS
    ]
    texts.append(repr(services.territory_analytics(session, clairval.coordinator, "clairval")))
    for text in texts:
        for name in territory_data.every_name():
            assert name not in text


def test_an_unknown_export_format(session: Session, clairval: Clairval) -> None:
    with pytest.raises(InvalidInput, match="Format d'export inconnu"):
        services.territory_export(session, None, "clairval", "pdf")


def test_the_national_precomputation(session: Session, clairval: Clairval) -> None:
    now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    result = services.precompute_national_figures(session, now)
    territories = session.scalar(select(func.count()).select_from(clairval.territory.__class__))
    assert result["territoires"] == territories
    rows = session.scalar(select(func.count()).select_from(NetworkFigures))
    assert rows == territories + 1

    # Idempotent: a second run replaces the rows, it adds none.
    later = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    services.precompute_national_figures(session, later)
    assert session.scalar(select(func.count()).select_from(NetworkFigures)) == rows

    figures = services.national_figures(session, demo(session, "admin"))
    assert figures.ready
    assert figures.computed_at == later
    mine = {t.slug: t for t in figures.territories}["clairval"]
    assert mine.figures["gaps"] == 1
    assert mine.figures["dependent_domains"] == ["Santé"]
    assert mine.figures["summary"]["referrals"] == 6
    matrix = figures.national["matrix"]
    row = {r["network_code"]: r for r in matrix["rows"]}["vinci"]
    cell = {c["territory_slug"]: c for c in row["cells"]}["clairval"]
    assert (cell["status"], cell["label"]) == ("in_discussion", "En discussion")
    assert figures.national["graph"]["nodes"] > 0
    for name in territory_data.every_name():
        assert name not in repr(figures)


def test_a_removed_territory_loses_its_row(session: Session, clairval: Clairval) -> None:
    services.precompute_national_figures(session, datetime(2026, 11, 23, tzinfo=UTC))
    session.add(NetworkFigures(scope="territory:ancien", territory_id=clairval.territory.id, figures={}))
    session.flush()
    services.precompute_national_figures(session, datetime(2026, 11, 24, tzinfo=UTC))
    assert session.scalar(select(NetworkFigures).where(NetworkFigures.scope == "territory:ancien")) is None


def test_only_the_national_team_reads_the_national_figures(session: Session, clairval: Clairval) -> None:
    with pytest.raises(NationalViewRefused):
        services.national_figures(session, clairval.coordinator)
    empty = services.national_figures(session, demo(session, "admin"))
    assert not empty.ready
    assert empty.computed_at is None


def test_the_scheduled_job_calls_the_precomputation(session: Session) -> None:
    job = JOBS_BY_NAME["network"]
    result = job.run(session, datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    assert result["territoires"] >= 1
    assert session.scalar(select(NetworkFigures).where(NetworkFigures.scope == "national")) is not None


def test_the_export_command_writes_the_file(
    app: Flask, session: Session, clairval: Clairval, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.commit()
    monkeypatch.chdir(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["export", "network", "--territory", "clairval", "--format", "gexf"])
    assert result.exit_code == 0, result.output
    assert "écrit dans network-clairval.gexf" in result.output
    graph = nx.read_gexf(tmp_path / "network-clairval.gexf")
    assert graph.nodes[f"partner:{clairval.sante.id}"]["name"] == "Maison de santé Clairval"

    target = tmp_path / "sante.graphml"
    result = runner.invoke(
        main,
        [
            "export",
            "network",
            "--territory",
            "clairval",
            "--format",
            "graphml",
            "--domain",
            "sante",
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert {data["kind"] for _, data in nx.read_graphml(target).nodes(data=True)} >= {"structure", "partner"}

    refused = runner.invoke(main, ["export", "network", "--territory", "atlantide"])
    assert refused.exit_code == 1
    assert "Territoire inconnu" in refused.output
