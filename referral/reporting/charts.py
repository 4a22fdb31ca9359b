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
from xml.etree import ElementTree

import pygal
from pygal.config import SerieConfig
from pygal.state import State
from pygal.style import Style
from pygal.svg import Svg
from pygal.util import truncate

from referral.reporting.figures import Row, Table

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#666666",
    font_family="Marianne, Arial, Helvetica, sans-serif",
    # The picture is shown at its width on a wide screen and shrunk to the column on a phone
    # (~366 px of a 390 px screen, × 0.76): 15 px drawn are ~11 px there, 14 px ~10.7 px.
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=14,
    legend_font_size=15,
    title_font_size=17,
    # Colour-blind-safe palette (Okabe–Ito), dark enough against white.
    colors=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999", "#000000"),
)
# Narrow enough that a phone shrinks it little (issue 17: drawn 760 px wide, its 12 px text was
# ~6 px on a phone); the page shows it at this width at most (`indicators/index.html`).
WIDTH = 480
MARGIN = 12
LEGEND_LINE = 1.5 * STYLE.legend_font_size  # pygal's height of a line of legend
BAR = 30  # the height given to each bar (a value is printed in it)
# Labels beside the bars are cut to this many characters (the table beside names them in full):
# pygal gives them 0.6 × their font size a character, ~215 px of the 480. pygal cuts the labels
# under a line's points (`truncate_label`), not those beside bars: `_beside` cuts them.
LABEL_CHARACTERS = 24
# At most this many graduations on the axis of the counts (pygal's default, up to 16, runs them
# together in a narrow picture).
GRADUATIONS = 6
# Months under a line: at most this many named (every other one, or every third, beyond), slanted
# enough that their names do not overlap.
MONTHS_NAMED = 12
# Months as the line's axis names them (the table beside it names them in full).
MONTHS_SHORT_FR = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
SLICE = 8  # a part of a stacked bar shorter than 1/SLICE of the longest bar has no number printed
# A legend is under the picture, one name a line, across its width (`_LegendAcross`): ~430 px
# after its coloured box, 50 characters of 15 px in Arial or Helvetica (~8.3 px each; pygal's
# own guess, 9 px, would cut them at 47).
LEGEND_CHARACTERS = 50
# The tables drawn: one picture per subject that a picture helps to read (a long list of types
# or reasons reads better as its table). Each costs a few milliseconds to draw.
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


# How pygal is made to draw these pictures for less (issue 17, point 11: the seven pictures of a
# territory took ~75 ms of CPU, a quarter of the page's budget). Each change keeps pygal's own
# rules, and `tests/reporting/test_charts.py` compares the pictures with pygal's own drawing.


class _NoTooltips:
    """pygal writes, for every bar and point, the data its script shows as a tooltip; the
    pictures have no script (an ``<img>`` runs none), so that data is dead weight: about a third
    of each picture's nodes and of the time to draw it."""

    def _tooltip_data(self, *_args: Any, **_kwargs: Any) -> None:
        return None


# The names `prepare_values` keeps from the chart's state for each series: those of a new
# `SerieConfig` (pygal tests each name of the state against ``dir()`` of one), and the values
# such a `SerieConfig` already holds (a state's value that is the same object changes nothing).
_SERIES_NAMES = frozenset(dir(SerieConfig()))
_SERIES_DEFAULTS = vars(SerieConfig())


