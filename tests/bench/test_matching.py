"""`referral bench matching` runs end to end at a tiny scale; its generated data is deterministic."""

from __future__ import annotations

import json

from referral.bench import matching as bench
from referral.bench.synthetic import generate


def test_bench_run_writes_its_figures(tmp_path):
    lines: list[str] = []
    output = tmp_path / "matching.json"
    results = bench.run(output, scale=0.001, seed=3, echo=lines.append)
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(results))
    for key in (
        "dataset",
        "setup",
        "one_participant",
        "service_call_with_database",
        "national_batch",
        "top10_check",
        "targets",
    ):
        assert key in written
    for key in ("engine", "engine_with_explanations_top10", "numpy_reference", "double_loop"):
        assert {"median_ms", "p95_ms"} <= set(written["one_participant"][key])
    assert {"engine_s", "numpy_reference_s", "double_loop_s", "ratio_engine_to_numpy"} <= set(
        written["national_batch"]
    )
    # (b) is a slot for the service benchmark, never a made-up figure.
    assert written["service_call_with_database"]["sqlite"] is None
    assert written["service_call_with_database"]["postgresql"] is None
    assert written["top10_check"]["identical"] is True
    assert any("(a)" in line for line in lines)


def test_generated_data_is_deterministic():
    first, second = generate(0.002, seed=9), generate(0.002, seed=9)
    assert first.participants == second.participants
    assert first.opportunities == second.opportunities
    assert generate(0.002, seed=10).participants != first.participants
