"""The SVG picture: valid XML, one element per node, links, titles, escaping, determinism."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from referral.network.graph import build_graph, parse_node_id
from referral.network.snapshot import NetworkSnapshot, PartnerInfo
from referral.network.svg import layered_layout, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def link_for(node: str) -> str | None:
    kind, key = parse_node_id(node)
    if kind == "partner":
        return f"/partenaires/{key}"
    if kind == "structure":
        return f"/structures/{key}?onglet=reseau&periode=2026"
    return None


def node_elements(root: ET.Element) -> list[ET.Element]:
    return [element for element in root.iter(f"{SVG}g") if element.get("class") == "node"]


def test_valid_xml_with_one_element_per_node(graph: nx.DiGraph) -> None:
    root = ET.fromstring(render_svg(graph, link_for=link_for))

    assert root.tag == f"{SVG}svg"
    elements = node_elements(root)
    assert len(elements) == graph.number_of_nodes()
    assert sorted(e.get("data-node") for e in elements) == sorted(graph.nodes)
    assert {e.get("data-kind") for e in elements} == {
        "structure",
        "partner",
        "cp",
        "domain",
        "national_network",
    }


def test_every_node_has_a_title_and_linked_ones_an_href(graph: nx.DiGraph) -> None:
    root = ET.fromstring(render_svg(graph, link_for=link_for))
    for element in node_elements(root):
        node = element.get("data-node")
        titles = list(element.iter(f"{SVG}title"))
        assert len(titles) == 1
        assert titles[0].text
        links = element.findall(f"{SVG}a")
        expected = link_for(node)
        assert [a.get("href") for a in links] == ([expected] if expected else [])
        if expected:  # the title names the link, the shape and the label are inside it
            assert links[0].find(f"{SVG}title") is not None
            assert links[0].find(f"{SVG}text") is not None


def test_titles_explain_the_figures(graph: nx.DiGraph) -> None:
    root = ET.fromstring(render_svg(graph))
    titles = {e.get("data-node"): e.find(f"{SVG}title").text for e in node_elements(root)}
    assert titles["partner:10"] == (
        "Bailleur Rhône (partenaire) ; domaines : Logement ; 9 orientations reçues, 44\u00a0% acceptées ; "
        "2 places disponibles ; convention jusqu'au 31/12/2026"
    )
    assert titles["structure:3"] == (
        "Chantier des Pentes (structure) : 30 salarié·es accompagné·es, 26 besoins ouverts, 1 orientation"
    )
    assert titles["domain:langue"] == "Langue française (domaine) : 3 besoins ouverts, 0 place disponible"


def test_legend_and_accessible_name(graph: nx.DiGraph) -> None:
    root = ET.fromstring(render_svg(graph, title="Écosystème de Lyon"))
    assert root.find(f"{SVG}title").text == "Écosystème de Lyon"
    assert root.get("aria-labelledby") == "ecosysteme-titre ecosysteme-desc"
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    for expected in (
        "Légende",
        "Partenaire",
        "Logement",
        "Santé mentale et addictions",
        "Orientations (épaisseur : nombre)",
    ):
        assert expected in texts


def test_names_are_escaped(territory: NetworkSnapshot) -> None:
    hostile = "<script>alert(1)</script>&\"'"
    snapshot = dataclasses.replace(
        territory,
        territory_name=hostile,
        partners=(*territory.partners, PartnerInfo(99, hostile, "x", domains=("emploi",))),
    )
    svg = render_svg(build_graph(snapshot), link_for=link_for)

    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter("script"))
    element = next(e for e in node_elements(root) if e.get("data-node") == "partner:99")
    assert element.find(f".//{SVG}title").text.startswith(hostile)
    assert root.find(f"{SVG}title").text == f"Écosystème — {hostile}"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/x", "data:text/html,x"])
def test_unsafe_links_are_refused(graph: nx.DiGraph, url: str) -> None:
    with pytest.raises(ValueError, match="refusing link"):
        render_svg(graph, link_for=lambda node: url)


def test_layout_is_deterministic(territory: NetworkSnapshot) -> None:
    first = render_svg(build_graph(territory), link_for=link_for)
    second = render_svg(build_graph(territory), link_for=link_for)
    assert first == second
    assert layered_layout(build_graph(territory)) == layered_layout(build_graph(territory))


def test_layout_columns_and_groups(graph: nx.DiGraph) -> None:
    layout = layered_layout(graph)
    x = {node: position[0] for node, position in layout.positions.items()}
    y = {node: position[1] for node, position in layout.positions.items()}
    assert x["structure:1"] < x["partner:10"] < x["domain:logement"] < x["cp:1"] == x["network:franprix"]
    # Partners grouped by main domain in the design's order (emploi, logement, santé…).
    assert y["partner:30"] < y["partner:31"] < y["partner:10"] < y["partner:20"] < y["partner:40"]
    # No two nodes of a column share a row.
    for column in {position[0] for position in layout.positions.values()}:
        rows = [p[1] for p in layout.positions.values() if p[0] == column]
        assert len(rows) == len(set(rows))
    assert "langue" in layout.sectors
    assert "langue" not in layout.occupied


def test_empty_graph_still_draws() -> None:
    root = ET.fromstring(render_svg(nx.DiGraph()))
    assert node_elements(root) == []


def test_characters_xml_cannot_hold_are_dropped(territory: NetworkSnapshot) -> None:
    snapshot = dataclasses.replace(
        territory, partners=(*territory.partners, PartnerInfo(98, "Atelier\x01 du\x0b Lien\n", "x"))
    )
    root = ET.fromstring(render_svg(build_graph(snapshot), link_for=link_for))
    element = next(e for e in node_elements(root) if e.get("data-node") == "partner:98")
    assert element.find(f".//{SVG}title").text.startswith("Atelier du Lien\n (partenaire)")
