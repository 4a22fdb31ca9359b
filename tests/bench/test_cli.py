"""`referral bench NAME` runs the benchmark of `referral/bench/` and writes its JSON file, by default
`bench-results/NAME.json`; `matching` adds the service call with the database to the same file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from referral.bench import matching_service
from referral.cli import main
from referral.referrals import matching_index as proposals


def bench(*args: str):
    # The benches need no configured application: a bare one gives the command its context.
    info = ScriptInfo(create_app=lambda: Flask("bench-test"))
    return CliRunner().invoke(main, ["bench", *args], obj=info, catch_exceptions=False)


@pytest.mark.parametrize("name", ["matching", "network", "search"])
def test_each_bench_writes_its_file(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching_service, "SAMPLE_CALLS", 10)
    output = tmp_path / f"{name}.json"

    result = bench(name, "--scale", "0.0001", "--seed", "7", "--output", str(output))

    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(f"Résultats écrits dans {output}")
    written = json.loads(output.read_text(encoding="utf-8"))
    assert (written["benchmark"], written["scale"], written["seed"]) == (name, 0.0001, 7)
    if name == "matching":
        assert written["top10_check"]["identical"] is True
        assert written["service_call_with_database"]["sqlite"]["calls"] == 10
        proposals.forget_index()


def test_results_go_to_bench_results_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = bench("search", "--scale", "0.0001")

    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "bench-results" / "search.json").read_text(encoding="utf-8"))
    assert written["seed"] == 20261123


def test_unknown_bench_and_scale_out_of_range_are_refused() -> None:
    assert bench("indexation").exit_code == 2
    assert bench("search", "--scale", "2").exit_code == 2
