"""What a coordinator reads beside the picture: gaps, dependences, central partners, usage.

Every result carries `explanation`, one French sentence the page shows as is, because a
coordinator is not asked to interpret a bare number (DESIGN §1: the interface explains every
number it shows). Results are frozen dataclasses of plain values, so `dataclasses.asdict` turns
them into JSON for the API and the precomputed national table.

Definitions (each function's docstring gives the detail):

- coverage gap (« besoin non couvert »): a domain/subtype with open needs and no place left on
  any open opportunity that answers it; « insuffisant » when places are fewer than needs;
- dependence (« dépendance »): the share of a domain's accepted referrals that went to its top
  partner; a partner is critical (« partenaire indispensable ») when it is the only one working
  in a domain;
- central partners: most neighbours (structures, domains, CPs); bridging partners (« partenaires
  passerelles »): highest betweenness, and cut vertices whose loss splits the network;
- under-use (« faible recours au réseau »): a structure whose referrals per open need are far
  below the scope's average.

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
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from referral.network.graph import (
    CP,
    DOMAIN,
    NATIONAL_NETWORK,
    PARTNER,
    REFERRAL,
    STRUCTURE,
    build_graph,
    domain_sort_key,
)
from referral.network.snapshot import DeploymentStatus, NationalSnapshot, NetworkSnapshot

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

NBSP = "\u00a0"
NNBSP = "\u202f"


# ---------------------------------------------------------------------------------------------
# French formatting


def fr_int(value: int) -> str:
    """``12345 -> "12 345"`` (thin no-break space, French typography)."""
    return f"{value:,}".replace(",", NNBSP)


def fr_decimal(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def fr_percent(share: float) -> str:
    """``0.724 -> "72 %"``."""
    return f"{round(100 * share)}{NBSP}%"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(3, "besoin ouvert", "besoins ouverts") -> "3 besoins ouverts"``."""
    word = singular if count <= 1 else (plural_form or singular + "s")
    return f"{fr_int(count)} {word}"


def _of_scope(snapshot: NetworkSnapshot) -> str:
    """« du territoire » or, for the national snapshot, « du réseau national »."""
    return "du territoire" if snapshot.territory_slug else "du réseau national"


def _in_scope(snapshot: NetworkSnapshot) -> str:
    return "sur le territoire" if snapshot.territory_slug else "au niveau national"


def _the_scope(snapshot: NetworkSnapshot) -> str:
    return "le territoire" if snapshot.territory_slug else "le réseau national"


def _domain_phrase(snapshot: NetworkSnapshot, domain: str, subtype: str | None) -> str:
    label = snapshot.domain_label(domain)
    if subtype is None:
        return label
    return f"{label} — {snapshot.subtype_label(subtype)}"


# ---------------------------------------------------------------------------------------------
# Coverage gaps


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """Open needs of a domain/subtype that the open opportunities do not (or not fully) answer.

    `status`: ``gap`` (no place left at all) or ``short`` (fewer places than needs).
    """

    domain: str
    domain_label: str
    subtype: str | None
    subtype_label: str | None
    open_needs: int
    structures: int
    places_left: int
    opportunities: int
    partners: int
    status: str
    explanation: str


