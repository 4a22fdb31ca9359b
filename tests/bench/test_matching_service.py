"""`referral bench matching` part (b): the service call with the database, on a tiny scale."""

from __future__ import annotations

import json

from referral.bench import matching_service as bench
from referral.referrals import proposals


def test_service_bench_writes_its_figures_beside_the_engine_ones(tmp_path, monkeypatch) -> None:
    output = tmp_path / "matching.json"
    output.write_text(json.dumps({"targets": {"one_participant_median_ms": {"met": True}}}))
    monkeypatch.setattr(bench, "SAMPLE_CALLS", 20)
    lines: list[str] = []

    results = bench.run_service(output, scale=0.002, seed=7, echo=lines.append)

    assert json.loads(output.read_text()) == results
    assert results["targets"]["one_participant_median_ms"] == {"met": True}  # kept, not overwritten
    sqlite = results["service_call_with_database"]["sqlite"]
    assert sqlite["calls"] == 20
    assert 0 < sqlite["median_ms"] <= sqlite["p95_ms"]
    for figure in ("index_build_seconds", "index_refresh_one_offer_seconds", "index_hourly_refresh_seconds"):
        assert sqlite[figure] >= 0
    target = results["targets"]["service_call_sqlite_p95_ms"]
    assert target["value"] == sqlite["p95_ms"]
    assert target["met"] is (sqlite["p95_ms"] <= 5)
    assert any("sqlite" in line and "p95" in line for line in lines)
    proposals.forget_index()
