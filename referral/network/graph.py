"""The territory's ecosystem as a networkx graph (« graphe de l'écosystème »).

One directed graph per snapshot. Nodes carry a `kind`:

- ``structure`` — a worksite; ``partner`` — a partner; ``cp`` — a partnership officer;
  ``domain`` — an accompaniment domain; ``national_network`` — a national partnership.

Edges carry a `relation`:

- ``referral`` structure → partner: referrals of the period, aggregated over domains
  (`count`, `accepted`, `answered`, `acceptance_rate`, `answer_rate`, `median_answer_days`,
  `weight` = count as a float (GEXF stores weights as floats), main `domain` and all `domains`);
- ``offers`` partner → domain: the partner works in that domain (`places_left` on open opportunities);
- ``follows`` cp → partner: the CP is the partner's referent in the team;
- ``deployment`` national_network → partner: the local deployment, with its `status`.

Conventions are partner attributes (`convention_signed_on`, `convention_ends_on`, ISO dates).

Why these choices: node ids are strings (``partner:12``, ``domain:logement``) because GEXF and
GraphML store ids as strings, so an exported file reads back with the same ids. Attributes are
plain scalars and a missing value is an absent key, never None, because the GEXF and GraphML
writers accept no None; dates are ISO strings for the same reason. Every edge has a stable `id`
so that GEXF (which needs edge ids) writes ours instead of inventing positional ones, and a
file read back equals the graph. Nodes and edges are added in a sorted order, so that two builds
of the same snapshot are the same graph, iteration order included (the layout depends on it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import networkx as nx

from referral.network.snapshot import DeploymentStatus, NetworkSnapshot, PartnerInfo, ReferralAggregate

STRUCTURE = "structure"
PARTNER = "partner"
CP = "cp"
DOMAIN = "domain"
NATIONAL_NETWORK = "national_network"
NODE_KINDS: tuple[str, ...] = (STRUCTURE, PARTNER, CP, DOMAIN, NATIONAL_NETWORK)

# French labels of node kinds, for the legend and the explanations.
KIND_LABELS: dict[str, str] = {
    STRUCTURE: "Structure (chantier)",
    PARTNER: "Partenaire",
    CP: "Chargé·e de partenariats",
    DOMAIN: "Domaine",
    NATIONAL_NETWORK: "Partenariat national",
}

REFERRAL = "referral"
OFFERS = "offers"
FOLLOWS = "follows"
DEPLOYMENT = "deployment"

RELATION_LABELS: dict[str, str] = {
    REFERRAL: "Orientations",
    OFFERS: "Intervient dans le domaine",
    FOLLOWS: "Suivi par le ou la CP",
    DEPLOYMENT: "Déploiement local",
}

# The design's domain order (DESIGN §3): sectors of the picture and lists follow it.
DOMAIN_ORDER: tuple[str, ...] = (
    "emploi",
    "formation",
    "logement",
    "hebergement",
    "sante",
    "sante_mentale",
    "acces_droits",
    "mobilite",
    "langue",
    "numerique",
    "budget",
    "justice",
    "famille",
)

_PREFIX = {
    STRUCTURE: "structure",
    PARTNER: "partner",
    CP: "cp",
    DOMAIN: "domain",
    NATIONAL_NETWORK: "network",
}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in _PREFIX.items()}


def node_id(kind: str, key: int | str) -> str:
    """The graph id of a database object: ``node_id("partner", 12) == "partner:12"``."""
    return f"{_PREFIX[kind]}:{key}"


def parse_node_id(node: str) -> tuple[str, int | str]:
    """The (kind, key) behind a node id; keys of structures, partners and CPs are ints.

    Used by the caller's `link_for` to build the URL of a node's page.
    """
    prefix, _, key = node.partition(":")
    kind = _KIND_OF_PREFIX[prefix]
    if kind in (STRUCTURE, PARTNER, CP):
        return kind, int(key)
    return kind, key


_DOMAIN_RANK = {code: rank for rank, code in enumerate(DOMAIN_ORDER)}


def domain_sort_key(code: str) -> tuple[int, str]:
    """Design order first, unknown domains after, alphabetically."""
    return (_DOMAIN_RANK.get(code, len(DOMAIN_ORDER)), code)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _put(attrs: dict[str, Any], **values: Any) -> dict[str, Any]:
    """Add the values that are not None: exported formats have no None."""
    for key, value in values.items():
        if value is not None:
            attrs[key] = value
    return attrs


def weighted_median(values: Iterable[tuple[float, int]]) -> float | None:
    """The median of values given with their weights (lower median on an exact tie).

    Used to merge per-domain median answer times into one per structure→partner edge: weighting
    each domain's median by its number of answers is exact when one domain dominates and a close,
    documented approximation otherwise (the true median needs every answer time, which the
    snapshot does not carry).
    """
    pairs = sorted((value, weight) for value, weight in values if weight > 0)
    total = sum(weight for _, weight in pairs)
    if total == 0:
        return None
    running = 0
    for value, weight in pairs:
        running += weight
        if 2 * running >= total:
            return float(value)
    return float(pairs[-1][0])  # pragma: no cover - unreachable, the loop always returns


def primary_domains(snapshot: NetworkSnapshot) -> dict[int, str]:
    """Each partner's main domain: where it received most referrals, else its first domain.

    The picture colours a partner by it and groups partners by it.
    """
    referred: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for aggregate in snapshot.referrals:
        referred[aggregate.partner_id][aggregate.domain] += aggregate.count
    result: dict[int, str] = {}
    for partner in snapshot.partners:
        counts = referred.get(partner.id)
        if counts:
            result[partner.id] = min(counts, key=lambda code: (-counts[code], domain_sort_key(code)))
        elif partner.domains:
            result[partner.id] = min(partner.domains, key=domain_sort_key)
    return result


def _partner_attrs(partner: PartnerInfo, primary: str | None, places_left: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "kind": PARTNER,
        "label": partner.name,
        "name": partner.name,
        "ref_id": partner.id,
        "partner_kind": partner.kind,
        "domains": ";".join(sorted(set(partner.domains), key=domain_sort_key)),
        "places_left": places_left,
    }
    return _put(
        attrs,
        primary_domain=primary,
        national_network=partner.national_network,
        town=partner.town,
        convention_signed_on=_iso(partner.convention_signed_on),
        convention_ends_on=_iso(partner.convention_ends_on),
    )


def _referral_edge(structure: str, partner: str, aggregates: list[ReferralAggregate]) -> dict[str, Any]:
    if len(aggregates) == 1:
        # The common case (one domain between a structure and a partner), written out because
        # the national graph has hundreds of thousands of these edges.
        (one,) = aggregates
        attrs: dict[str, Any] = {
            "id": f"{REFERRAL}:{structure}->{partner}",
            "relation": REFERRAL,
            "weight": float(one.count),
            "count": one.count,
            "accepted": one.accepted,
            "answered": one.answered,
            "acceptance_rate": one.accepted / one.count,
            "answer_rate": one.answered / one.count,
            "domain": one.domain,
            "domains": one.domain,
        }
        if one.median_answer_days is not None and one.answered > 0:
            attrs["median_answer_days"] = float(one.median_answer_days)
        return attrs
    count = sum(a.count for a in aggregates)
    accepted = sum(a.accepted for a in aggregates)
    answered = sum(a.answered for a in aggregates)
    by_domain: dict[str, int] = defaultdict(int)
    for aggregate in aggregates:
        by_domain[aggregate.domain] += aggregate.count
    domains = sorted(by_domain, key=domain_sort_key)
    attrs = {
        "id": f"{REFERRAL}:{structure}->{partner}",
        "relation": REFERRAL,
        "weight": float(count),
        "count": count,
        "accepted": accepted,
        "answered": answered,
        "acceptance_rate": accepted / count if count else 0.0,
        "answer_rate": answered / count if count else 0.0,
        "domain": min(domains, key=lambda code: (-by_domain[code], domain_sort_key(code))),
        "domains": ";".join(domains),
    }
    return _put(
        attrs,
        median_answer_days=weighted_median(
            (a.median_answer_days, a.answered) for a in aggregates if a.median_answer_days is not None
        ),
    )


def build_graph(snapshot: NetworkSnapshot) -> nx.DiGraph:
    """The ecosystem graph of a snapshot; see the module docstring for nodes, edges, attributes.

    Referral rows naming a structure or partner missing from the snapshot are ignored rather than
    creating nameless nodes: the loader's scope decides who is in the picture.
    """
    graph = nx.DiGraph()
    graph.graph.update(
        _put(
            {
                "name": f"Écosystème — {snapshot.territory_name}",
                "scope": snapshot.territory_slug or "national",
            },
            period_start=_iso(snapshot.period_start),
            period_end=_iso(snapshot.period_end),
            domain_filter=";".join(snapshot.domain_filter) or None,
        )
    )

    needs_by_structure: dict[int, int] = defaultdict(int)
    needs_by_domain: dict[str, int] = defaultdict(int)
    for needs in snapshot.needs:
        needs_by_structure[needs.structure_id] += needs.count
        needs_by_domain[needs.domain] += needs.count
    places_by_partner: dict[int, int] = defaultdict(int)
    places_by_domain: dict[str, int] = defaultdict(int)
    places_by_partner_domain: dict[tuple[int, str], int] = defaultdict(int)
    for opportunity in snapshot.places:
        places_by_partner[opportunity.partner_id] += opportunity.places_left
        places_by_domain[opportunity.domain] += opportunity.places_left
        places_by_partner_domain[opportunity.partner_id, opportunity.domain] += opportunity.places_left

    # Domains: declared ones, plus any code used by a partner, a need, an opportunity or a referral.
    labels = {domain.code: domain.label for domain in snapshot.domains}
    codes = set(labels)
    codes.update(code for partner in snapshot.partners for code in partner.domains)
    codes.update(needs.domain for needs in snapshot.needs)
    codes.update(opportunity.domain for opportunity in snapshot.places)
    codes.update(aggregate.domain for aggregate in snapshot.referrals)
    for code in sorted(codes, key=domain_sort_key):
        graph.add_node(
            node_id(DOMAIN, code),
            kind=DOMAIN,
            label=labels.get(code, code),
            name=labels.get(code, code),
            code=code,
            open_needs=needs_by_domain.get(code, 0),
            places_left=places_by_domain.get(code, 0),
        )

    for structure in sorted(snapshot.structures, key=lambda s: s.id):
        graph.add_node(
            node_id(STRUCTURE, structure.id),
            **_put(
                {
                    "kind": STRUCTURE,
                    "label": structure.name,
                    "name": structure.name,
                    "ref_id": structure.id,
                    "participants": structure.participants,
                    "open_needs": needs_by_structure.get(structure.id, 0),
                },
                town=structure.town,
            ),
        )

    primary = primary_domains(snapshot)
    partners = sorted(snapshot.partners, key=lambda p: p.id)
    for partner in partners:
        graph.add_node(
            node_id(PARTNER, partner.id),
            **_partner_attrs(partner, primary.get(partner.id), places_by_partner.get(partner.id, 0)),
        )

    for cp in sorted(snapshot.cps, key=lambda c: c.id):
        graph.add_node(
            node_id(CP, cp.id),
            kind=CP,
            label=cp.name,
            name=cp.name,
            ref_id=cp.id,
            domains=";".join(sorted(set(cp.domains), key=domain_sort_key)),
        )

    network_names = {network.code: network for network in snapshot.national_networks}
    network_codes = set(network_names)
    network_codes.update(p.national_network for p in snapshot.partners if p.national_network)
    scoped_deployments = [
        d
        for d in snapshot.deployments
        if snapshot.territory_slug is None or d.territory_slug == snapshot.territory_slug
    ]
    network_codes.update(d.network_code for d in scoped_deployments)
    for code in sorted(network_codes):
        network = network_names.get(code)
        graph.add_node(
            node_id(NATIONAL_NETWORK, code),
            **_put(
                {
                    "kind": NATIONAL_NETWORK,
                    "label": network.name if network else code,
                    "name": network.name if network else code,
                    "code": code,
                },
                network_kind=(network.kind or None) if network else None,
            ),
        )

    # Referral edges, structure → partner, aggregated over domains.
    grouped: dict[tuple[int, int], list[ReferralAggregate]] = {}
    for aggregate in snapshot.referrals:
        if aggregate.count > 0:
            key = (aggregate.structure_id, aggregate.partner_id)
            group = grouped.get(key)
            if group is None:
                grouped[key] = [aggregate]
            else:
                group.append(aggregate)
    structure_nodes = {s.id: node_id(STRUCTURE, s.id) for s in snapshot.structures}
    partner_nodes = {p.id: node_id(PARTNER, p.id) for p in snapshot.partners}
    referral_edges = []
    for structure_id, partner_id in sorted(grouped):
        source, target = structure_nodes.get(structure_id), partner_nodes.get(partner_id)
        if source is not None and target is not None:
            attrs = _referral_edge(source, target, grouped[structure_id, partner_id])
            referral_edges.append((source, target, attrs))
    graph.add_edges_from(referral_edges)

    for partner in partners:
        source = node_id(PARTNER, partner.id)
        for code in sorted(set(partner.domains), key=domain_sort_key):
            target = node_id(DOMAIN, code)
            graph.add_edge(
                source,
                target,
                id=f"{OFFERS}:{source}->{target}",
                relation=OFFERS,
                weight=1.0,
                places_left=places_by_partner_domain.get((partner.id, code), 0),
            )

    for link in sorted({(link.cp_id, link.partner_id) for link in snapshot.cp_links}):
        source, target = node_id(CP, link[0]), node_id(PARTNER, link[1])
        if source in graph and target in graph:
            graph.add_edge(source, target, id=f"{FOLLOWS}:{source}->{target}", relation=FOLLOWS, weight=1.0)

    best: dict[tuple[str, int], DeploymentStatus] = {}
    for deployment in scoped_deployments:
        network_partner = (deployment.network_code, deployment.partner_id)
        if best.get(network_partner) is not DeploymentStatus.DEPLOYED:
            best[network_partner] = deployment.status
    for code, partner_id in sorted(best):
        source, target = node_id(NATIONAL_NETWORK, code), node_id(PARTNER, partner_id)
        if target in graph:
            graph.add_edge(
                source,
                target,
                id=f"{DEPLOYMENT}:{source}->{target}",
                relation=DEPLOYMENT,
                weight=1.0,
                status=best[code, partner_id].value,
            )
    return graph


def nodes_of_kind(graph: nx.DiGraph, kind: str) -> list[str]:
    """The nodes of one kind, in graph order."""
    return [node for node, data in graph.nodes(data=True) if data.get("kind") == kind]