def coverage_gaps(snapshot: NetworkSnapshot, *, include_short: bool = True) -> list[CoverageGap]:
    """Domains and subtypes where needs are open and places are missing (« besoins non couverts »).

    A need of subtype *s* in domain *d* is answered by an open opportunity of *d* whose subtypes
    include *s*, or which has no subtype (it answers its whole domain). A need recorded at the
    domain level only is answered by any open opportunity of its domain. Places are the places
    left on those opportunities; `opportunities` counts them, full ones included, so the
    explanation can tell « no offer » from « offers all full ». Gaps come first, then shortfalls,
    each by decreasing number of needs.
    """
    needs: dict[tuple[str, str | None], int] = defaultdict(int)
    structures: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for row in snapshot.needs:
        if row.count > 0:
            needs[row.domain, row.subtype] += row.count
            structures[row.domain, row.subtype].add(row.structure_id)

    offers_by_domain: dict[str, list[Any]] = defaultdict(list)
    for offer in snapshot.places:
        offers_by_domain[offer.domain].append(offer)

    result: list[CoverageGap] = []
    for (domain, subtype), count in needs.items():
        answering = [
            offer
            for offer in offers_by_domain.get(domain, ())
            if subtype is None or not offer.subtypes or subtype in offer.subtypes
        ]
        places = sum(max(offer.places_left, 0) for offer in answering)
        partners = len({offer.partner_id for offer in answering if offer.places_left > 0})
        if places >= count or (places > 0 and not include_short):
            continue
        what = _domain_phrase(snapshot, domain, subtype)
        in_structures = plural(len(structures[domain, subtype]), "structure")
        needs_text = plural(count, "besoin ouvert", "besoins ouverts")
        if places == 0:
            status = "gap"
            if answering:
                reason = (
                    f"les {plural(len(answering), 'opportunité')} qui y répondent n'ont plus de place"
                    if len(answering) > 1
                    else "la seule opportunité qui y répond n'a plus de place"
                )
            else:
                reason = f"aucune opportunité ouverte {_of_scope(snapshot)} n'y répond"
            explanation = f"{what} : {needs_text} dans {in_structures}, et {reason}."
        else:
            status = "short"
            explanation = (
                f"{what} : {needs_text} dans {in_structures} pour "
                f"{plural(places, 'place disponible', 'places disponibles')} "
                f"chez {plural(partners, 'partenaire')}."
            )
        result.append(
            CoverageGap(
                domain=domain,
                domain_label=snapshot.domain_label(domain),
                subtype=subtype,
                subtype_label=snapshot.subtype_label(subtype) if subtype else None,
                open_needs=count,
                structures=len(structures[domain, subtype]),
                places_left=places,
                opportunities=len(answering),
                partners=partners,
                status=status,
                explanation=explanation,
            )
        )
    result.sort(
        key=lambda gap: (gap.status != "gap", -gap.open_needs, domain_sort_key(gap.domain), gap.subtype or "")
    )
    return result


# ---------------------------------------------------------------------------------------------
# Dependence


@dataclass(frozen=True, slots=True)
class DomainDependence:
    """How much of a domain's accepted referrals went to a single partner."""

    domain: str
    domain_label: str
    accepted: int
    partners_used: int  # partners that accepted at least one referral of the domain
    top_partner_id: int
    top_partner_name: str
    top_accepted: int
    top_share: float
    dependent: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class CriticalPartner:
    """A partner whose loss would leave a domain without any partner (« partenaire indispensable »)."""

    partner_id: int
    partner_name: str
    domain: str
    domain_label: str
    open_needs: int
    accepted: int
    explanation: str


def dependence(
    snapshot: NetworkSnapshot, *, threshold: float = 0.5, min_accepted: int = 3
) -> list[DomainDependence]:
    """Per domain, the share of accepted referrals that went to its top partner.

    `dependent` when that share exceeds `threshold` (by default: more than half) on at least
    `min_accepted` accepted referrals (below that, one or two referrals would make any partner
    look indispensable; two partners sharing a domain evenly are not a dependence). Ties between
    partners go to the lower partner id, so the answer is stable. Sorted by decreasing share.
    """
    names = {partner.id: partner.name for partner in snapshot.partners}
    accepted: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in snapshot.referrals:
        if row.accepted > 0:
            accepted[row.domain][row.partner_id] += row.accepted
    result = []
    for domain, by_partner in accepted.items():
        total = sum(by_partner.values())
        top_id = min(by_partner, key=lambda pid: (-by_partner[pid], pid))
        top = by_partner[top_id]
        share = top / total
        dependent = share > threshold and total >= min_accepted
        label = snapshot.domain_label(domain)
        name = names.get(top_id, f"partenaire n° {top_id}")
        sentence = (
            f"{label} : {fr_percent(share)} des orientations acceptées ({fr_int(top)} sur {fr_int(total)}) "
            f"sont allées à {name}"
        )
        if dependent:
            if len(by_partner) == 1:
                sentence += ", seul partenaire à en avoir accepté dans ce domaine"
            sentence += f" ; {_the_scope(snapshot)} dépend fortement de ce partenaire."
        elif total < min_accepted:
            sentence += " ; trop peu d'orientations acceptées pour parler de dépendance."
        else:
            sentence += f", sur {plural(len(by_partner), 'partenaire')} ayant accepté des orientations."
        result.append(
            DomainDependence(
                domain=domain,
                domain_label=label,
                accepted=total,
                partners_used=len(by_partner),
                top_partner_id=top_id,
                top_partner_name=name,
                top_accepted=top,
                top_share=share,
                dependent=dependent,
                explanation=sentence,
            )
        )
    result.sort(key=lambda d: (-d.top_share, -d.accepted, domain_sort_key(d.domain)))
    return result


