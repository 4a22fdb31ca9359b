"""Central and bridging partners: who links whom in an ecosystem graph (« partenaires centraux »,
« partenaires passerelles »).

Degree counts distinct neighbours; betweenness (« intermédiarité ») the share of shortest paths
that go through a partner; cut vertices (« points d'articulation ») are the partners whose loss
splits the network. Results carry their French explanation, like every analytic.

Betweenness is computed by `betweenness`, an algebraic Brandes on scipy.sparse (breadth-first
searches of many sources at once as sparse × dense products), because networkx's pure-Python
Brandes is too slow for a page and for the national graph; it returns the same numbers as
`networkx.betweenness_centrality` (tested), sampling the same sources for a given seed.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from referral.network.graph import CP, DOMAIN, PARTNER, REFERRAL, STRUCTURE
from referral.network.wording import fr_percent, plural

# Above this many nodes, betweenness samples its sources (networkx's `k`), with a fixed seed:
# 256 sources for a territory, 64 beyond 20,000 nodes (the national graph), where each source
# costs a pass over a million edges; the ranking of the top partners is what is read, and it is
# stable well before the values are.
EXACT_BETWEENNESS_MAX_NODES = 1_000
DEFAULT_BETWEENNESS_SAMPLES = 256
LARGE_GRAPH_NODES = 20_000
LARGE_GRAPH_BETWEENNESS_SAMPLES = 64


def default_samples(n: int) -> int | None:
    """How many betweenness sources a graph of `n` nodes gets by default (None: all, exact)."""
    if n <= EXACT_BETWEENNESS_MAX_NODES:
        return None
    return DEFAULT_BETWEENNESS_SAMPLES if n <= LARGE_GRAPH_NODES else LARGE_GRAPH_BETWEENNESS_SAMPLES


DEFAULT_SEED = 20261123


def undirected_skeleton(graph: nx.Graph) -> nx.Graph:
    """The graph without directions, attributes or self-loops: the shape centralities look at.

    A referral, an opportunity, a CP's follow-up and a deployment all connect two actors: for « who
    links whom », their direction does not matter.
    """
    skeleton = nx.Graph()
    skeleton.add_nodes_from(graph.nodes())
    skeleton.add_edges_from((u, v) for u, v in graph.edges() if u != v)
    return skeleton


@dataclass(frozen=True)
class Adjacency:
    """The undirected skeleton of a graph as a symmetric 0/1 CSR matrix over `nodes` (in order)."""

    nodes: list[Hashable]
    matrix: sp.csr_matrix

    @classmethod
    def of(cls, graph: nx.Graph) -> Adjacency:
        nodes = list(graph.nodes())
        index = {node: i for i, node in enumerate(nodes)}
        pairs = np.fromiter(
            (i for u, v in graph.edges() if u != v for i in (index[u], index[v])), dtype=np.int64
        ).reshape(-1, 2)
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        n = len(nodes)
        matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0  # an edge in both directions, or twice, is one link
        return cls(nodes, matrix)

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.matrix.indptr)


def sample_sources(nodes: Sequence[Hashable], k: int, seed: int) -> list[Hashable]:
    """The `k` sources networkx's `betweenness_centrality(k=k, seed=seed)` would draw."""
    return random.Random(seed).sample(list(nodes), k)


