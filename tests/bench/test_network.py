"""Smoke test of `referral bench network` at a tiny scale: it runs and writes its figures.

No timing is asserted (timings belong to the benchmark, not to tests); the results must agree:
sizes are those of the generated snapshots, the baselines give the engine's results, and every
ratio is the quotient of the timings written beside it (to their rounding).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from referral.bench.network import PAGE_TARGET_SECONDS, PROJECTION_TARGET_RATIO, run
from referral.bench.synthetic_network import LARGEST_TERRITORY, NATIONAL, generate
from referral.network.projection import project_sparse, referral_pairs
from referral.network.snapshot import NetworkSnapshot

SCALE, SEED = 0.001, 7


def test_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    output = tmp_path / "network.json"
    lines: list[str] = []

    results = run(output, scale=SCALE, seed=SEED, echo=lines.append)

    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(results))
    assert set(written) == {
        "benchmark",
        "scale",
        "seed",
        "environment",
        "territory",
        "national",
        "projection",
        "peak_rss_mb",
        "total_seconds",
    }
    assert set(written["territory"]["seconds"]) == {
        "generate",
        "build",
        "analytics",
        "svg",
        "page",
        "json",
        "gexf",
        "graphml",
    }
    assert written["territory"]["betweenness"]["same_result"] is True
    # The page once cached, through the application, for the generated territory shown as Lyon's.
    cached = written["territory"]["cached_page"]
    assert cached["nodes"] == written["territory"]["size"]["nodes"]
    assert cached["repeats"] == 30
    assert 0 < cached["p50_ms"] <= cached["p95_ms"] <= cached["max_ms"]
    assert cached["target_p95_ms"] == 200.0
    assert cached["html_bytes"] > 0
    assert set(written["national"]["seconds"]) >= {
        "build",
        "analytics",
        "analytics_total",
        "build_and_analytics",
    }
    projection = written["projection"]
    for key in ("national_onto_structures", "territory_onto_partners"):
        assert projection[key]["same_result"] is True
        assert set(projection[key]) >= {"ratio_projection", "ratio_end_to_end", "seconds", "projected_edges"}
    assert any("Projection" in line for line in lines)


def ratio_bounds(numerators: list[float], denominators: list[float], digits: int = 4) -> tuple[float, float]:
    """The range of numerator / denominator given sums of timings each rounded to `digits`, widened
    by the rounding of the ratio itself to one decimal."""
    half = 0.5 * 10**-digits
    top, bottom = sum(numerators), sum(denominators)
    slack = half * len(numerators), half * len(denominators)
    low = max(0.0, top - slack[0]) / (bottom + slack[1])
    high = (top + slack[0]) / (bottom - slack[1]) if bottom > slack[1] else math.inf
    return low - 0.05, high + 0.05


def assert_sizes(size: dict, snapshot: NetworkSnapshot) -> None:
    assert size["referral_rows"] == len(snapshot.referrals)
    assert size["need_rows"] == len(snapshot.needs)
    assert size["open_opportunities"] == len(snapshot.places)
    kinds = size["nodes_by_kind"]
    assert kinds["structure"] == len(snapshot.structures)
    assert kinds["partner"] == len(snapshot.partners)
    assert kinds["cp"] == len(snapshot.cps)
    assert kinds["domain"] == len(snapshot.domains)
    assert size["nodes"] == sum(kinds.values())
    assert size["edges"] == sum(size["edges_by_relation"].values())


def test_the_figures_are_those_of_the_generated_data_and_agree_with_each_other(tmp_path: Path) -> None:
    written = run(tmp_path / "network.json", scale=SCALE, seed=SEED, echo=lambda _: None)
    territory_spec, national_spec = LARGEST_TERRITORY.scaled(SCALE), NATIONAL.scaled(SCALE)
    territory, national = generate(territory_spec, SEED), generate(national_spec, SEED + 1)

    assert written["territory"]["spec"]["structures"] == territory_spec.structures
    assert written["national"]["spec"]["partners"] == national_spec.partners
    assert_sizes(written["territory"]["size"], territory)
    assert_sizes(written["national"]["size"], national)
    assert written["territory"]["size"]["open_opportunities"] == territory_spec.opportunities

    seconds = written["territory"]["seconds"]
    for name in ("build", "analytics", "svg", "page"):
        assert seconds[name]["min"] <= seconds[name]["median"] <= seconds[name]["max"]
    assert written["territory"]["page_engine_within_target"] is (
        seconds["page"]["max"] <= PAGE_TARGET_SECONDS
    )
    betweenness = written["territory"]["betweenness"]
    low, high = ratio_bounds([betweenness["networkx_seconds"]], [betweenness["sparse_seconds"]])
    assert low <= betweenness["ratio"] <= high

    projection = written["projection"]
    for key, snapshot, onto in (
        ("national_onto_structures", national, "structure"),
        ("territory_onto_partners", territory, "partner"),
    ):
        figures = projection[key]
        structures, partners = referral_pairs(snapshot)
        assert figures["pairs"] == len(structures)
        expected = project_sparse(structures, partners, onto)
        assert (figures["projected_nodes"], figures["projected_edges"]) == (
            len(expected.ids),
            expected.edge_count,
        )
        best = {name: value["best"] for name, value in figures["seconds"].items()}
        low, high = ratio_bounds([best["networkx_projection"]], [best["sparse_projection"]])
        assert low <= figures["ratio_projection"] <= high
        low, high = ratio_bounds(
            [best["networkx_bipartite_graph"], best["networkx_projection"]],
            [best["sparse_incidence"], best["sparse_projection"]],
        )
        assert low <= figures["ratio_end_to_end"] <= high
    assert projection["target_ratio"] == PROJECTION_TARGET_RATIO
    assert projection["within_target"] is (
        projection["national_onto_structures"]["ratio_projection"] >= PROJECTION_TARGET_RATIO
    )


def test_generation_is_deterministic_and_sized() -> None:
    spec = NATIONAL.scaled(0.002)
    assert generate(spec, 3) == generate(spec, 3)
    assert generate(spec, 3) != generate(spec, 4)
    territory = generate(LARGEST_TERRITORY.scaled(0.05), 1)
    assert territory.territory_slug == "territoire-001"
    assert len(territory.structures) == LARGEST_TERRITORY.scaled(0.05).structures
