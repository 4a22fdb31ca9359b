"""The ecosystem graph as files people already use: node-link JSON, GEXF and GraphML (Gephi).

All three are written by networkx, so a file read back with networkx (`node_link_graph`,
`read_gexf`, `read_graphml`) gives the same nodes, edges and attributes (tested). That holds
because `build_graph` stores only str/int/float/bool attributes, omits missing values instead of
storing None, and gives every edge an `id` (GEXF's required edge id) and every node a `label`
(GEXF's node label).

The graph holds no participant: only structures, partners, CPs, domains and national
partnerships, and counts (DESIGN §8).
"""

from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx

# Media types and file extensions the web layer answers with.
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "gexf": "application/gexf+xml",
    "graphml": "application/graphml+xml",
    "svg": "image/svg+xml",
}
EXTENSIONS: dict[str, str] = {"json": "json", "gexf": "gexf", "graphml": "graphml", "svg": "svg"}


def to_node_link(graph: nx.Graph) -> dict[str, Any]:
    """networkx's node-link data, with its current key names spelled out.

    ``edges="edges"`` is passed explicitly: networkx has changed this key's default before
    (``links`` → ``edges``), and a JSON API contract must not move with a library upgrade.
    """
    return nx.node_link_data(graph, edges="edges")


def to_json(graph: nx.Graph, *, indent: int | None = None) -> str:
    """The node-link data as a JSON string (UTF-8 names kept readable, not \\u-escaped)."""
    return json.dumps(to_node_link(graph), ensure_ascii=False, indent=indent, sort_keys=False)


def from_node_link(data: dict[str, Any]) -> nx.Graph:
    """The inverse of `to_node_link`, with the same key names."""
    return nx.node_link_graph(data, edges="edges")


def to_gexf(graph: nx.Graph) -> bytes:
    """GEXF 1.2 (UTF-8 bytes), the format Gephi opens natively."""
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


def to_graphml(graph: nx.Graph) -> bytes:
    """GraphML (UTF-8 bytes), read by Gephi, yEd, Cytoscape and igraph."""
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


def export(graph: nx.Graph, fmt: str) -> bytes:
    """The graph in one of ``json``, ``gexf``, ``graphml`` (for the CLI's ``--format``)."""
    if fmt == "json":
        return to_json(graph, indent=2).encode("utf-8")
    if fmt == "gexf":
        return to_gexf(graph)
    if fmt == "graphml":
        return to_graphml(graph)
    raise ValueError(f"unknown export format {fmt!r}; expected json, gexf or graphml")