class _SeriesOptions:
    """The chart's state as `prepare_values` is shown it: only the options a series has."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.__dict__.update(options)


class _StateInPlace:
    """pygal's drawing state, kept in the chart's own dictionary while it is drawn.

    pygal draws from a `State`: the chart's options (its `Config`, then the chart's attributes,
    then the arguments of `render`) and the values computed while drawing. It reads every
    attribute of a chart through ``BaseGraph.__getattribute__`` — the state's value if it has
    one, else the chart's — which looks the state up by calling itself again: ~40,000 reads for
    the seven pictures, a third of their time. Here the state's values go into the chart's
    dictionary when pygal sets the state, and attributes are read and written the way Python
    does: the same values, read without a call. A chart keeps them once drawn: each of these is
    drawn once (`render` makes a new one).

    `prepare_values` gives each series the chart's options that a series has too, testing each
    of the state's ~100 names against ``dir()`` of a new `SerieConfig`: ~2,000 ``dir()`` calls for
    the seven pictures, a quarter of their time. It reads nothing else of ``self.state``, which is,
    while it runs, the state narrowed to those names (`_SERIES_NAMES`), less the values a new
    `SerieConfig` holds already (`_SERIES_DEFAULTS`): one or two names a series."""

    __getattribute__ = object.__getattribute__

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "state" and isinstance(value, State):
            self.__dict__.update(
                (key, item) for key, item in value.__dict__.items() if key[:2] != "__" and key != "state"
            )
        object.__setattr__(self, name, value)

    def prepare_values(self, raw: Any, offset: int = 0) -> Any:
        own = self.__dict__
        state = own["state"]
        own["state"] = _SeriesOptions(
            {
                key: own[key]
                for key in _SERIES_NAMES
                if key in own and (key not in _SERIES_DEFAULTS or own[key] is not _SERIES_DEFAULTS[key])
            }
        )
        try:
            return super().prepare_values(raw, offset)  # type: ignore[misc]
        finally:
            own["state"] = state


# Every picture is a document of its own (an ``<img>``): one fixed id for its style sheet to name
# (pygal draws a random one per chart, so that several charts can share a page's HTML).
PICTURE_ID = "indicateur"
# The style sheet of a picture drawn in `STYLE`, by the number of its series (its colours): the
# same for every such picture with as many series, as all share `PICTURE_ID` and `_config`.
_STYLE_SHEETS: dict[tuple[str, int], str] = {}


class _ImageSvg(Svg):
    """pygal's SVG writer, for a picture shown as an image."""

    def add_scripts(self) -> None:
        """pygal writes the chart's whole configuration, as JSON in a ``<script>``, for its
        tooltips script; an image runs no script, and the pictures carry none."""
        return None

    def add_styles(self) -> None:
        """pygal fills three style sheets from templates and minifies them with regular
        expressions for every chart: a sixth of the time to draw it, for the same text each time."""
        if self.graph.style is not STYLE:
            super().add_styles()
            return
        key = (self.id, self.graph._order)
        sheet = _STYLE_SHEETS.get(key)
        if sheet is None:
            super().add_styles()
            _STYLE_SHEETS[key] = self.defs.find("style").text
        else:
            self.node(self.defs, "style", type="text/css").text = sheet


class _LegendAcross:
    """pygal starts a legend under the chart where the plot starts, right of the labels beside
    the bars: in a narrow picture that leaves a long name (a situation at exit) some fifteen
    characters. Here it starts at the picture's margin and has its whole width."""

    def _legend(self) -> None:
        box = self.margin_box  # type: ignore[attr-defined]
        left = box.left
        box.left = self.margin  # type: ignore[attr-defined]
        try:
            super()._legend()  # type: ignore[misc]
        finally:
            box.left = left


class _Picture(_StateInPlace, _LegendAcross, _NoTooltips):
    """What the three kinds of picture share: the state in place, the legend across, no
    tooltips, a fixed id, and `_ImageSvg` to write them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uuid = PICTURE_ID

    def _draw(self) -> None:
        self.svg = _ImageSvg(self)
        super()._draw()  # type: ignore[misc]


class Line(_Picture, pygal.Line):
    pass


class HorizontalBar(_Picture, pygal.HorizontalBar):
    pass


class HorizontalStackedBar(_Picture, pygal.HorizontalStackedBar):
    pass


def tostring(chart: Any) -> bytes:
    """The SVG of `chart`. pygal's `render` writes its tree through ElementTree's UTF-8 writer,
    a codec call for each of the ~800 pieces of a picture; written as text and encoded once,
    the same bytes in two thirds of the time."""
    return XML_DECLARATION + ElementTree.tostring(chart.render_tree(), encoding="unicode").encode()


XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


def _count(cell: Any) -> int | None:
    return cell if isinstance(cell, int) and not isinstance(cell, bool) else None


def _count_columns(table: Table) -> list[int]:
    skip = {"total"}
    return [i for i, column in enumerate(table.columns) if column.kind == "count" and column.key not in skip]


def _spaced(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _printed_from(least: float) -> Any:
    """pygal's formatter of the values printed in the bars: none below `least`."""
    return lambda value: _spaced(value) if value >= least else ""


