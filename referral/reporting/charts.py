"""Pictures of the indicators, drawn on the server with pygal as SVG (no script, no CDN).

Each table says how it is drawn (`Table.chart`): bars by row, stacked bars for an entry → exit
flow (one bar per situation at entry, split by the situation at exit), a line for a monthly
series. Only counts are drawn; a protected « < 5 » is left out of the picture (the table beside
it, the picture's text alternative, says « < 5 »). Totals are not drawn: they would dwarf the rows.

The page shows each picture as an ``<img>`` whose source is the SVG itself (a ``data:`` address):
pygal's SVG carries its own ``<style>``, which an image keeps to itself, so the page's content
security policy (no inline style) holds; and an image never runs a script.
"""

from __future__ import annotations

import base64
from typing import Any

import pygal
from pygal.style import Style

from referral.reporting.figures import Table

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#666666",
    font_family="Marianne, Arial, Helvetica, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=11,
    legend_font_size=12,
    title_font_size=15,
    # Colour-blind-safe palette (Okabe–Ito), dark enough against white.
    colors=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999", "#000000"),
)
WIDTH = 760
# The tables drawn: one picture per subject that a picture helps to read (a long list of types
# or reasons reads better as its table). Each costs some tens of milliseconds to draw.
PICTURED = frozenset(
    {
        "activity_monthly",
        "exits_by_family",
        "housing_flows",
        "phc_progression",
        "follow_up_outcomes",
        "referrals_by_domain",
        "needs_without_answer",
    }
)


class _NoTooltips:
    """pygal writes, for every bar and point, the data its script shows as a tooltip; the
    pictures have no script (``js=[]``, and an ``<img>`` runs none), so that data is dead weight:
    about a third of each picture's nodes and of the time to draw it."""

    def _tooltip_data(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Line(_NoTooltips, pygal.Line):
    pass


class HorizontalBar(_NoTooltips, pygal.HorizontalBar):
    pass


class HorizontalStackedBar(_NoTooltips, pygal.HorizontalStackedBar):
    pass


def _count(cell: Any) -> int | None:
    return cell if isinstance(cell, int) and not isinstance(cell, bool) else None


def _count_columns(table: Table) -> list[int]:
    skip = {"total"}
    return [i for i, column in enumerate(table.columns) if column.kind == "count" and column.key not in skip]


def _config(table: Table, rows: int) -> dict[str, Any]:
    return {
        "js": [],
        "style": STYLE,
        "width": WIDTH,
        "height": max(220, 60 + 34 * rows),
        "print_values": True,
        "print_zeroes": False,
        "legend_at_bottom": True,
        "truncate_label": 60,
        "truncate_legend": 60,
        "show_y_guides": False,
        "margin": 12,
        "no_data_text": "Aucune donnée à dessiner",
        "value_formatter": lambda value: f"{value:,.0f}".replace(",", "\u202f"),
    }


def render(table: Table) -> bytes | None:
    """The SVG of `table`, or None when it has no picture or nothing to draw."""
    rows = [row for row in table.rows if not row.total]
    columns = _count_columns(table)
    if table.key not in PICTURED or table.chart == "none" or not rows or not columns:
        return None
    chart: Any
    if table.chart == "series":
        chart = Line(**_config(table, 6), x_label_rotation=30, show_minor_x_labels=True, fill=False)
        chart.x_labels = [row.label for row in rows]
        for i in columns:
            chart.add(table.columns[i].label, [_count(row.cells[i]) for row in rows])
    elif table.chart == "flow":
        chart = HorizontalStackedBar(**_config(table, len(rows)))
        chart.x_labels = [row.label.removeprefix("À l'entrée : ") for row in rows]
        for i in columns:
            values = [_count(row.cells[i]) for row in rows]
            if any(values):
                chart.add(f"À la sortie : {table.columns[i].label}", values)
    else:
        chart = HorizontalBar(**_config(table, len(rows) * max(1, len(columns))))
        chart.x_labels = [row.label for row in rows]
        for i in columns:
            chart.add(table.columns[i].label, [_count(row.cells[i]) for row in rows])
    if not any(_count(row.cells[i]) for row in rows for i in columns):
        return None
    chart.title = table.title
    svg: bytes = chart.render()
    return svg


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def pictures(tables: list[Table]) -> dict[str, str]:
    """Table key → the picture as a ``data:`` address, for the tables that have one."""
    out = {}
    for table in tables:
        svg = render(table)
        if svg is not None:
            out[table.key] = data_uri(svg)
    return out
