"""The CSV and XLSX of the indicators on the hand-built dataset: decimal comma, BOM, ``;``, one
sheet per table and a sheet of definitions, the same figures as the report."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from referral.reporting import exports, indicators
from referral.reporting.context import Context, Period, Scope
from referral.reporting.definitions import DEFINITIONS
from referral.reporting.figures import Report, cell_value
from tests.reporting import dataset
from tests.reporting.dataset import END, START, TODAY


@pytest.fixture
def report(empty_session: Session) -> Report:
    world = dataset.build(empty_session)
    scope = Scope("territory", world.lyon.id, "Territoire : Lyon", protected=False, slug_or_id="lyon")
    return indicators.compute(Context(empty_session, scope, Period(START, END), None, TODAY))


def test_csv_semicolons_bom_and_decimal_comma(report: Report) -> None:
    data = exports.to_csv(report)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    start = rows.index(["Sorties par famille (DGEFP)"])
    assert rows[start + 2] == ["", "Sorties", "Part des sorties (%)"]
    dynamic = next(row for row in rows[start:] if row[0].startswith("Sorties dynamiques"))
    assert dynamic[1:] == ["2", "66,7"]  # 2 exits out of 3
    months = rows.index(["Activité"])
    mean = next(row for row in rows[months:] if row[0].startswith("Durée moyenne"))
    assert mean[1] == "15,9"  # (364 + 790 + 302) / 3 days, in months of 30.4 days


def test_xlsx_one_sheet_per_table_definitions_and_the_same_figures(report: Report) -> None:
    workbook = load_workbook(io.BytesIO(exports.to_xlsx(report)))
    tables = report.tables()
    assert len(workbook.sheetnames) == len(tables) + 2
    names = exports.sheet_names(report)
    for table in tables:
        sheet = workbook[names[table.key]]
        assert sheet["A1"].value == table.title
        values = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]
        assert values == [[row.label, *(cell_value(cell) for cell in row.cells)] for row in table.rows]
    definitions = {row[0]: row[1] for row in workbook["Définitions"].iter_rows(min_row=2, values_only=True)}
    assert definitions == dict(DEFINITIONS.values())
    dynamic = workbook[names["exits_by_family"]]
    assert [c.value for c in dynamic[dynamic.max_row]][1:] == [2, 66.7]
