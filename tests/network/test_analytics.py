"""Analytics on hand-built snapshots whose answers are worked out by hand (see samples.py)."""

from __future__ import annotations

import dataclasses
import json

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.network.analytics import (
    analyse,
    coverage_gaps,
    critical_partners,
    dependence,
    deployment_matrix,
    underused_structures,
)
from referral.network.centrality import betweenness, centrality, separations
from referral.network.graph import build_graph
from referral.network.snapshot import NationalSnapshot, NetworkSnapshot, OpenNeeds, StructureInfo
from referral.network.wording import fr_int, fr_percent


def test_coverage_gaps(territory: NetworkSnapshot) -> None:
    gaps = coverage_gaps(territory)

    assert [(g.domain, g.subtype, g.status, g.open_needs, g.places_left) for g in gaps] == [
        ("logement", "logement.intermediaire", "gap", 6, 0),
        ("langue", None, "gap", 3, 0),
        ("emploi", "emploi.offre", "short", 10, 4),
        ("logement", "logement.social", "short", 8, 2),
    ]
    full, nobody, emploi, _ = gaps
    assert full.explanation == (
        "Logement — Logement intermédiaire ou accompagné : 6 besoins ouverts dans 1 structure, "
        "et la seule opportunité qui y répond n'a plus de place."
    )
    assert nobody.explanation == (
        "Langue française : 3 besoins ouverts dans 1 structure, "
        "et aucune opportunité ouverte du territoire n'y répond."
    )
    # The CDI progressif opportunity does not answer « offre d'emploi » needs.
    assert (emploi.opportunities, emploi.partners) == (1, 1)
    assert emploi.explanation == (
        "Emploi — Offre d’emploi en entreprise : 10 besoins ouverts dans 2 structures "
        "pour 4 places disponibles chez 1 partenaire."
    )


def test_coverage_gaps_without_shortfalls(territory: NetworkSnapshot) -> None:
    assert {g.status for g in coverage_gaps(territory, include_short=False)} == {"gap"}


def test_a_whole_domain_opportunity_answers_every_subtype(territory: NetworkSnapshot) -> None:
    # Santé: needs of subtype « médecin traitant » and domain-level needs, one opportunity without
    # subtypes and 20 places: covered, so not listed.
    assert not [g for g in coverage_gaps(territory) if g.domain == "sante"]


def test_dependence_on_a_single_partner(territory: NetworkSnapshot) -> None:
    by_domain = {d.domain: d for d in dependence(territory)}

    sante = by_domain["sante"]
    assert (sante.top_partner_id, sante.top_accepted, sante.accepted, sante.top_share) == (20, 10, 10, 1.0)
    assert sante.dependent
    assert sante.explanation == (
        "Santé : 100\u00a0% des orientations acceptées (10 sur 10) sont allées à Maison de santé "
        "Gerland, seul partenaire à en avoir accepté dans ce domaine ; le territoire dépend fortement "
        "de ce partenaire."
    )
    # Two partners sharing evenly is not a dependence; the tie goes to the lower id.
    emploi = by_domain["emploi"]
    assert (emploi.top_partner_id, emploi.top_share, emploi.dependent) == (30, 0.5, False)
    # One accepted referral is too few to conclude.
    assert not by_domain["sante_mentale"].dependent
    assert "trop peu" in by_domain["sante_mentale"].explanation


def test_partners_whose_loss_leaves_a_domain_uncovered(territory: NetworkSnapshot) -> None:
    critical = critical_partners(territory)

    assert [(c.partner_id, c.domain, c.open_needs) for c in critical] == [
        (20, "sante", 14),
        (40, "sante_mentale", 2),
    ]
    assert critical[1].explanation == (
        "CMP Est est le seul partenaire du territoire en santé mentale et addictions : "
        "sans lui, 2 besoins ouverts n'auraient plus de réponse sur le territoire."
    )


def test_bridging_partner(bridge: NetworkSnapshot) -> None:
    report = centrality(build_graph(bridge))

    top = report.bridging[0]
    assert top.name == "Passerelle"
    # Path S1–Alpha–S2–Passerelle–S3–Beta–S4: 12 of the 15 pairs of other nodes pass through it.
    assert top.betweenness == pytest.approx(9 / 15 * 15 / 21)
    assert top.betweenness == pytest.approx(
        nx.betweenness_centrality(build_graph(bridge).to_undirected())[top.node]
    )
    assert top.is_cut_vertex
    assert (top.cut_off, top.cut_off_structures) == (3, 2)
    assert "Sans lui, 3 acteurs, dont 2 structures, seraient coupés du reste du réseau." in top.explanation
    assert report.sampled_sources is None


def test_cut_vertex_in_the_territory(graph: nx.DiGraph) -> None:
    report = centrality(graph)
    cmp_est = next(p for p in report.bridging if p.partner_id == 40)
    # Without CMP Est, Chantier des Pentes and the santé mentale domain are cut off.
    assert (cmp_est.is_cut_vertex, cmp_est.cut_off, cmp_est.cut_off_structures) == (True, 2, 1)
    central = report.central[0]
    assert (central.partner_id, central.degree, central.structures) == (20, 4, 2)


def test_large_graphs_sample_betweenness_deterministically(graph: nx.DiGraph) -> None:
    first = centrality(graph, exact_max_nodes=5, k=None, seed=7)
    second = centrality(graph, exact_max_nodes=5, k=None, seed=7)
    assert first == second
    assert centrality(graph, k=6, seed=1).sampled_sources == 6
    assert "tirés au hasard" in centrality(graph, k=6, seed=1).explanation


