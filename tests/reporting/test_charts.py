"""The pictures of the indicators (`reporting/charts.py`), without a database: what a picture
holds (its title, labels, the values printed, its legend), what it leaves out (a protected
« < 5 », totals, any script or outside address), and that the ways it is drawn for less
(`_StateInPlace`, `_ImageSvg`, `tostring`) draw what pygal itself draws."""

from __future__ import annotations

import base64
import re
from typing import Any
from xml.etree import ElementTree

import pygal
import pytest

from referral.reporting import charts
from referral.reporting.figures import SMALL, Column, Ratio, Row, Table

SVG = "{http://www.w3.org/2000/svg}"


def monthly() -> Table:
    months = ["janvier 2026", "février 2026", "mars 2026", "avril 2026", "mai 2026", "juin 2026"]
    entries = [12, 0, 35, SMALL, 1250, 40]
    exits = [0, 5, SMALL, 20, 15, 30]
    return Table(
        "activity_monthly",
        "Entrées et sorties par mois",
        (Column("entries", "Entrées"), Column("exits", "Sorties")),
        tuple(
            Row(f"m{i}", month, (e, x))
            for i, (month, e, x) in enumerate(zip(months, entries, exits, strict=True))
        ),
        chart="series",
    )


def flows() -> Table:
    columns = (
        Column("street", "Rue, squat, abri de fortune"),
        Column("emergency", "Hébergement d'urgence ou hôtel"),
        Column("autonomous", "Logement autonome (social ou privé)"),
        Column("unknown", "Non renseigné"),
        Column("total", "Total"),
    )
    rows = (
        Row("street", "À l'entrée : Rue, squat, abri de fortune", (25, 40, 10, 0, 75)),
        Row("emergency", "À l'entrée : Hébergement d'urgence ou hôtel", (SMALL, 60, 35, 0, 100)),
        Row("autonomous", "À l'entrée : Logement autonome (social ou privé)", (0, SMALL, 85, 0, 90)),
        Row("total", "Total à la sortie", (30, 100, 130, 0, 265), total=True),
    )
    return Table("housing_flows", "Logement : de l'entrée à la sortie", columns, rows, chart="flow")


def needs() -> Table:
    columns = (
        Column("open", "Freins ouverts"),
        Column("without", "Sans orientation"),
        Column("share", "Part sans orientation", kind="share"),
    )
    rows = (
        Row("employment", "Emploi", (145, 50, Ratio(50, 145))),
        Row("housing", "Logement", (90, 65, Ratio(65, 90))),
        Row("health", "Santé", (SMALL, SMALL, Ratio(SMALL, SMALL))),
        Row("all", "Tous les domaines", (4815, 2230, Ratio(2230, 4815)), total=True),
    )
    return Table("needs_without_answer", "Besoins sans réponse", columns, rows, chart="bars")


def picture(table: Table) -> tuple[bytes, ElementTree.Element]:
    svg = charts.render(table)
    assert svg is not None
    return svg, ElementTree.fromstring(svg)


