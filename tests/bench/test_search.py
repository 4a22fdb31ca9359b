"""`referral bench search` runs end to end at a tiny scale; its generated names and queries are
deterministic; what it writes holds together (the queries are those generated, the ratios are
the quotients of the figures written beside them, the targets are met when their figures say so).
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

from referral.bench.search import PERTURBATIONS, TARGETS, generate_partners, generate_queries, run
from referral.search import fold


def test_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    output = tmp_path / "search.json"
    lines: list[str] = []

    results = run(output, scale=0.002, seed=7, echo=lines.append)

    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(results))
    assert set(written) >= {
        "benchmark",
        "scale",
        "seed",
        "names",
        "territories",
        "queries",
        "build",
        "ours_national",
        "ours_territory",
        "ours_no_stop_words",
        "ours_more_stop_words",
        "baseline_wratio",
        "baseline_wratio_folded",
        "ratios",
        "recall_by_perturbation",
        "targets",
        "targets_met",
        "environment",
    }
    assert written["names"] == 100
    for key in ("p50_ms", "p95_ms", "queries_per_second", "recall_at_10", "recall_at_1", "mrr_at_10"):
        assert key in written["ours_national"]
        assert key in written["baseline_wratio"]
    assert set(written["ratios"]) >= {"throughput_vs_baseline", "recall_minus_baseline"}
    assert 0 <= written["ours_national"]["recall_at_10"] <= 1
    assert any("rappel@10" in line for line in lines)


def test_bench_data_is_deterministic() -> None:
    first = generate_partners(300, 5, random.Random(1))
    second = generate_partners(300, 5, random.Random(1))
    assert first == second
    assert len({fold(record.name) for record in first}) == 300
    assert generate_queries(first, 20, random.Random(2)) == generate_queries(second, 20, random.Random(2))


def test_the_figures_are_those_of_the_generated_queries_and_agree_with_each_other(tmp_path: Path) -> None:
    written = run(tmp_path / "search.json", scale=0.002, seed=7, echo=lambda _: None)
    rng = random.Random(7)  # the run draws the names, then the queries, from one stream
    records = generate_partners(written["names"], written["territories"], rng)
    queries = generate_queries(records, written["queries"], rng)
    names = {record.id: record.name for record in records}
    assert written["examples"] == [
        {"query": q.text, "target": names[q.target], "perturbation": q.perturbation}
        for q in queries[: len(PERTURBATIONS)]
    ]
    by_kind = written["recall_by_perturbation"]
    assert list(by_kind) == list(PERTURBATIONS)
    for kind in PERTURBATIONS:
        assert by_kind[kind]["queries"] == sum(1 for q in queries if q.perturbation == kind)

    build = written["build"]
    assert len(build["runs_seconds"]) == 5
    assert build["min_seconds"] == min(build["runs_seconds"])
    assert build["median_seconds"] == statistics.median(build["runs_seconds"])

    ours, baseline, folded = (
        written["ours_national"],
        written["baseline_wratio"],
        written["baseline_wratio_folded"],
    )
    territory = written["ours_territory"]
    for figures in (ours, territory, baseline, folded):
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
        assert figures["recall_at_1"] <= figures["recall_at_10"]
    # recall@10 is the share of queries whose target is found, kind by kind or all at once.
    found = sum(by_kind[kind]["ours"] * by_kind[kind]["queries"] for kind in PERTURBATIONS)
    assert abs(found / written["queries"] - ours["recall_at_10"]) < 1e-3

    ratios = written["ratios"]
    assert ratios["throughput_vs_baseline"] == round(
        ours["queries_per_second"] / baseline["queries_per_second"], 1
    )
    assert ratios["throughput_vs_folded_baseline"] == round(
        ours["queries_per_second"] / folded["queries_per_second"], 1
    )
    assert ratios["territory_throughput_vs_baseline"] == round(
        territory["queries_per_second"] / baseline["queries_per_second"], 1
    )
    assert ratios["recall_minus_baseline"] == round(ours["recall_at_10"] - baseline["recall_at_10"], 4)
    assert ratios["recall_minus_folded_baseline"] == round(ours["recall_at_10"] - folded["recall_at_10"], 4)

    met = written["targets_met"]
    assert written["targets"] == TARGETS
    assert met["build"] is (build["median_seconds"] <= TARGETS["build_seconds_max"])
    assert met["territory_p95"] is (territory["p95_ms"] <= TARGETS["territory_p95_ms_max"])
    assert met["national_p95"] is (ours["p95_ms"] <= TARGETS["national_p95_ms_max"])
    assert met["throughput"] is (ratios["throughput_vs_baseline"] >= TARGETS["throughput_ratio_min"])
    assert met["recall"] is (ours["recall_at_10"] >= baseline["recall_at_10"])
