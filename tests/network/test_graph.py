"""The ecosystem graph built from a hand-made snapshot."""

from __future__ import annotations

import dataclasses
import random

import networkx as nx
import pytest

from referral.network.graph import (
    build_graph,
    node_id,
    nodes_of_kind,
    parse_node_id,
    primary_domains,
    weighted_median,
)
from referral.network.snapshot import NetworkSnapshot, ReferralAggregate, StructureInfo


def test_nodes_of_every_kind(graph: nx.DiGraph) -> None:
    assert nodes_of_kind(graph, "structure") == ["structure:1", "structure:2", "structure:3"]
    assert nodes_of_kind(graph, "partner") == [f"partner:{i}" for i in (10, 11, 20, 30, 31, 40)]
    assert nodes_of_kind(graph, "cp") == ["cp:1", "cp:2", "cp:3"]
    assert nodes_of_kind(graph, "domain") == [
        "domain:emploi",
        "domain:logement",
        "domain:sante",
        "domain:sante_mentale",
        "domain:langue",
    ]
    assert nodes_of_kind(graph, "national_network") == ["network:franprix"]
    assert graph.number_of_nodes() == 18


def test_referral_edge_aggregates_domains(graph: nx.DiGraph) -> None:
    edge = graph.edges["structure:2", "partner:10"]
    assert edge["relation"] == "referral"
    assert (edge["count"], edge["accepted"], edge["answered"]) == (3, 1, 2)
    assert edge["weight"] == 3.0
    assert edge["acceptance_rate"] == pytest.approx(1 / 3)
    assert edge["answer_rate"] == pytest.approx(2 / 3)
    assert edge["median_answer_days"] == 15.0
    assert edge["domain"] == "logement"
    assert graph.number_of_edges() == 8 + 6 + 6 + 1  # referrals, offers, CP links, deployment


def test_structure_partner_domain_cp_and_network_attributes(graph: nx.DiGraph) -> None:
    assert graph.nodes["structure:3"] == {
        "kind": "structure",
        "label": "Chantier des Pentes",
        "name": "Chantier des Pentes",
        "ref_id": 3,
        "participants": 30,
        "open_needs": 26,
        "town": "Lyon",
    }
    bailleur = graph.nodes["partner:10"]
    assert bailleur["convention_signed_on"] == "2024-01-15"
    assert bailleur["convention_ends_on"] == "2026-12-31"
    assert bailleur["primary_domain"] == "logement"
    assert bailleur["places_left"] == 2
    assert "national_network" not in bailleur  # absent, never None
    assert graph.nodes["partner:30"]["national_network"] == "franprix"
    assert graph.nodes["domain:logement"]["open_needs"] == 14
    assert graph.nodes["domain:langue"]["places_left"] == 0
    assert graph.edges["partner:20", "domain:sante"] == {
        "id": "offers:partner:20->domain:sante",
        "relation": "offers",
        "weight": 1.0,
        "places_left": 20,
    }
    assert graph.edges["cp:2", "partner:40"]["relation"] == "follows"
    assert graph.edges["network:franprix", "partner:30"]["status"] == "deployed"


def test_no_attribute_is_none(graph: nx.DiGraph) -> None:
    """GEXF and GraphML have no None: a missing value must be an absent key."""
    values = [v for _, data in graph.nodes(data=True) for v in data.values()]
    values += [v for _, _, data in graph.edges(data=True) for v in data.values()]
    assert all(isinstance(v, str | int | float | bool) for v in values)


def test_same_graph_whatever_the_order_of_the_rows(territory: NetworkSnapshot) -> None:
    rng = random.Random(3)
    shuffled = dataclasses.replace(
        territory,
        **{
            name: tuple(rng.sample(getattr(territory, name), len(getattr(territory, name))))
            for name in ("structures", "partners", "cps", "referrals", "cp_links", "needs", "places")
        },
    )
    first, second = build_graph(territory), build_graph(shuffled)
    assert list(first.nodes(data=True)) == list(second.nodes(data=True))
    assert list(first.edges(data=True)) == list(second.edges(data=True))


def test_referrals_to_unknown_nodes_are_ignored() -> None:
    snapshot = NetworkSnapshot(
        "x",
        "X",
        structures=(StructureInfo(1, "S"),),
        referrals=(ReferralAggregate(1, 99, "emploi", 2),),
    )
    graph = build_graph(snapshot)
    assert "partner:99" not in graph
    assert graph.number_of_edges() == 0


def test_node_ids_round_trip() -> None:
    assert node_id("partner", 12) == "partner:12"
    assert parse_node_id("partner:12") == ("partner", 12)
    assert parse_node_id("domain:sante_mentale") == ("domain", "sante_mentale")
    assert parse_node_id(node_id("national_network", "cdc_habitat")) == ("national_network", "cdc_habitat")


def test_weighted_median() -> None:
    assert weighted_median([(5.0, 8), (20.0, 3)]) == 5.0
    assert weighted_median([(10.0, 1), (20.0, 1)]) == 10.0  # lower median on a tie
    assert weighted_median([(10.0, 1), (20.0, 2), (30.0, 1)]) == 20.0
    assert weighted_median([(10.0, 0)]) is None


def test_primary_domain_is_where_most_referrals_went(territory: NetworkSnapshot) -> None:
    primary = primary_domains(territory)
    assert primary[20] == "sante"
    assert primary[11] == "logement"
