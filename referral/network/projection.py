"""The partner ↔ structure projection (« projection »): who shares whom.

Definition. Let B be the bipartite graph whose two sides are the structures and the partners,
with an edge s — p when structure s sent at least one referral to partner p over the period
(any domain; the number of referrals does not matter). Its projection onto the structures is the
graph on structures where s and t are linked when they referred to at least one common partner,
with ``weight`` = the number of partners they have in common, |N(s) ∩ N(t)|. The projection onto
the partners is symmetric: p and q are linked when at least one structure referred to both, with
``weight`` = the number of structures they have in common. No node is linked to itself.

That is exactly networkx's `bipartite.weighted_projected_graph(B, side)` (the baseline, in
`referral/bench/baselines.py` for the benchmark and the tests), and, with A the 0/1 structure ×
partner incidence matrix, the off-diagonal part of A·Aᵀ (onto structures) or Aᵀ·A (onto
partners): one sparse matrix product instead of a Python loop over neighbours of neighbours. Same
result (tested), and the sparse one is what the service uses (`referral bench network` gives the
ratio at national scale).

Why it is useful: two structures sharing many partners are natural peers for a mutualisation
meeting; two partners sharing many structures are an informal chain (a landlord and the support
service that comes with it).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from referral.network.graph import PARTNER, STRUCTURE, node_id
from referral.network.snapshot import NetworkSnapshot

SIDES = (STRUCTURE, PARTNER)


def referral_pairs(snapshot: NetworkSnapshot) -> tuple[np.ndarray, np.ndarray]:
    """The (structure id, partner id) pairs with at least one referral, as two int64 arrays."""
    pairs = {(row.structure_id, row.partner_id) for row in snapshot.referrals if row.count > 0}
    ordered = sorted(pairs)
    structures = np.fromiter((s for s, _ in ordered), dtype=np.int64, count=len(ordered))
    partners = np.fromiter((p for _, p in ordered), dtype=np.int64, count=len(ordered))
    return structures, partners


@dataclass(frozen=True)
class SparseProjection:
    """The projection as a sparse matrix: `weights[i, j]` (i < j) links `ids[i]` and `ids[j]`.

    Only the upper triangle is kept (the projection is symmetric, the diagonal meaningless), in
    CSR form with sorted indices.
    """

    side: str
    ids: np.ndarray
    weights: sp.csr_matrix

    @property
    def edge_count(self) -> int:
        return int(self.weights.nnz)

    def edges(self) -> list[tuple[int, int, int]]:
        """(id, id, weight) triples, in row-major order."""
        coo = self.weights.tocoo()
        return [
            (int(self.ids[i]), int(self.ids[j]), int(w))
            for i, j, w in zip(coo.row, coo.col, coo.data, strict=True)
        ]

    def to_networkx(self) -> nx.Graph:
        """The same projection as a networkx graph with ``kind:id`` nodes (for comparisons)."""
        graph = nx.Graph()
        graph.add_nodes_from(node_id(self.side, int(i)) for i in self.ids)
        graph.add_weighted_edges_from(
            (node_id(self.side, a), node_id(self.side, b), w) for a, b, w in self.edges()
        )
        return graph


@dataclass(frozen=True)
class Incidence:
    """A: the 0/1 structure × partner matrix of B, rows `structure_ids`, columns `partner_ids`.

    Aᵀ is kept in CSR form too, so that either product is one CSR × CSR multiplication.
    """

    structure_ids: np.ndarray
    partner_ids: np.ndarray
    matrix: sp.csr_matrix
    transposed: sp.csr_matrix


def incidence(structures: np.ndarray, partners: np.ndarray) -> Incidence:
    """A from B's edges: `structures[i]`, `partners[i]` is one edge; duplicate pairs count once."""
    structure_ids, rows = np.unique(np.asarray(structures, dtype=np.int64), return_inverse=True)
    partner_ids, cols = np.unique(np.asarray(partners, dtype=np.int64), return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(len(structure_ids), len(partner_ids))
    )
    matrix.data[:] = 1  # duplicate pairs were summed by the constructor
    return Incidence(structure_ids, partner_ids, matrix, matrix.T.tocsr())


def project_incidence(a: Incidence, onto: str = STRUCTURE) -> SparseProjection:
    """The projection as the off-diagonal upper triangle of A·Aᵀ (structures) or Aᵀ·A (partners).

    Products are in int64 so that weights never overflow whatever the scale.
    """
    if onto not in SIDES:
        raise ValueError(f"onto must be one of {SIDES}, not {onto!r}")
    if onto == STRUCTURE:
        product, ids = a.matrix @ a.transposed, a.structure_ids
    else:
        product, ids = a.transposed @ a.matrix, a.partner_ids
    upper = sp.triu(product, k=1, format="csr")
    upper.eliminate_zeros()
    upper.sort_indices()
    return SparseProjection(side=onto, ids=ids, weights=upper)


def project_sparse(structures: np.ndarray, partners: np.ndarray, onto: str = STRUCTURE) -> SparseProjection:
    """The projection of B onto one side, from B's edges (see `incidence`, `project_incidence`)."""
    if onto not in SIDES:
        raise ValueError(f"onto must be one of {SIDES}, not {onto!r}")
    return project_incidence(incidence(structures, partners), onto)