def test_underused_structures(territory: NetworkSnapshot) -> None:
    (pentes,) = underused_structures(territory)

    assert (pentes.structure_id, pentes.open_needs, pentes.referrals) == (3, 26, 1)
    assert pentes.scope_referrals_per_need == pytest.approx(31 / 43)
    assert pentes.ratio == pytest.approx((1 / 26) / (31 / 43))
    assert pentes.explanation == (
        "Chantier des Pentes : 26 besoins ouverts (30 salarié·es accompagné·es) et 1 orientation sur la "
        "période, soit 0,04 orientation par besoin ouvert contre 0,72 en moyenne sur le territoire."
    )


def test_underuse_when_nobody_refers() -> None:
    snapshot = NetworkSnapshot(
        "x",
        "X",
        structures=(StructureInfo(1, "A"), StructureInfo(2, "B")),
        needs=(OpenNeeds(1, "emploi", None, 6), OpenNeeds(2, "emploi", None, 2)),
    )
    (only,) = underused_structures(snapshot)
    assert (only.structure_id, only.ratio) == (1, None)
    assert "aucune orientation" in only.explanation


def test_national_matrix(national: NationalSnapshot) -> None:
    matrix = deployment_matrix(national)

    assert matrix.territories == (("lille", "Lille"), ("lyon", "Lyon"), ("paris", "Paris"))
    assert [row.network_code for row in matrix.rows] == ["cnam", "cdc_habitat", "franprix"]
    assert [[c.status for c in row.cells] for row in matrix.rows] == [
        ["in_discussion", "absent", "absent"],
        ["absent", "absent", "absent"],
        ["absent", "deployed", "deployed"],  # Paris: deployed wins over in discussion
    ]
    assert matrix.status("franprix", "paris") == "deployed"
    assert matrix.rows[2].cells[1].label == "Déployé"
    assert matrix.rows[2].explanation == "Franprix : déployé dans 2 territoires, absent de 1."
    assert matrix.rows[1].explanation == "CDC Habitat : déployé nulle part, absent de 3."
    with pytest.raises(KeyError):
        matrix.status("vinci", "lyon")


def test_analyse_bundles_everything_as_json(territory: NetworkSnapshot) -> None:
    result = analyse(territory)
    data = json.loads(json.dumps(result.to_dict()))

    assert set(data) == {
        "summary",
        "coverage_gaps",
        "dependence",
        "critical_partners",
        "centrality",
        "underused_structures",
    }
    assert result.summary.explanation == (
        "3 structures, 6 partenaires et 3 CP ; 31 orientations transmises dont 61\u00a0% acceptées ; "
        "43 besoins ouverts pour 34 places disponibles."
    )
    every = [g.explanation for g in result.coverage_gaps] + [d.explanation for d in result.dependence]
    assert all(text.endswith(".") for text in every)


def test_french_numbers() -> None:
    assert fr_int(12345) == "12\u202f345"
    assert fr_percent(0.724) == "72\u00a0%"


# Betweenness: the sparse Brandes gives networkx's numbers, exact and sampled.


@pytest.mark.parametrize(
    "graph",
    [
        nx.karate_club_graph(),
        nx.barbell_graph(5, 3),
        nx.path_graph(4),
        nx.disjoint_union(nx.path_graph(5), nx.star_graph(4)),
        nx.Graph([(0, 1)]),
    ],
    ids=["karate", "barbell", "path", "disconnected", "two-nodes"],
)
def test_betweenness_equals_networkx(graph: nx.Graph) -> None:
    ours = betweenness(graph)
    theirs = nx.betweenness_centrality(graph)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_sampled_betweenness_equals_networkx_with_the_same_seed() -> None:
    graph = nx.karate_club_graph()
    ours = betweenness(graph, k=10, seed=42, batch=3)
    theirs = nx.betweenness_centrality(graph, k=10, seed=42)
    assert ours == pytest.approx(theirs, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=25),
    p=st.floats(min_value=0.05, max_value=0.6),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_betweenness_equals_networkx_on_random_graphs(n: int, p: float, seed: int) -> None:
    graph = nx.gnp_random_graph(n, p, seed=seed)
    assert betweenness(graph, batch=4) == pytest.approx(nx.betweenness_centrality(graph), abs=1e-12)


# Cut vertices: one depth-first search gives what a components pass per node would.


def pieces_without(graph: nx.Graph, node: int) -> list[set[int]]:
    component = nx.node_connected_component(graph, node)
    return sorted(nx.connected_components(graph.subgraph(component - {node})), key=len, reverse=True)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=30),
    p=st.floats(min_value=0.02, max_value=0.4),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_separations_match_brute_force(n: int, p: float, seed: int) -> None:
    graph = nx.gnp_random_graph(n, p, seed=seed)
    structures = {node for node in graph if node % 3 == 0}
    found = separations(graph, lambda node: node in structures)

    assert set(found) == set(nx.articulation_points(graph))
    for node, separation in found.items():
        pieces = pieces_without(graph, node)
        cut = [n for piece in pieces[1:] for n in piece]
        assert separation.cut_off == len(cut)
        if len(pieces[0]) != len(pieces[1]):  # on a tie, which piece is kept is a convention
            assert separation.cut_off_structures == len(set(cut) & structures)


def test_national_scope_is_named_as_such(territory: NetworkSnapshot) -> None:
    national_scope = dataclasses.replace(territory, territory_slug=None, territory_name="France")
    (first, _) = critical_partners(national_scope)
    assert "seul partenaire du réseau national en santé" in first.explanation
    assert "au niveau national" in first.explanation
    (pentes,) = underused_structures(national_scope)
    assert pentes.explanation.endswith("en moyenne au niveau national.")
