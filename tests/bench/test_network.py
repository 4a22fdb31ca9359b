"""Smoke test of `referral bench network` at a tiny scale: it runs and writes its figures.

No timing is asserted (timings belong to the benchmark, not to tests); the results must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

from referral.bench.network import run
from referral.bench.synthetic_network import LARGEST_TERRITORY, NATIONAL, generate


def test_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    output = tmp_path / "network.json"
    lines: list[str] = []

    results = run(output, scale=0.001, seed=7, echo=lines.append)

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


def test_generation_is_deterministic_and_sized() -> None:
    spec = NATIONAL.scaled(0.002)
    assert generate(spec, 3) == generate(spec, 3)
    assert generate(spec, 3) != generate(spec, 4)
    territory = generate(LARGEST_TERRITORY.scaled(0.05), 1)
    assert territory.territory_slug == "territoire-001"
    assert len(territory.structures) == LARGEST_TERRITORY.scaled(0.05).structures