def critical_partners(snapshot: NetworkSnapshot) -> list[CriticalPartner]:
    """Partners that are alone in a domain: without them the domain has no partner left.

    A partner works in a domain when the domain is in its `domains` or it has an open offer
    there. Domains nobody covers are coverage gaps, not dependences, and are not listed here.
    Sorted by decreasing open needs of the domain, so the most exposed come first.
    """
    providers: dict[str, set[int]] = defaultdict(set)
    for partner in snapshot.partners:
        for domain in partner.domains:
            providers[domain].add(partner.id)
    for offer in snapshot.places:
        providers[offer.domain].add(offer.partner_id)
    needs: dict[str, int] = defaultdict(int)
    for need in snapshot.needs:
        needs[need.domain] += need.count
    accepted: dict[tuple[str, int], int] = defaultdict(int)
    for aggregate in snapshot.referrals:
        accepted[aggregate.domain, aggregate.partner_id] += aggregate.accepted
    names = {partner.id: partner.name for partner in snapshot.partners}

    result = []
    for domain, ids in providers.items():
        if len(ids) != 1:
            continue
        (partner_id,) = ids
        label = snapshot.domain_label(domain)
        name = names.get(partner_id, f"partenaire n° {partner_id}")
        open_needs = needs.get(domain, 0)
        if open_needs:
            consequence = (
                f"sans lui, {plural(open_needs, 'besoin ouvert', 'besoins ouverts')} "
                f"n'auraient plus de réponse {_in_scope(snapshot)}"
                if open_needs > 1
                else f"sans lui, 1 besoin ouvert n'aurait plus de réponse {_in_scope(snapshot)}"
            )
        else:
            consequence = "sans lui, ce domaine ne serait plus couvert"
        result.append(
            CriticalPartner(
                partner_id=partner_id,
                partner_name=name,
                domain=domain,
                domain_label=label,
                open_needs=open_needs,
                accepted=accepted.get((domain, partner_id), 0),
                explanation=(
                    f"{name} est le seul partenaire {_of_scope(snapshot)} en {label.lower()} : {consequence}."
                ),
            )
        )
    result.sort(key=lambda c: (-c.open_needs, domain_sort_key(c.domain), c.partner_id))
    return result


# ---------------------------------------------------------------------------------------------
# Centrality


def undirected_skeleton(graph: nx.Graph) -> nx.Graph:
    """The graph without directions, attributes or self-loops: the shape centralities look at.

    A referral, an offer, a CP's follow-up and a deployment all connect two actors: for « who
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


# ---------------------------------------------------------------------------------------------
# Under-use


@dataclass(frozen=True, slots=True)
class StructureUsage:
    """How much a structure uses the network compared with its participants' open needs."""

    structure_id: int
    name: str
    participants: int
    open_needs: int
    referrals: int
    referrals_per_need: float
    scope_referrals_per_need: float
    ratio: float | None
    explanation: str


