"""Exports read back by networkx give the same graph: nodes, edges and attributes."""

from __future__ import annotations

import io
import json

import networkx as nx
import pytest

from referral.network.export import (
    MEDIA_TYPES,
    export,
    from_node_link,
    to_gexf,
    to_graphml,
    to_json,
    to_node_link,
)


def assert_same_graph(read: nx.Graph, graph: nx.DiGraph) -> None:
    assert read.is_directed()
    assert not read.is_multigraph()
    assert dict(read.nodes(data=True)) == dict(graph.nodes(data=True))
    assert {(u, v): d for u, v, d in read.edges(data=True)} == {
        (u, v): d for u, v, d in graph.edges(data=True)
    }
    # Types survive too (an int count stays an int, a float rate a float).
    for u, v, data in graph.edges(data=True):
        for key, value in data.items():
            assert type(read.edges[u, v][key]) is type(value), (u, v, key)
    for node, data in graph.nodes(data=True):
        for key, value in data.items():
            assert type(read.nodes[node][key]) is type(value), (node, key)


def test_gexf_reads_back_identical(graph: nx.DiGraph) -> None:
    read = nx.read_gexf(io.BytesIO(to_gexf(graph)))
    assert_same_graph(read, graph)
    assert read.graph["name"] == graph.graph["name"]


def test_graphml_reads_back_identical(graph: nx.DiGraph) -> None:
    read = nx.read_graphml(io.BytesIO(to_graphml(graph)))
    assert_same_graph(read, graph)
    for key, value in graph.graph.items():
        assert read.graph[key] == value


def test_node_link_json_reads_back_identical(graph: nx.DiGraph) -> None:
    data = json.loads(to_json(graph))
    assert set(data) == {"directed", "multigraph", "graph", "nodes", "edges"}
    read = from_node_link(data)
    assert_same_graph(read, graph)
    assert read.graph == graph.graph
    assert to_node_link(graph) == data


def test_json_keeps_accents_readable(graph: nx.DiGraph) -> None:
    assert "Maison de santé Gerland" in to_json(graph)


def test_hostile_names_survive_every_format(graph: nx.DiGraph) -> None:
    graph.nodes["partner:10"]["name"] = graph.nodes["partner:10"]["label"] = "<script>&\"'"
    assert nx.read_gexf(io.BytesIO(to_gexf(graph))).nodes["partner:10"]["name"] == "<script>&\"'"
    assert nx.read_graphml(io.BytesIO(to_graphml(graph))).nodes["partner:10"]["name"] == "<script>&\"'"


def test_export_by_format_name(graph: nx.DiGraph) -> None:
    assert export(graph, "gexf").startswith(b"<?xml")
    assert b"graphml" in export(graph, "graphml")[:400]
    assert json.loads(export(graph, "json"))["directed"] is True
    assert MEDIA_TYPES["gexf"] == "application/gexf+xml"
    with pytest.raises(ValueError, match="unknown export format"):
        export(graph, "pdf")
