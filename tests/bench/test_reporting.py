"""`referral bench reporting` on a small generated country: it writes its file, and the indicators
computed in SQL agree with pandas on the same rows — the bench's baseline doubling as an oracle
for the grouped statements (a second, independent computation of the same definitions)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from referral.bench import reporting
from referral.cli import main


@pytest.mark.parametrize("seed", [7, 11])
def test_sql_agrees_with_pandas_and_the_file_is_written(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reporting, "TERRITORY_SAMPLES", 2)
    monkeypatch.setattr(reporting, "NATIONAL_REPEATS", 1)
    output = tmp_path / "reporting.json"
    url = os.environ.get("TEST_DATABASE_URL")
    args = ["bench", "reporting", "--scale", "0.004", "--seed", str(seed), "--output", str(output)]
    if url:
        args += ["--database-url", url]
    info = ScriptInfo(create_app=lambda: Flask("bench-test"))
    result = CliRunner().invoke(main, args, obj=info, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written["benchmark"] == "reporting"
    for name, figures in written["databases"].items():
        assert figures["agrees_with_pandas"], (name, figures["disagreements"])
        assert figures["figures"]["exits"] > 0
        assert figures["figures"]["referrals"] > 0
    assert set(written["databases"]) == ({"sqlite", "postgresql"} if url else {"sqlite"})
