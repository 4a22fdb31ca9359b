"""`referral report`: the indicators of a scope and period written as XLSX, CSV or JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

from flask import Flask
from openpyxl import load_workbook

from referral.cli import main
from tests.helpers import DEMO


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_report_territory_xlsx(app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "lyon.xlsx"
    result = run(
        app,
        "report",
        "--scope",
        "territory:lyon",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "xlsx",
        "-o",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert "Métropole de Lyon" in result.output
    workbook = load_workbook(io.BytesIO(target.read_bytes()))
    assert workbook["Lisez-moi"]["B2"].value == "Territoire : Métropole de Lyon"
    assert "Définitions" in workbook.sheetnames


def test_report_json_and_refusals(app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    result = run(app, "report", "--scope", "all", "--format", "json", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["protected"] is True
    refused = app.test_cli_runner().invoke(main, ["report", "--scope", "all", "--as", DEMO["coordinator"]])
    assert refused.exit_code == 1
    assert "réservés à l'équipe nationale" in refused.output
    backwards = app.test_cli_runner().invoke(main, ["report", "--from", "2026-05-01", "--to", "2026-01-01"])
    assert backwards.exit_code == 1
    assert "La fin de la période précède son début." in backwards.output


def test_export_evaluation_reads_the_key_from_the_environment(
    app: Flask, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "evaluation.csv"
    args = [
        "export",
        "evaluation",
        "--from",
        "2020-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "csv",
        "-o",
        str(target),
    ]
    monkeypatch.delenv("REFERRAL_EVALUATION_KEY", raising=False)
    missing = app.test_cli_runner().invoke(main, args)
    assert missing.exit_code == 1
    assert "clé de pseudonymisation manque" in missing.output
    monkeypatch.setenv("REFERRAL_EVALUATION_KEY", "une-clé-de-test-assez-longue")
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    assert "Exclus (opposition de la personne) : 0" in result.output
    assert target.read_bytes().startswith(b"\xef\xbb\xbfpersonne;parcours;")
    assert (tmp_path / "evaluation-dictionnaire.csv").exists()
    refused = app.test_cli_runner().invoke(main, [*args, "--as", DEMO["coordinator"]])
    assert refused.exit_code == 1
    assert "réservé à l'équipe nationale" in refused.output
