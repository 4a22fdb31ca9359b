"""The shape of every indicator, and the small-count protection applied outside a structure.

An indicator is a `Table`: rows of cells, each cell a count of people (an `int`), a `Ratio`
(a share, kept as its numerator and denominator) or a `Stat` (a mean or a median, kept with the
number of people it is computed on). Keeping the parts rather than the finished number is what
lets `protect` recompute a share from protected counts, and lets the page, the CSV, the XLSX and
the API show the same figure.

Protection (issue 17, point 8) — what a coordinator, a CP and the national team see, i.e.
anyone looking at people outside their own structure:

1. **Rounding to 5.** Every count is replaced by the nearest multiple of 5 (half up: 12 → 10,
   13 → 15), and any count from 1 to 4 shows « < 5 » (0 stays 0). Totals are rounded from their
   own true value, not added up from rounded cells.
2. **Shares from protected counts.** A share is computed from the rounded numerator and
   denominator, and is not shown (« < 5 ») when either of them shows « < 5 ».
3. **Means and medians** are shown only when computed on at least 5 people.

Why rounding and not only « < 5 »: hiding the cells under 5 does not stop differencing. Two
overlapping filters — the territory, and the territory less one structure; January–June and
January–July; both programmes and Convergence alone — can each count 10 people or more while
their difference is one person, whose situation is then read by subtraction. Once every published
count is rounded to 5, each published figure stands for five possible true values (10 means
8 to 12), so the difference of two published figures never pins a count of 1: 13 and 12 people
publish as 15 and 10, and 12 and 11 both as 10. The same goes for complementary cells (a
suppressed cell cannot be recovered from a total minus the others) and for the finer filter of
one structure, a month, or a programme. The remaining risk — many queries with filters crafted to
bracket a threshold — is left to the audit of who looks at what; coordinators cannot add people.

A CIP looking at their own structure sees exact counts: they keep the records themselves.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

THRESHOLD = 5
ROUNDING_BASE = 5
SMALL = "< 5"


@dataclass(frozen=True, slots=True)
class Ratio:
    """A share: `numerator` people out of `denominator` (shown as a percentage)."""

    numerator: int | str
    denominator: int | str

    @property
    def percent(self) -> float | None:
        if not isinstance(self.numerator, int) or not isinstance(self.denominator, int):
            return None
        if self.denominator == 0:
            return None
        return round(100 * self.numerator / self.denominator, 1)


@dataclass(frozen=True, slots=True)
class Stat:
    """A mean or a median (`value`, in the column's unit) computed on `n` people."""

    value: float | None
    n: int | str


Cell = int | str | Ratio | Stat | None
Unit = Literal["people", "paths", "referrals", "needs", "follow_ups", "exits"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # What a count in the column counts; shares and statistics say what they are in `label`.
    kind: Literal["count", "share", "months", "weeks", "days", "text"] = "count"


@dataclass(frozen=True)
class Row:
    key: str  # a code (exit type, domain…) or a fixed key: stable across languages and exports
    label: str
    cells: tuple[Cell, ...]
    total: bool = False  # a total line (shown in bold, drawn apart in pictures)


@dataclass(frozen=True)
class Table:
    """One indicator: its definition key (`definitions.DEFINITIONS`), columns and rows."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    # How the page draws it: bars by row, a flow (entry → exit matrix), a monthly series.
    chart: Literal["bars", "stacked", "flow", "series", "none"] = "bars"
    note: str = ""

    def cell(self, row_key: str, column_key: str) -> Cell:
        """The cell of row `row_key` and column `column_key` (KeyError when there is none)."""
        index = [c.key for c in self.columns].index(column_key)
        for row in self.rows:
            if row.key == row_key:
                return row.cells[index]
        raise KeyError(row_key)


@dataclass(frozen=True)
class Section:
    """A subject of the page (activity, exits…) and its tables."""

    key: str
    title: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class Report:
    """Every indicator for one scope, period and programme, protected or not."""

    scope_label: str
    period_label: str
    programme_label: str
    sections: tuple[Section, ...]
    protected: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self, key: str) -> Table:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        raise KeyError(key)

    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]


# ---------------------------------------------------------------------------------------------
# Protection


def round_count(value: int) -> int | str:
    """A published count: 0, « < 5 », or the nearest multiple of 5 (half up)."""
    if value == 0:
        return 0
    if 0 < value < THRESHOLD:
        return SMALL
    return ROUNDING_BASE * ((value + ROUNDING_BASE // 2) // ROUNDING_BASE)


def protect_cell(cell: Cell) -> Cell:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int):
        return round_count(cell)
    if isinstance(cell, Ratio):
        numerator = round_count(cell.numerator) if isinstance(cell.numerator, int) else cell.numerator
        denominator = round_count(cell.denominator) if isinstance(cell.denominator, int) else cell.denominator
        return Ratio(numerator, denominator)
    if isinstance(cell, Stat):
        if not isinstance(cell.n, int) or cell.n < THRESHOLD:
            return Stat(None, SMALL if isinstance(cell.n, int) and cell.n > 0 else cell.n)
        return Stat(cell.value, round_count(cell.n))
    return cell


def protect(report: Report) -> Report:
    """The report as people outside the structure may see it (module docstring)."""
    sections = tuple(
        replace(
            section,
            tables=tuple(
                replace(
                    table,
                    rows=tuple(
                        replace(row, cells=tuple(protect_cell(cell) for cell in row.cells))
                        for row in table.rows
                    ),
                )
                for table in section.tables
            ),
        )
        for section in report.sections
    )
    return replace(report, sections=sections, protected=True)


# ---------------------------------------------------------------------------------------------
# Statistics from grouped counts (SQLite has no median: the database groups, Python reads the
# histogram, which has one row per distinct value rather than per person)


def histogram_stats(histogram: Iterable[tuple[float, int]]) -> tuple[float | None, float | None, int]:
    """Mean, median and count of values given as (value, how many) pairs."""
    pairs = sorted((float(value), int(count)) for value, count in histogram if value is not None and count)
    n = sum(count for _value, count in pairs)
    if n == 0:
        return None, None, 0
    mean = sum(value * count for value, count in pairs) / n

    # The median of the expanded list, without expanding it.
    def at(index: int) -> float:
        seen = 0
        for value, count in pairs:
            seen += count
            if index < seen:
                return value
        raise AssertionError("index beyond the histogram")

    median = at((n - 1) // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2
    return mean, median, n


def median_of(values: Iterable[float]) -> float | None:
    found = list(values)
    return float(statistics.median(found)) if found else None


# ---------------------------------------------------------------------------------------------
# Display (page, CSV) — the XLSX keeps numbers as numbers


def cell_value(cell: Cell) -> float | int | str | None:
    """The figure a cell shows: a count, a percentage, a statistic, « < 5 », or None."""
    if isinstance(cell, Ratio):
        if SMALL in (cell.numerator, cell.denominator):
            return SMALL
        return cell.percent
    if isinstance(cell, Stat):
        if cell.value is None:
            return SMALL if cell.n == SMALL else None
        return round(cell.value, 1)
    return cell


def french_number(value: float | int | str | None, *, decimals: int = 1) -> str:
    """A number as French spreadsheets and readers write it: decimal comma, thin grouping."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


def display(cell: Cell, column: Column) -> str:
    value = cell_value(cell)
    if value is None:
        return "—"
    if column.kind == "share" and not isinstance(value, str):
        return f"{french_number(value)} %"
    return french_number(value)


def table_as_text_rows(table: Table) -> list[list[str]]:
    """Header then rows, each cell as the page shows it (the CSV export's rows)."""
    header = ["", *[column.label for column in table.columns]]
    body = [
        [row.label, *[display(cell, col) for cell, col in zip(row.cells, table.columns, strict=True)]]
        for row in table.rows
    ]
    return [header, *body]


def counts_by(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, count in rows:
        found[key] = found.get(key, 0) + int(count)
    return found


def ordered(labels: Mapping[str, str], counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """(code, label, count) for every code with people, in the reference list's order, then any
    code the list does not know (kept, never silently dropped)."""
    out = [(code, label, counts[code]) for code, label in labels.items() if counts.get(code)]
    out += [(code, code, count) for code, count in sorted(counts.items()) if code not in labels and count]
    return out
