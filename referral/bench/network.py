"""`referral bench network`: the ecosystem engine measured on generated data, in one run.

Three measurements, each against its baseline in the same process so that the ratios hold on a
shared, noisy machine, and the page a person waits for:

1. the largest territory (`synthetic_network.LARGEST_TERRITORY`): building the graph, the
   analytics, the SVG and the exports, repeated, minimum, median and maximum — the page's engine
   part, whose maximum is held to `PAGE_TARGET_SECONDS` (the target for the whole page, database
   read included, is p95 ≤ 500 ms); plus betweenness by the sparse Brandes against networkx's
   `betweenness_centrality`, same sources, with a check that both agree;
2. the national graph (`synthetic_network.NATIONAL`, ~100,000 nodes and ~1,000,000 edges at
   scale 1): build and every analytic, timed separately — what the scheduled job precomputes;
3. the partner ↔ structure projection: networkx's (`baselines.project_networkx`) against the
   sparse product, on the national graph (onto structures) and on the territory (onto partners),
   with a check that both give the same weighted edges (target: sparse ≥ 50× faster).

4. the « Écosystème » page of the largest territory once cached, through the application
   (`referral.bench.ecosystem_page`: the demo's accounts in a temporary SQLite file, the
   generated territory shown as Lyon's): p50/p95 against the issue's p95 ≤ 200 ms.

Figures go to a JSON file (stable English keys) and a table is printed (French, for people).
Generated data only (`synthetic_network`), no participant; the page's measurement alone seeds a
small database of its own.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy

from referral.bench import ecosystem_page
from referral.bench.baselines import bipartite_graph, project_networkx
from referral.bench.synthetic_network import LARGEST_TERRITORY, NATIONAL, generate
from referral.network import analytics
from referral.network.analytics import analyse
from referral.network.centrality import betweenness, default_samples, undirected_skeleton
from referral.network.export import to_gexf, to_graphml, to_json
from referral.network.graph import build_graph, parse_node_id
from referral.network.projection import incidence, project_incidence, referral_pairs
from referral.network.snapshot import NetworkSnapshot
from referral.network.svg import render_svg

TERRITORY_REPEATS = 7
PAGE_TARGET_SECONDS = 0.5
PROJECTION_TARGET_RATIO = 50.0
Echo = Callable[[str], Any]


def _clock(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS; the service runs on Linux).
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _size(snapshot: NetworkSnapshot, graph: nx.DiGraph) -> dict[str, Any]:
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "nodes_by_kind": dict(sorted(Counter(kind for _, kind in graph.nodes(data="kind")).items())),
        "edges_by_relation": dict(sorted(Counter(rel for *_, rel in graph.edges(data="relation")).items())),
        "referral_rows": len(snapshot.referrals),
        "need_rows": len(snapshot.needs),
        "open_opportunities": len(snapshot.places),
    }


def _link_for(node: str) -> str | None:
    kind, key = parse_node_id(node)
    return f"/{kind}/{key}"


def _median_max(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
    }


def _weights(graph: nx.Graph) -> dict[frozenset[str], int]:
    return {frozenset((u, v)): int(w) for u, v, w in graph.edges(data="weight")}


def _best(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 4), "median": round(statistics.median(values), 4)}


def _projection(
    structures: np.ndarray, partners: np.ndarray, onto: str, *, sparse_repeats: int, networkx_repeats: int
) -> dict[str, Any]:
    """networkx against sparse on the same pairs, and whether they agree.

    Ratios compare the best of several runs of each, the estimator least sensitive to other
    processes on a shared machine (both sides get the same treatment).
    """
    sparse_incidence, sparse_project = [], []
    result = None
    for _ in range(sparse_repeats):
        seconds, a = _clock(lambda: incidence(structures, partners))
        sparse_incidence.append(seconds)
        # partial binds this iteration's values (as a lambda's default argument would) and keeps
        # their types, which mypy cannot infer for such a lambda.
        seconds, result = _clock(partial(project_incidence, a, onto))
        sparse_project.append(seconds)
    networkx_build, networkx_project = [], []
    baseline = nx.Graph()
    for _ in range(networkx_repeats):
        seconds, bipartite = _clock(lambda: bipartite_graph(structures, partners))
        networkx_build.append(seconds)
        seconds, baseline = _clock(partial(project_networkx, bipartite, onto))
        networkx_project.append(seconds)
        del bipartite
    assert result is not None
    same = baseline.number_of_edges() == result.edge_count and _weights(baseline) == _weights(
        result.to_networkx()
    )
    return {
        "onto": onto,
        "pairs": len(structures),
        "projected_nodes": len(result.ids),
        "projected_edges": result.edge_count,
        "repeats": {"sparse": sparse_repeats, "networkx": networkx_repeats},
        "seconds": {
            "networkx_bipartite_graph": _best(networkx_build),
            "networkx_projection": _best(networkx_project),
            "sparse_incidence": _best(sparse_incidence),
            "sparse_projection": _best(sparse_project),
        },
        "same_result": same,
        # Projection alone (each from its own ready input: a networkx graph, a CSR matrix)…
        "ratio_projection": round(min(networkx_project) / min(sparse_project), 1),
        # …and end to end from the same (structure, partner) pairs.
        "ratio_end_to_end": round(
            (min(networkx_build) + min(networkx_project)) / (min(sparse_incidence) + min(sparse_project)), 1
        ),
    }


def _territory(scale: float, seed: int, echo: Echo) -> dict[str, Any]:
    spec = LARGEST_TERRITORY.scaled(scale)
    generate_seconds, snapshot = _clock(lambda: generate(spec, seed))
    timings: dict[str, list[float]] = {
        name: [] for name in ("build", "analytics", "svg", "page", "json", "gexf", "graphml")
    }
    svg_bytes = 0
    graph = nx.DiGraph()
    for _ in range(TERRITORY_REPEATS):
        build, graph = _clock(lambda: build_graph(snapshot))
        analysis, _ = _clock(partial(analyse, snapshot, graph))
        drawing, svg = _clock(partial(render_svg, graph, link_for=_link_for))
        svg_bytes = len(svg.encode("utf-8"))
        timings["build"].append(build)
        timings["analytics"].append(analysis)
        timings["svg"].append(drawing)
        timings["page"].append(build + analysis + drawing)
        timings["json"].append(_clock(partial(to_json, graph))[0])
        timings["gexf"].append(_clock(partial(to_gexf, graph))[0])
        timings["graphml"].append(_clock(partial(to_graphml, graph))[0])
    echo(f"  territoire : {graph.number_of_nodes()} nœuds, {graph.number_of_edges()} liens")

    # Betweenness: ours against networkx, same sampled sources (or exact on a small graph).
    skeleton = undirected_skeleton(graph)
    n = skeleton.number_of_nodes()
    k = default_samples(n)
    ours_seconds, ours = _clock(lambda: betweenness(skeleton, k=k, seed=seed))
    theirs_seconds, theirs = _clock(lambda: nx.betweenness_centrality(skeleton, k=k, seed=seed))
    agree = all(abs(ours[node] - theirs[node]) <= 1e-9 for node in skeleton)

    page = _median_max(timings["page"])
    return {
        "spec": {
            "structures": spec.structures,
            "partners": spec.partners,
            "partners_per_structure": spec.partners_per_structure,
        },
        "size": _size(snapshot, graph),
        "repeats": TERRITORY_REPEATS,
        "seconds": {
            "generate": round(generate_seconds, 3),
            **{name: _median_max(values) for name, values in timings.items()},
        },
        "svg_bytes": svg_bytes,
        "betweenness": {
            "sources": k if k is not None else n,
            "sparse_seconds": round(ours_seconds, 4),
            "networkx_seconds": round(theirs_seconds, 4),
            "ratio": round(theirs_seconds / ours_seconds, 1),
            "same_result": agree,
        },
        "page_target_seconds": PAGE_TARGET_SECONDS,
        "page_engine_within_target": page["max"] <= PAGE_TARGET_SECONDS,
        "snapshot": snapshot,  # reused for the partner projection, removed before writing
    }


def _national(scale: float, seed: int, echo: Echo) -> dict[str, Any]:
    spec = NATIONAL.scaled(scale)
    echo("  génération du graphe national…")
    generate_seconds, snapshot = _clock(lambda: generate(spec, seed + 1))
    echo("  construction…")
    build_seconds, graph = _clock(lambda: build_graph(snapshot))
    size = _size(snapshot, graph)
    echo(f"  national : {size['nodes']} nœuds, {size['edges']} liens ; analyses…")
    parts: dict[str, float] = {}
    parts["summary"], _ = _clock(lambda: analytics.summary(snapshot, graph))
    parts["coverage_gaps"], _ = _clock(lambda: analytics.coverage_gaps(snapshot))
    parts["dependence"], _ = _clock(lambda: analytics.dependence(snapshot))
    parts["critical_partners"], _ = _clock(lambda: analytics.critical_partners(snapshot))
    parts["underused_structures"], _ = _clock(lambda: analytics.underused_structures(snapshot))
    parts["centrality"], report = _clock(lambda: analytics.centrality(graph, seed=seed))
    structures, partners = referral_pairs(snapshot)
    return {
        "spec": {
            "territories": spec.territories,
            "structures": spec.structures,
            "partners": spec.partners,
            "partners_per_structure": spec.partners_per_structure,
        },
        "size": size,
        "seconds": {
            "generate": round(generate_seconds, 3),
            "build": round(build_seconds, 3),
            "analytics": {name: round(value, 3) for name, value in parts.items()},
            "analytics_total": round(sum(parts.values()), 3),
            "build_and_analytics": round(build_seconds + sum(parts.values()), 3),
        },
        "betweenness_sources": report.sampled_sources,
        "pairs": (structures, partners),  # reused for the projection, removed before writing
    }


def _row(label: str, value: str, extra: str = "") -> str:
    return f"{label:<58}{value:>14}  {extra}"


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s".replace(".", ",")


def _span(figures: dict[str, float]) -> str:
    return f"{_s(figures['min'])} – {_s(figures['max'])}"


def run(output: Path, *, scale: float = 1.0, seed: int = 20261123, echo: Echo = print) -> dict:
    """Run the three measurements at `scale` (1.0 = national size) and write the JSON to `output`."""
    started = time.perf_counter()
    echo(f"Banc d'essai du réseau (échelle {scale:g}, graine {seed})")
    echo("1/3 Territoire le plus grand…")
    territory = _territory(scale, seed, echo)
    echo("    page « Écosystème » du territoire, une fois gardée en cache…")
    territory["cached_page"] = ecosystem_page.measure(territory["snapshot"])
    echo("2/3 Graphe national…")
    national = _national(scale, seed, echo)
    gc.collect()  # the national graph is gone; give its memory back before the projection
    echo("3/3 Projection partenaires ↔ structures…")
    structures, partners = national.pop("pairs")
    national_projection = _projection(structures, partners, "structure", sparse_repeats=7, networkx_repeats=3)
    territory_pairs = referral_pairs(territory.pop("snapshot"))
    territory_projection = _projection(
        territory_pairs[0], territory_pairs[1], "partner", sparse_repeats=7, networkx_repeats=3
    )
    national["peak_rss_mb"] = _peak_rss_mb()

    results: dict[str, Any] = {
        "benchmark": "network",
        "scale": scale,
        "seed": seed,
        "environment": {
            "python": platform.python_version(),
            "networkx": nx.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "territory": territory,
        "national": national,
        "projection": {
            "national_onto_structures": national_projection,
            "territory_onto_partners": territory_projection,
            "target_ratio": PROJECTION_TARGET_RATIO,
            "within_target": national_projection["ratio_projection"] >= PROJECTION_TARGET_RATIO,
        },
        "peak_rss_mb": _peak_rss_mb(),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    ts = territory["seconds"]
    ns = national["seconds"]
    echo("")
    echo(_row("Mesure (projections : meilleur de plusieurs essais)", "médiane", "min – max"))
    echo(
        _row(
            f"Territoire ({territory['size']['nodes']} nœuds, {territory['size']['edges']} liens) : graphe",
            _s(ts["build"]["median"]),
            _span(ts["build"]),
        )
    )
    echo(_row("  analyses", _s(ts["analytics"]["median"]), _span(ts["analytics"])))
    echo(_row("  SVG", _s(ts["svg"]["median"]), _span(ts["svg"])))
    echo(_row("  page (graphe + analyses + SVG)", _s(ts["page"]["median"]), _span(ts["page"])))
    echo(_row("  GEXF / GraphML", _s(ts["gexf"]["median"]), _s(ts["graphml"]["median"])))
    cached = territory["cached_page"]
    echo(
        _row(
            "  page entière une fois en cache (p50, application)",
            _s(cached["p50_ms"] / 1000),
            f"p95 {_s(cached['p95_ms'] / 1000)} (objectif {_s(cached['target_p95_ms'] / 1000)}), "
            f"première {_s(cached['first_ms'] / 1000)}",
        )
    )
    b = territory["betweenness"]
    echo(
        _row(
            f"  intermédiarité ({b['sources']} sources) creuse / networkx",
            _s(b["sparse_seconds"]),
            f"{_s(b['networkx_seconds'])}  ×{b['ratio']}",
        )
    )
    echo(
        _row(
            f"National ({national['size']['nodes']} nœuds, {national['size']['edges']} liens) : graphe",
            _s(ns["build"]),
        )
    )
    for name, value in ns["analytics"].items():
        echo(_row(f"  {name}", _s(value)))
    echo(_row("  graphe + analyses", _s(ns["build_and_analytics"])))
    for label, figures in (
        ("Projection nationale sur les structures", national_projection),
        ("Projection du territoire sur les partenaires", territory_projection),
    ):
        fs = figures["seconds"]
        echo(_row(f"{label} : networkx", _s(fs["networkx_projection"]["best"])))
        echo(
            _row(
                "  matrice creuse",
                _s(fs["sparse_projection"]["best"]),
                f"×{figures['ratio_projection']} (de bout en bout ×{figures['ratio_end_to_end']}), "
                f"résultat identique : {'oui' if figures['same_result'] else 'NON'}",
            )
        )
    echo(_row("Mémoire maximale du processus", f"{results['peak_rss_mb']:.0f} Mo"))
    echo(_row("Durée totale", _s(results["total_seconds"])))
    return results
