"""The partner ↔ structure projection: networkx's and the sparse one agree."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.bench.baselines import bipartite_graph, project_networkx
from referral.network.projection import project_sparse, referral_pairs
from referral.network.snapshot import NetworkSnapshot


def as_weights(graph: nx.Graph) -> dict[frozenset[str], int]:
    return {frozenset((u, v)): int(w) for u, v, w in graph.edges(data="weight")}


def test_small_known_projection(territory: NetworkSnapshot) -> None:
    structures, partners = referral_pairs(territory)
    sparse = project_sparse(structures, partners, "structure")
    # Structures 1 and 2 share Bailleur Rhône and Maison de santé Gerland; 3 shares nobody.
    assert sparse.edges() == [(1, 2, 2)]
    onto_partners = project_sparse(structures, partners, "partner")
    weights = {(a, b): w for a, b, w in onto_partners.edges()}
    assert weights[10, 20] == 2  # both used by structures 1 and 2
    assert weights[10, 11] == 1
    assert not any(40 in pair for pair in weights)


@pytest.mark.parametrize("onto", ["structure", "partner"])
def test_networkx_and_sparse_agree_on_the_territory(territory: NetworkSnapshot, onto: str) -> None:
    structures, partners = referral_pairs(territory)
    baseline = project_networkx(bipartite_graph(structures, partners), onto)
    sparse = project_sparse(structures, partners, onto).to_networkx()
    assert set(baseline.nodes) == set(sparse.nodes)
    assert as_weights(baseline) == as_weights(sparse)


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(min_value=1, max_value=12), st.integers(min_value=100, max_value=130)),
        min_size=1,
        max_size=80,
    ),
    onto=st.sampled_from(["structure", "partner"]),
)
def test_networkx_and_sparse_agree_on_random_bipartite_graphs(
    pairs: list[tuple[int, int]], onto: str
) -> None:
    structures = np.array([s for s, _ in pairs])
    partners = np.array([p for _, p in pairs])  # duplicates included: they count once
    baseline = project_networkx(bipartite_graph(structures, partners), onto)
    sparse = project_sparse(structures, partners, onto)
    assert as_weights(baseline) == as_weights(sparse.to_networkx())
    assert sparse.edge_count == baseline.number_of_edges()


def test_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="onto"):
        project_sparse(np.array([1]), np.array([2]), "domain")
    with pytest.raises(ValueError, match="onto"):
        project_networkx(nx.Graph(), "cp")