def underused_structures(
    snapshot: NetworkSnapshot, *, threshold: float = 0.5, min_needs: int = 5
) -> list[StructureUsage]:
    """Structures that use the network little compared with their participants' needs.

    Rate = referrals of the period per open need. The scope's rate is the total over structures
    that have open needs. A structure is listed when it has at least `min_needs` open needs and
    its rate is below `threshold` × the scope's rate (or it made no referral at all when nobody
    did). `ratio` is its rate over the scope's (None when the scope's rate is zero). Lowest
    ratios first. This points at where a CP could offer a permanence or a workshop; it is not
    a judgement of the structure's work.
    """
    needs: dict[int, int] = defaultdict(int)
    for need in snapshot.needs:
        needs[need.structure_id] += need.count
    referrals: dict[int, int] = defaultdict(int)
    for aggregate in snapshot.referrals:
        referrals[aggregate.structure_id] += aggregate.count
    with_needs = [s for s in snapshot.structures if needs.get(s.id, 0) > 0]
    total_needs = sum(needs[s.id] for s in with_needs)
    total_referrals = sum(referrals.get(s.id, 0) for s in with_needs)
    scope_rate = total_referrals / total_needs if total_needs else 0.0

    result = []
    for structure in with_needs:
        open_needs = needs[structure.id]
        if open_needs < min_needs:
            continue
        made = referrals.get(structure.id, 0)
        rate = made / open_needs
        ratio: float | None = None
        if scope_rate > 0:
            ratio = rate / scope_rate
            if ratio >= threshold:
                continue
        people = (
            f" ({plural(structure.participants, 'salarié·e accompagné·e', 'salarié·es accompagné·es')})"
            if structure.participants
            else ""
        )
        made_text = "aucune orientation" if made == 0 else plural(made, "orientation")
        sentence = (
            f"{structure.name} : {plural(open_needs, 'besoin ouvert', 'besoins ouverts')}{people} "
            f"et {made_text} sur la période"
        )
        if scope_rate > 0:
            sentence += (
                f", soit {fr_decimal(rate)} orientation par besoin ouvert contre {fr_decimal(scope_rate)} "
                f"en moyenne {_in_scope(snapshot)}."
            )
        else:
            sentence += (
                f" ; aucune structure {_of_scope(snapshot)} n'a orienté vers le réseau sur la période."
            )
        result.append(
            StructureUsage(
                structure_id=structure.id,
                name=structure.name,
                participants=structure.participants,
                open_needs=open_needs,
                referrals=made,
                referrals_per_need=rate,
                scope_referrals_per_need=scope_rate,
                ratio=ratio,
                explanation=sentence,
            )
        )
    result.sort(
        key=lambda u: (u.ratio if u.ratio is not None else 0.0, -u.open_needs, u.name, u.structure_id)
    )
    return result


# ---------------------------------------------------------------------------------------------
# National partnerships × territories


@dataclass(frozen=True, slots=True)
class MatrixCell:
    territory_slug: str
    status: str
    label: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    network_code: str
    network_name: str
    cells: tuple[MatrixCell, ...]
    deployed: int
    in_discussion: int
    absent: int
    explanation: str


@dataclass(frozen=True, slots=True)
class DeploymentMatrix:
    """National partnerships (rows) × territories (columns): deployed, in discussion or absent."""

    territories: tuple[tuple[str, str], ...]
    rows: tuple[MatrixRow, ...]
    explanation: str

    def status(self, network_code: str, territory_slug: str) -> str:
        for row in self.rows:
            if row.network_code == network_code:
                for cell in row.cells:
                    if cell.territory_slug == territory_slug:
                        return cell.status
        raise KeyError((network_code, territory_slug))