def _config(table: Table, rows: int, series: int = 1) -> dict[str, Any]:
    """pygal's options for `table` drawn with `rows` bars (or points) and `series` names in its
    legend, one a line (the height grows with them, so that the plot keeps its own)."""
    return {
        "js": [],
        "style": STYLE,
        "width": WIDTH,
        "height": max(240, 60 + BAR * rows) + LEGEND_LINE * (series - 1),
        "print_values": True,
        "print_zeroes": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1,
        "truncate_label": LABEL_CHARACTERS,
        "truncate_legend": LEGEND_CHARACTERS,
        "show_y_guides": False,
        "margin": MARGIN,
        "no_data_text": "Aucune donnée à dessiner",
        "value_formatter": _spaced,
    }


def _short_month(row: Row) -> str:
    """« janv. 26 » for the row of month ``2026-01`` (under the line, in the narrow picture of a
    phone); the row's own label otherwise."""
    year, _, month = row.key.partition("-")
    if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        return row.label
    return f"{MONTHS_SHORT_FR[int(month) - 1]} {year[-2:]}"


def _beside(label: str) -> str:
    return truncate(label, LABEL_CHARACTERS)


def render(table: Table) -> bytes | None:
    """The SVG of `table`, or None when it has no picture or nothing to draw."""
    rows = [row for row in table.rows if not row.total]
    columns = _count_columns(table)
    if table.key not in PICTURED or table.chart == "none" or not rows or not columns:
        return None
    if not any(_count(row.cells[i]) for row in rows for i in columns):
        return None
    chart: Any
    if table.chart == "series":
        every = -(-len(rows) // MONTHS_NAMED)
        chart = Line(
            # Taller than the bars' least: the slanted months take ~50 px under the plot.
            **_config(table, 9, len(columns)),
            max_scale=GRADUATIONS,
            x_label_rotation=60,
            show_minor_x_labels=every == 1,
            x_labels_major_every=every,
            fill=False,
            # A month left out (« < 5 ») breaks the line: joined across it, the line would
            # draw a slope through months nobody counted.
            allow_interruptions=True,
        )
        chart.x_labels = [_short_month(row) for row in rows]
        for i in columns:
            chart.add(table.columns[i].label, [_count(row.cells[i]) for row in rows])
    elif table.chart == "flow":
        rows.reverse()  # pygal draws the first bar at the bottom: the table's first row on top
        drawn = [i for i in columns if any(_count(row.cells[i]) for row in rows)]
        # The situations at exit have long names: their legend is one a line, under the bars,
        # across the picture (`_LegendAcross`), cut at its width (the table names them in full).
        # A count is printed in its part of a bar when the part has room for it, an eighth of the
        # longest bar (~30 px: three digits); narrower, the numbers of the parts would overlap.
        longest = max(sum(_count(row.cells[i]) or 0 for i in drawn) for row in rows)
        chart = HorizontalStackedBar(
            **_config(table, len(rows), len(drawn)),
            max_scale=GRADUATIONS,
            formatter=_printed_from(longest / SLICE),
        )
        chart.x_labels = [_beside(row.label.removeprefix("À l'entrée : ")) for row in rows]
        for i in drawn:
            chart.add(f"À la sortie : {table.columns[i].label}", [_count(row.cells[i]) for row in rows])
    else:
        rows.reverse()  # as above
        chart = HorizontalBar(
            **_config(table, len(rows) * max(1, len(columns)), len(columns)), max_scale=GRADUATIONS
        )
        chart.x_labels = [_beside(row.label) for row in rows]
        for i in columns:
            chart.add(table.columns[i].label, [_count(row.cells[i]) for row in rows])
    chart.title = table.title
    return tostring(chart)


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
