"""The indicators as files: CSV as French spreadsheets open it, XLSX, and plain data for JSON.

Every export is made from the same `Report` as the page — protected the same way — and shows the
same figure in each cell (`figures.cell_value`): a count, a percentage (a number from 0 to 100),
a mean or median, « < 5 », or nothing.

- CSV: ``;`` between fields, UTF-8 with a byte-order mark (so Excel reads the accents), decimal
  comma; the tables one after the other, each under its title and definition.
- XLSX: a « Lisez-moi » sheet (scope, period, programme, the protection rule), one sheet per
  table, and a « Définitions » sheet; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from referral.reporting.context import Period
from referral.reporting.definitions import DEFINITIONS, definition
from referral.reporting.figures import Report, Table, cell_value
from referral.territories.models import Programme

BOM = "\ufeff"


def _definition(table: Table) -> str:
    return DEFINITIONS[table.key][1] if table.key in DEFINITIONS else ""


def filename(scope_code: str, period: Period, programme: Programme | None, fmt: str) -> str:
    """``indicateurs-territory-lyon-2026-01-01-2026-12-31.xlsx``."""
    scope = scope_code.replace(":", "-")
    suffix = f"-{programme.value}" if programme else ""
    return f"indicateurs-{scope}{suffix}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"


def header_lines(report: Report) -> list[tuple[str, str]]:
    lines = [
        ("Périmètre", report.scope_label),
        ("Période", report.period_label),
        ("Programme", report.programme_label),
    ]
    if report.protected:
        lines.append(("Petits effectifs", definition("protection")))
    return lines


def _csv_value(value: float | int | str | None, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # No thin spaces in a file: a spreadsheet reads « 1234,5 », not « 1 234,5 ».
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return value


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for name, text in header_lines(report):
        writer.writerow([name, text])
    for table in report.tables():
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(["Définition", _definition(table)])
        writer.writerow(
            ["", *(column.label + (" (%)" if column.kind == "share" else "") for column in table.columns)]
        )
        for row in table.rows:
            writer.writerow(
                [
                    row.label,
                    *(
                        _csv_value(cell_value(cell), col.kind)
                        for cell, col in zip(row.cells, table.columns, strict=True)
                    ),
                ]
            )
    return (BOM + buffer.getvalue()).encode("utf-8")


def sheet_names(report: Report) -> dict[str, str]:
    """Table key → its sheet's name (Excel allows 31 characters, no « : »), unique."""
    names: dict[str, str] = {}
    used: set[str] = {"Lisez-moi", "Définitions"}
    for table in report.tables():
        base = table.title.replace(":", " -").replace("/", "-")[:31].strip()
        name, n = base, 2
        while name in used:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name)
        names[table.key] = name
    return names


def to_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    readme = workbook.active
    assert readme is not None  # a new workbook has its first sheet
    readme.title = "Lisez-moi"
    readme.append(["Indicateurs Convergence"])
    readme["A1"].font = Font(bold=True, size=14)
    for name, text in header_lines(report):
        readme.append([name, text])
    readme.append([])
    readme.append(
        ["Chaque tableau est sur sa feuille ; les définitions sont sur la feuille « Définitions »."]
    )
    readme.column_dimensions["A"].width = 22
    readme.column_dimensions["B"].width = 120
    for row in readme.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    names = sheet_names(report)
    for table in report.tables():
        sheet = workbook.create_sheet(names[table.key])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([_definition(table)])
        sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        sheet.append(
            ["", *(column.label + (" (%)" if column.kind == "share" else "") for column in table.columns)]
        )
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([row.label, *(cell_value(cell) for cell in row.cells)])
            if row.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 60
        for i in range(len(table.columns)):
            sheet.column_dimensions[get_column_letter(i + 2)].width = 18
        sheet.freeze_panes = "B4"
    definitions = workbook.create_sheet("Définitions")
    definitions.append(["Indicateur", "Définition"])
    for cell in definitions[1]:
        cell.font = Font(bold=True)
    for _key, (title, text) in DEFINITIONS.items():
        definitions.append([title, text])
    definitions.column_dimensions["A"].width = 40
    definitions.column_dimensions["B"].width = 140
    for row in definitions.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_data(report: Report) -> dict[str, Any]:
    """The report as plain data (the API's JSON), every figure as the page shows it."""
    return {
        "scope": report.scope_label,
        "period": report.period_label,
        "programme": report.programme_label,
        "protected": report.protected,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "tables": [
                    {
                        "key": table.key,
                        "title": table.title,
                        "definition": _definition(table),
                        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
                        "rows": [
                            {
                                "key": row.key,
                                "label": row.label,
                                "total": row.total,
                                "values": [cell_value(cell) for cell in row.cells],
                            }
                            for row in table.rows
                        ],
                    }
                    for table in section.tables
                ],
            }
            for section in report.sections
        ],
    }