def deployment_matrix(national: NationalSnapshot) -> DeploymentMatrix:
    """Where each national partnership stands in each territory (« déploiement »).

    A cell is ``deployed`` when at least one local partner of the network is deployed there,
    else ``in_discussion`` when one is in discussion, else ``absent`` (no row). Territories and
    networks are sorted by name, ignoring case.
    """
    territories = sorted(national.territories, key=lambda t: (t.name.casefold(), t.slug))
    networks = sorted(national.networks, key=lambda n: (n.name.casefold(), n.code))
    status: dict[tuple[str, str], DeploymentStatus] = {}
    for row in national.deployments:
        key = (row.network_code, row.territory_slug)
        if status.get(key) is not DeploymentStatus.DEPLOYED:
            status[key] = row.status
    rows = []
    for network in networks:
        cells = tuple(
            MatrixCell(
                territory_slug=territory.slug,
                status=(s := status.get((network.code, territory.slug), DeploymentStatus.ABSENT)).value,
                label=s.label,
            )
            for territory in territories
        )
        deployed = sum(1 for c in cells if c.status == DeploymentStatus.DEPLOYED.value)
        discussing = sum(1 for c in cells if c.status == DeploymentStatus.IN_DISCUSSION.value)
        absent = len(cells) - deployed - discussing
        parts = [f"déployé dans {plural(deployed, 'territoire')}" if deployed else "déployé nulle part"]
        if discussing:
            parts.append(f"en discussion dans {fr_int(discussing)}")
        parts.append(f"absent de {fr_int(absent)}" if absent else "présent partout")
        rows.append(
            MatrixRow(
                network_code=network.code,
                network_name=network.name,
                cells=cells,
                deployed=deployed,
                in_discussion=discussing,
                absent=absent,
                explanation=f"{network.name} : {', '.join(parts)}.",
            )
        )
    return DeploymentMatrix(
        territories=tuple((t.slug, t.name) for t in territories),
        rows=tuple(rows),
        explanation=(
            "Pour chaque partenariat national, son état dans chaque territoire : « Déployé » quand "
            "un partenaire local est actif, « En discussion » quand la relation est engagée sans "
            "offre encore, « Absent » sinon."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Everything for one page


@dataclass(frozen=True, slots=True)
class Summary:
    structures: int
    partners: int
    cps: int
    national_networks: int
    referrals: int
    accepted: int
    acceptance_rate: float | None
    open_needs: int
    places_left: int
    explanation: str


@dataclass(frozen=True, slots=True)
class NetworkAnalytics:
    """All the analytics of one snapshot, in the order the page shows them."""

    summary: Summary
    coverage_gaps: tuple[CoverageGap, ...]
    dependence: tuple[DomainDependence, ...]
    critical_partners: tuple[CriticalPartner, ...]
    centrality: CentralityReport
    underused_structures: tuple[StructureUsage, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the API's `…/network/analytics`, the precomputed table)."""
        return asdict(self)


def summary(snapshot: NetworkSnapshot, graph: nx.DiGraph | None = None) -> Summary:
    """The headline figures of the scope, with their sentence."""
    referrals = sum(r.count for r in snapshot.referrals)
    accepted = sum(r.accepted for r in snapshot.referrals)
    open_needs = sum(n.count for n in snapshot.needs)
    places = sum(max(p.places_left, 0) for p in snapshot.places)
    networks = (
        sum(1 for _, kind in graph.nodes(data="kind") if kind == NATIONAL_NETWORK)
        if graph is not None
        else len(snapshot.national_networks)
    )
    rate = accepted / referrals if referrals else None
    sentence = (
        f"{plural(len(snapshot.structures), 'structure')}, {plural(len(snapshot.partners), 'partenaire')} "
        f"et {plural(len(snapshot.cps), 'CP', 'CP')} ; "
        f"{plural(referrals, 'orientation transmise', 'orientations transmises')}"
    )
    sentence += f" dont {fr_percent(rate)} acceptées" if rate is not None else ""
    sentence += (
        f" ; {plural(open_needs, 'besoin ouvert', 'besoins ouverts')} pour "
        f"{plural(places, 'place disponible', 'places disponibles')}."
    )
    return Summary(
        structures=len(snapshot.structures),
        partners=len(snapshot.partners),
        cps=len(snapshot.cps),
        national_networks=networks,
        referrals=referrals,
        accepted=accepted,
        acceptance_rate=rate,
        open_needs=open_needs,
        places_left=places,
        explanation=sentence,
    )


def analyse(
    snapshot: NetworkSnapshot,
    graph: nx.DiGraph | None = None,
    *,
    limit: int = 10,
    betweenness_k: int | None = None,
    seed: int = DEFAULT_SEED,
) -> NetworkAnalytics:
    """Every analytic of a snapshot; pass the graph if it is already built (the page draws it too)."""
    graph = graph if graph is not None else build_graph(snapshot)
    return NetworkAnalytics(
        summary=summary(snapshot, graph),
        coverage_gaps=tuple(coverage_gaps(snapshot)),
        dependence=tuple(dependence(snapshot)),
        critical_partners=tuple(critical_partners(snapshot)),
        centrality=centrality(graph, limit=limit, k=betweenness_k, seed=seed),
        underused_structures=tuple(underused_structures(snapshot)),
    )