def texts(root: ElementTree.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def values(root: ElementTree.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "value"]


@pytest.mark.parametrize("table", [monthly(), flows(), needs()], ids=lambda t: t.key)
def test_a_picture_carries_no_script_and_no_outside_address(table: Table) -> None:
    svg, root = picture(table)
    assert svg.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<svg")
    assert not list(root.iter(f"{SVG}script"))
    assert b"<script" not in svg
    # No address but the SVG namespace's, and pygal's own in its comments: no CDN, no outside style.
    addresses = re.findall(rb"https?://[^\"<> ]*", re.sub(rb"<!--.*?-->", b"", svg))
    assert addresses == [b"http://www.w3.org/2000/svg"]
    assert b"xml-stylesheet" not in svg
    assert root.get("id") == "chart-indicateur"
    # Its style sheet is in it: the series' colours, the fonts of `STYLE`.
    style = root.find(f"{SVG}defs/{SVG}style")
    assert style is not None
    assert style.text
    assert "#0072B2" in style.text
    assert "Marianne" in style.text


def test_bars_show_the_title_the_rows_the_values_and_the_legend_without_the_protected_cells() -> None:
    _, root = picture(needs())
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == "Besoins sans réponse"  # type: ignore[union-attr]
    shown = texts(root)
    assert "Besoins sans réponse" in shown
    assert {"Emploi", "Logement", "Santé"} <= set(shown)
    # In the table's order from the top (pygal would draw the first row at the bottom).
    heights = {
        t.text: float(t.get("y") or 0) for t in root.iter(f"{SVG}text") if t.text in {"Emploi", "Santé"}
    }
    assert heights["Emploi"] < heights["Santé"]
    assert {"Freins ouverts", "Sans orientation"} <= set(shown)
    assert "Part sans orientation" not in shown  # a share is not a count: not drawn
    assert sorted(v for v in values(root) if v) == sorted(["145", "50", "90", "65"])
    # Santé is « < 5 » in both columns: no bar, no value, and « < 5 » is nowhere.
    assert SMALL not in shown
    assert "Tous les domaines" not in shown  # totals are not drawn
    assert "4\u202f815" not in shown
    bars = [r for r in root.iter(f"{SVG}rect") if "rect" in (r.get("class") or "").split()]
    assert len(bars) == 4


def test_a_flow_stacks_the_exits_of_each_situation_at_entry() -> None:
    _, root = picture(flows())
    shown = texts(root)
    # One bar per situation at entry (the prefix dropped, a long name cut to the room beside the
    # bars), one series per situation at exit that has someone; « Non renseigné » has nobody and
    # no legend.
    assert {"Rue, squat, abri de for…", "Hébergement d'urgence o…", "Logement autonome (soci…"} <= set(shown)
    assert not any(text.startswith("À l'entrée") for text in shown)
    legend = [g for g in root.iter(f"{SVG}g") if "legend" in (g.get("class") or "").split()]
    legends = [t.text for g in legend for t in g.iter(f"{SVG}text")]
    # One a line under the bars, from the picture's left margin (not from the bars), in full when
    # it fits the picture's width.
    assert legends == [
        "À la sortie : Rue, squat, abri de fortune",
        "À la sortie : Hébergement d'urgence ou hôtel",
        "À la sortie : Logement autonome (social ou privé)",
    ]
    lines = {float(t.get("y") or 0) for g in legend for t in g.iter(f"{SVG}text")}
    assert len(lines) == 3
    starts = {g.get("transform") for g in root.iter(f"{SVG}g") if g.get("class") == "legends"}
    assert len(starts) == 1
    assert starts.pop().startswith(f"translate({charts.MARGIN + 10}, ")  # margin + pygal's spacing
    # Each part of a bar has its count, unless it is too short to hold it: 10 of the longest
    # bar's 95 (less than an eighth) is drawn and not written (the table says it).
    assert sorted(int(v) for v in values(root) if v) == sorted([25, 40, 60, 35, 85])


def test_a_monthly_series_is_a_line_with_thousands_spaced() -> None:
    _, root = picture(monthly())
    shown = texts(root)
    assert {"janvier 2026", "juin 2026", "Entrées", "Sorties"} <= set(shown)
    assert "1\u202f250" in values(root)
    assert SMALL not in shown
    assert len(list(root.iter(f"{SVG}path"))) >= 2


def test_nothing_to_draw_gives_no_picture() -> None:
    table = needs()
    protected = Table(
        table.key,
        table.title,
        table.columns,
        tuple(Row(r.key, r.label, (SMALL, SMALL, Ratio(SMALL, SMALL)), r.total) for r in table.rows),
    )
    assert charts.render(protected) is None
    unpictured = Table("exit_types", "Types de sortie", table.columns, table.rows)
    assert charts.render(unpictured) is None
    pictures = charts.pictures([protected, unpictured, needs()])
    assert list(pictures) == ["needs_without_answer"]
    svg = base64.b64decode(pictures["needs_without_answer"].removeprefix("data:image/svg+xml;base64,"))
    assert svg == charts.render(needs())


def _as_pygal_draws(monkeypatch: pytest.MonkeyPatch, table: Table) -> bytes:
    """`table` drawn by pygal as it is, with only the tooltip data left out and the legend
    moved across (`_LegendAcross`, a layout, not a way to draw for less). The class names are
    the same: pygal names the picture's main group after its chart's class."""
    with monkeypatch.context() as patch:
        for kind in (pygal.Line, pygal.HorizontalBar, pygal.HorizontalStackedBar):
            bases = (charts._LegendAcross, charts._NoTooltips, kind)
            patch.setattr(charts, kind.__name__, type(kind.__name__, bases, {}))
        patch.setattr(charts, "tostring", lambda chart: chart.render())
        svg = charts.render(table)
    assert svg is not None
    # What the pictures leave out on purpose: the script, and the random id of each chart.
    svg = re.sub(rb"<script.*?</script>", b"", svg, flags=re.S)
    return re.sub(rb"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", charts.PICTURE_ID.encode(), svg)


@pytest.mark.parametrize("table", [monthly(), flows(), needs()], ids=lambda t: t.key)
def test_the_pictures_are_what_pygal_draws(monkeypatch: pytest.MonkeyPatch, table: Table) -> None:
    monkeypatch.setattr(charts, "_STYLE_SHEETS", {})
    first = charts.render(table)  # its style sheet made by pygal
    again = charts.render(table)  # and kept
    assert first == again == _as_pygal_draws(monkeypatch, table)


def test_a_drawn_state_serves_only_its_chart() -> None:
    """The state put in place is the chart's own: two charts drawn one after the other, or one
    drawn and another made after, share nothing."""
    first: Any = charts.HorizontalBar(**charts._config(needs(), 2))
    first.add("Une", [1, 2])
    first.render_tree()
    second: Any = charts.HorizontalBar(**charts._config(needs(), 2))
    assert "series" not in second.__dict__
    second.add("Deux", [3, 4])
    labels = [t.text for t in second.render_tree().iter("text")]
    assert "Deux" in labels
    assert "Une" not in labels


def test_a_narrow_picture_cuts_long_labels_beside_bars_and_lists_its_legend_one_a_line() -> None:
    columns = (
        Column("employment", "En emploi ou en parcours"),
        Column("lost", "Sans offre sur le territoire"),
    )
    rows = (
        Row("mental", "Santé mentale et addictions", (70, 35)),
        Row("short", "Emploi", (20, 10)),
    )
    _, root = picture(Table("needs_without_answer", "Besoins sans réponse", columns, rows, chart="bars"))
    assert root.get("viewBox", "").split()[2] == str(charts.WIDTH)
    shown = texts(root)
    # 24 characters beside the bars at most (the table names the row in full).
    assert "Santé mentale et addict…" in shown
    assert "Santé mentale et addictions" not in shown
    assert "Emploi" in shown
    legend = [g for g in root.iter(f"{SVG}g") if "legend" in (g.get("class") or "").split()]
    assert [t.text for g in legend for t in g.iter(f"{SVG}text")] == [
        "En emploi ou en parcours",
        "Sans offre sur le territoire",
    ]
    assert len({float(t.get("y") or 0) for g in legend for t in g.iter(f"{SVG}text")}) == 2
    # A few graduations under the bars, not pygal's dozen run together.
    graduations = [
        t.text for g in root.iter(f"{SVG}g") if "axis" in (g.get("class") or "") for t in g.iter(f"{SVG}text")
    ]
    assert 3 <= len([t for t in graduations if t and t.isdigit()]) <= charts.GRADUATIONS + 1


def test_a_long_series_names_every_other_month() -> None:
    months = [f"mois {i}" for i in range(24)]
    table = Table(
        "activity_monthly",
        "Entrées et sorties par mois",
        (Column("entries", "Entrées"),),
        tuple(Row(f"m{i}", month, (10 + i,)) for i, month in enumerate(months)),
        chart="series",
    )
    _, root = picture(table)
    named = [text for text in texts(root) if text.startswith("mois ")]
    assert named == months[::2]


def test_months_of_the_period_are_named_short_and_a_hidden_month_breaks_the_line() -> None:
    """Under the line, « janv. 26 » (the table beside names the month in full); a month whose
    count is protected is left out and the line stops there rather than joining across it."""

    def series(entries: list[Any]) -> Table:
        return Table(
            "activity_monthly",
            "Entrées et sorties par mois",
            (Column("entries", "Entrées"),),
            tuple(Row(f"2026-{i + 1:02d}", f"mois {i + 1}", (count,)) for i, count in enumerate(entries)),
            chart="series",
        )

    def lines(table: Table) -> int:
        _, root = picture(table)
        return sum(1 for path in root.iter(f"{SVG}path") if path.get("class") == "line reactive nofill")

    _, root = picture(series([12, 30, 7, 9]))
    assert [t for t in texts(root) if t.endswith(" 26")] == ["janv. 26", "févr. 26", "mars 26", "avr. 26"]
    assert lines(series([12, 30, 7, 9])) == 1
    assert lines(series([12, 30, SMALL, 9, 15])) == 2
