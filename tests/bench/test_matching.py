"""`referral bench matching` runs end to end at a tiny scale, and what it writes holds together:
counts are those of the generated data, ratios are the quotients of the timings written beside
them, targets are met exactly when their figure says so, and the engine agrees with both
baselines. Timings themselves are not asserted (they belong to the benchmark, not to tests)."""

from __future__ import annotations

import json

from referral.bench import matching as bench
from referral.bench.synthetic import generate

SCALE, SEED = 0.001, 3


def test_bench_run_writes_its_figures(tmp_path):
    lines: list[str] = []
    output = tmp_path / "matching.json"
    results = bench.run(output, scale=SCALE, seed=SEED, echo=lines.append)
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


def test_the_figures_are_those_of_the_generated_data_and_agree_with_each_other(tmp_path):
    written = bench.run(tmp_path / "matching.json", scale=SCALE, seed=SEED, echo=lambda _: None)
    data = generate(SCALE, SEED)
    people = len(data.participants)

    dataset = written["dataset"]
    assert (written["scale"], written["seed"], written["today"]) == (SCALE, SEED, data.today.isoformat())
    assert dataset["territories"] == len(data.territories)
    assert dataset["structures"] == len(data.structures)
    assert dataset["participants"] == people
    assert dataset["open_opportunities"] == data.open_opportunities
    assert dataset["opportunities_including_not_open"] == len(data.opportunities)

    one = written["one_participant"]
    assert one["engine"]["samples"] == min(bench.ONE_PARTICIPANT_SAMPLE, people)
    assert one["double_loop"]["samples"] == min(bench.DOUBLE_LOOP_ONE_SAMPLE, people)
    for timing in ("engine", "numpy_reference", "double_loop"):
        assert one[timing]["median_ms"] <= one[timing]["p95_ms"]
    assert (
        one["ratio_engine_to_numpy_median"]
        == one["engine"]["median_ms"] / one["numpy_reference"]["median_ms"]
    )
    assert one["ratio_engine_to_double_loop_median"] == (
        one["engine"]["median_ms"] / one["double_loop"]["median_ms"]
    )

    batch = written["national_batch"]
    assert batch["engine_s"] == batch["engine"]["wall_s"]
    assert batch["engine_total_s"] == batch["participant_table"]["wall_s"] + batch["engine_s"]
    assert (
        batch["numpy_reference_total_s"] == batch["participant_table"]["wall_s"] + batch["numpy_reference_s"]
    )
    assert batch["ratio_engine_to_numpy"] == batch["engine_s"] / batch["numpy_reference_s"]
    assert batch["ratio_engine_to_numpy_total"] == batch["engine_total_s"] / batch["numpy_reference_total_s"]
    assert batch["speedup_engine_vs_double_loop"] == batch["double_loop_s"] / batch["engine_total_s"]
    # Below DOUBLE_LOOP_FULL people the double loop runs on everybody: nothing is extrapolated.
    assert batch["double_loop_measured"]["participants"] == people
    assert batch["double_loop_measured"]["extrapolated"] is False
    assert batch["double_loop_s"] == batch["double_loop_measured"]["wall_s"]

    check = written["top10_check"]
    assert check["sample"] == min(bench.TOP10_SAMPLE, people)
    assert check["batch_vs_double_loop_mismatches"] == 0
    assert check["single_vs_double_loop_mismatches"] == 0
    assert check["batch_vs_numpy_mismatches_all_participants"] == 0

    targets = written["targets"]
    assert targets["one_participant_median_ms"]["value"] == one["engine"]["median_ms"]
    assert targets["one_participant_vs_numpy"]["value"] == one["ratio_engine_to_numpy_median"]
    assert targets["batch_vs_numpy"]["value"] == batch["ratio_engine_to_numpy_total"]
    assert targets["batch_speedup_vs_double_loop"]["value"] == batch["speedup_engine_vs_double_loop"]
    for name, limit in (
        ("one_participant_median_ms", bench.TARGETS["one_participant_median_ms"]),
        ("one_participant_vs_numpy", bench.TARGETS["one_participant_vs_numpy_max"]),
        ("batch_vs_numpy", bench.TARGETS["batch_vs_numpy_max"]),
    ):
        assert targets[name]["met"] is (targets[name]["value"] <= limit)
    speedup = targets["batch_speedup_vs_double_loop"]
    assert speedup["met"] is (speedup["value"] >= bench.TARGETS["batch_speedup_vs_double_loop_min"])
    assert targets["top10_identical"] == {"target": "identical", "value": True, "met": True}


def test_generated_data_is_deterministic():
    first, second = generate(0.002, seed=9), generate(0.002, seed=9)
    assert first.participants == second.participants
    assert first.opportunities == second.opportunities
    assert generate(0.002, seed=10).participants != first.participants


def test_the_quality_part_measures_the_need_first(tmp_path):
    """Issue 15, point 4: the share of people whose first proposal answers a need (100 %), the gap
    figure per domain, and the double loop's first proposal on a sample — figures that add up."""
    written = bench.run(tmp_path / "matching.json", scale=SCALE, seed=SEED, echo=lambda _: None)
    quality = written["quality"]
    assert quality["people"] == len(generate(SCALE, SEED).participants)
    assert 0 < quality["people_with_eligible_need_answer"] <= quality["people"]
    assert quality["first_proposal_answers_need"] == quality["people_with_eligible_need_answer"]
    assert quality["share_first_proposal_answers_need"] == 1.0
    assert quality["score_only_first_proposal_answers_need"] <= quality["first_proposal_answers_need"]
    domains = quality["gaps_by_domain"]
    assert sum(row["needs"] for row in domains.values()) == quality["open_needs"]
    assert sum(row["unanswered"] for row in domains.values()) == quality["needs_without_eligible_answer"]
    check = quality["first_proposal_vs_double_loop"]
    assert check["checked"] > 0
    assert check["agree"] == check["checked"]
    assert written["targets"]["first_proposal_answers_need"]["met"] is True
