"""`referral bench search` runs end to end at a tiny scale; its generated names and queries are
deterministic."""

from __future__ import annotations

import json
import random
from pathlib import Path

from referral.bench.search import generate_partners, generate_queries, run
from referral.network.search import fold


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