def betweenness(
    graph: nx.Graph | Adjacency, *, k: int | None = None, seed: int = DEFAULT_SEED, batch: int | None = None
) -> dict[Hashable, float]:
    """Normalised betweenness of an undirected, unweighted graph, as networkx computes it.

    Brandes' algorithm, run for a batch of sources at once: the breadth-first search advances all
    of them by one level with one sparse × dense product (adjacency × frontier), counting
    shortest paths (σ); the dependencies (δ) are accumulated back level by level the same way.
    With `k`, only `k` sources are used, drawn as networkx draws them for the same seed, and the
    result is rescaled as networkx does (sources and non-sources separately), so
    ``betweenness(G, k=k, seed=s) == nx.betweenness_centrality(G, k=k, seed=s)`` up to rounding.
    `batch` only trades memory for speed.
    """
    adjacency = graph if isinstance(graph, Adjacency) else Adjacency.of(graph)
    nodes, matrix = adjacency.nodes, adjacency.matrix
    n = len(nodes)
    if n <= 2:
        return dict.fromkeys(nodes, 0.0)
    if k is None or k >= n:
        sources = np.arange(n)
        sampled = None
    else:
        index = {node: i for i, node in enumerate(nodes)}
        sampled = np.array([index[node] for node in sample_sources(nodes, k, seed)], dtype=np.int64)
        sources = sampled
    # Sources per batch: enough to amortise reading the matrix, few enough that the working
    # arrays (n × batch) stay in cache — measured best around 100k cells.
    batch = batch or max(8, min(64, 131_072 // n))

    total = np.zeros(n)
    for start in range(0, len(sources), batch):
        chunk = sources[start : start + batch]
        b = len(chunk)
        columns = np.arange(b)
        sigma = np.zeros((n, b))
        depth = np.full((n, b), -1, dtype=np.int32)
        sigma[chunk, columns] = 1.0
        depth[chunk, columns] = 0
        frontier = sigma.copy()
        level = 0
        while True:
            reached = matrix @ frontier
            new = (depth < 0) & (reached > 0)
            if not new.any():
                break
            level += 1
            depth[new] = level
            sigma[new] = reached[new]
            frontier = np.where(new, reached, 0.0)
        delta = np.zeros((n, b))
        inverse_sigma = np.divide(1.0, sigma, out=np.zeros_like(sigma), where=sigma > 0)
        for current in range(level, 0, -1):
            coefficient = np.where(depth == current, (1.0 + delta) * inverse_sigma, 0.0)
            delta += np.where(depth == current - 1, sigma * (matrix @ coefficient), 0.0)
        delta[chunk, columns] = 0.0
        total += delta.sum(axis=1)

    # networkx's normalisation, endpoints excluded: (s, t) pairs that could pass through v.
    pairs = n - 2
    if sampled is None:
        total *= 1.0 / ((n - 1) * pairs)
    else:
        kk = len(sampled)
        is_source = np.zeros(n, dtype=bool)
        is_source[sampled] = True
        total *= np.where(is_source, 1.0 / ((kk - 1) * pairs) if kk > 1 else math.nan, 1.0 / (kk * pairs))
    return {node: float(value) for node, value in zip(nodes, total, strict=True)}


@dataclass(frozen=True, slots=True)
class PartnerCentrality:
    """A partner's place in the network: neighbours, betweenness, and what its loss would cut."""

    partner_id: int
    name: str
    node: str
    degree: int
    structures: int
    domains: int
    cps: int
    referrals: int
    betweenness: float
    is_cut_vertex: bool
    cut_off: int
    cut_off_structures: int
    explanation: str


@dataclass(frozen=True, slots=True)
class CentralityReport:
    """Central partners (most neighbours) and bridging partners (highest betweenness)."""

    central: tuple[PartnerCentrality, ...]
    bridging: tuple[PartnerCentrality, ...]
    sampled_sources: int | None
    explanation: str


@dataclass(frozen=True, slots=True)
class Separation:
    """What removing a cut vertex does: how many nodes (and structures) leave the bulk."""

    cut_off: int
    cut_off_structures: int


def separations(
    graph: nx.Graph | Adjacency, is_structure: Callable[[Hashable], bool]
) -> dict[Hashable, Separation]:
    """For every cut vertex (« point d'articulation »), the nodes its removal cuts off.

    Removing v splits v's connected component into pieces; the largest piece is « the rest of
    the network » and everything else is cut off (on a tie, the piece on the side where the
    depth-first search came from is kept). One iterative depth-first search (Hopcroft–Tarjan)
    over the CSR arrays finds every cut vertex and the size of each piece from subtree sizes:
    one pass over the graph rather than one connected-components pass per partner.
    """
    adjacency = graph if isinstance(graph, Adjacency) else Adjacency.of(graph)
    nodes = adjacency.nodes
    indptr = adjacency.matrix.indptr.tolist()
    indices = adjacency.matrix.indices.tolist()
    n = len(nodes)
    structure = [int(bool(is_structure(node))) for node in nodes]
    order = [-1] * n
    low = [0] * n
    size = [0] * n
    structures = [0] * n
    parent = [-1] * n
    cursor = indptr[:-1]
    pieces: dict[int, list[tuple[int, int]]] = {}
    result: dict[Hashable, Separation] = {}
    counter = 0
    for root in range(n):
        if order[root] >= 0:
            continue
        order[root] = low[root] = counter
        counter += 1
        size[root], structures[root] = 1, structure[root]
        component = [root]
        stack = [root]
        while stack:
            node = stack[-1]
            position, end = cursor[node], indptr[node + 1]
            descended = False
            while position < end:
                neighbour = indices[position]
                position += 1
                if order[neighbour] < 0:
                    order[neighbour] = low[neighbour] = counter
                    counter += 1
                    size[neighbour], structures[neighbour] = 1, structure[neighbour]
                    parent[neighbour] = node
                    component.append(neighbour)
                    stack.append(neighbour)
                    descended = True
                    break
                if neighbour != parent[node] and order[neighbour] < low[node]:
                    low[node] = order[neighbour]
            cursor[node] = position
            if descended:
                continue
            stack.pop()
            up = parent[node]
            if up >= 0:
                if low[node] < low[up]:
                    low[up] = low[node]
                size[up] += size[node]
                structures[up] += structures[node]
                if low[node] >= order[up]:
                    pieces.setdefault(up, []).append((size[node], structures[node]))
        total, total_structures = size[root], structures[root]
        for node in component:
            separated = pieces.get(node)
            if not separated:
                continue
            if node != root:
                kept = (
                    total - 1 - sum(p for p, _ in separated),
                    total_structures - structure[node] - sum(st for _, st in separated),
                )
                candidates = [kept, *separated]
            else:
                candidates = list(separated)
            if len(candidates) < 2:
                continue  # a root with a single subtree is no cut vertex
            largest = max(range(len(candidates)), key=lambda i: (candidates[i][0], -i))
            cut = sum(p for i, (p, _) in enumerate(candidates) if i != largest)
            cut_structures = sum(st for i, (_, st) in enumerate(candidates) if i != largest)
            result[nodes[node]] = Separation(cut, cut_structures)
    return result


def centrality(
    graph: nx.DiGraph,
    *,
    limit: int = 10,
    k: int | None = None,
    seed: int = DEFAULT_SEED,
    exact_max_nodes: int = EXACT_BETWEENNESS_MAX_NODES,
) -> CentralityReport:
    """Central and bridging partners of an ecosystem graph.

    Degree counts distinct neighbours whatever the relation. Betweenness (« intermédiarité ») is
    the share of shortest paths between two other actors that go through the partner; it is exact
    up to `exact_max_nodes` nodes and estimated from `k` sources drawn with `seed` beyond (by
    default `default_samples`), so a large graph answers in bounded time and the same figures
    come back every time.
    A cut vertex (« point d'articulation ») is a partner whose removal splits the network; what
    it would cut off comes from `separations`, one pass over the graph.
    """
    adjacency = Adjacency.of(graph)
    n = len(adjacency.nodes)
    if k is None and n > exact_max_nodes:
        k = default_samples(max(n, EXACT_BETWEENNESS_MAX_NODES + 1))
    if k is not None and k >= n:
        k = None
    scores = betweenness(adjacency, k=k, seed=seed)
    kinds = dict(graph.nodes(data="kind"))
    cut_vertices = separations(adjacency, lambda node: kinds.get(node) == STRUCTURE)

    # Neighbours of each kind: adjacency × one-hot(kind), one sparse product for every node.
    kind_codes = {kind: column for column, kind in enumerate((STRUCTURE, DOMAIN, CP))}
    rows = [i for i, node in enumerate(adjacency.nodes) if kinds.get(node) in kind_codes]
    one_hot = sp.csr_matrix(
        (np.ones(len(rows)), (rows, [kind_codes[kinds[adjacency.nodes[i]]] for i in rows])),
        shape=(n, len(kind_codes)),
    )
    neighbour_kinds = np.asarray((adjacency.matrix @ one_hot).todense(), dtype=np.int64)
    degrees = adjacency.degrees
    position = {node: i for i, node in enumerate(adjacency.nodes)}
    received: dict[str, int] = defaultdict(int)
    for _, target, data in graph.edges(data=True):
        if data.get("relation") == REFERRAL:
            received[target] += int(data.get("count", 0))

    partners = [node for node in graph if kinds.get(node) == PARTNER]

    def base(node: str) -> dict[str, Any]:
        i = position[node]
        return {
            "degree": int(degrees[i]),
            "structures": int(neighbour_kinds[i, kind_codes[STRUCTURE]]),
            "domains": int(neighbour_kinds[i, kind_codes[DOMAIN]]),
            "cps": int(neighbour_kinds[i, kind_codes[CP]]),
            "referrals": received.get(node, 0),
        }

    facts = {node: base(node) for node in partners}
    name_of = {node: graph.nodes[node].get("name", node) for node in partners}

    def describe(node: str, *, bridging: bool) -> PartnerCentrality:
        fact = facts[node]
        separation = cut_vertices.get(node)
        is_cut = separation is not None
        cut_count = separation.cut_off if separation else 0
        cut_structures = separation.cut_off_structures if separation else 0
        links = [
            plural(fact["structures"], "structure"),
            plural(fact["domains"], "domaine"),
            plural(fact["cps"], "CP", "CP"),
        ]
        links = [
            text
            for text, count in zip(links, (fact["structures"], fact["domains"], fact["cps"]), strict=True)
            if count
        ]
        sentence = f"{name_of[node]} est en lien avec " + (
            " et ".join([", ".join(links[:-1]), links[-1]])
            if len(links) > 1
            else links[0]
            if links
            else "personne"
        )
        sentence += f" ({plural(fact['referrals'], 'orientation reçue', 'orientations reçues')})"
        if bridging:
            sentence += (
                f" ; il se trouve sur {fr_percent(scores[node])} des plus courts chemins entre "
                "deux autres acteurs du réseau (intermédiarité)"
            )
        if is_cut and cut_count:
            detail = plural(cut_count, "acteur")
            if cut_structures:
                detail += f", dont {plural(cut_structures, 'structure')},"
            sentence += f". Sans lui, {detail} ser{'aient' if cut_count > 1 else 'ait'} coupé" + (
                "s du reste du réseau" if cut_count > 1 else " du reste du réseau"
            )
        sentence += "."
        _, key = node.split(":", 1)
        return PartnerCentrality(
            partner_id=int(key),
            name=name_of[node],
            node=node,
            betweenness=scores[node],
            is_cut_vertex=is_cut,
            cut_off=cut_count,
            cut_off_structures=cut_structures,
            explanation=sentence,
            **fact,
        )

    by_degree = sorted(
        partners, key=lambda node: (-facts[node]["degree"], -facts[node]["referrals"], name_of[node], node)
    )
    by_betweenness = sorted(
        partners, key=lambda node: (-scores[node], -facts[node]["degree"], name_of[node], node)
    )
    central = tuple(describe(node, bridging=False) for node in by_degree[:limit] if facts[node]["degree"] > 0)
    bridging = tuple(describe(node, bridging=True) for node in by_betweenness[:limit] if scores[node] > 0)
    if k is None:
        method = "calculée exactement sur tous les plus courts chemins"
    else:
        method = (
            f"estimée à partir de {plural(k, 'acteur')} tiré" + ("s" if k > 1 else "") + " au hasard "
            "(tirage fixe, les chiffres ne changent pas d'une consultation à l'autre)"
        )
    explanation = (
        "Les partenaires centraux sont ceux qui ont le plus de liens (structures qui les sollicitent, "
        "domaines, CP) ; les partenaires passerelles relient des parties du réseau qui sans eux "
        f"seraient éloignées ou séparées. L'intermédiarité est {method}."
    )
    return CentralityReport(central=central, bridging=bridging, sampled_sources=k, explanation=explanation)
