"""The ecosystem drawn server-side as SVG (« carte de l'écosystème »), readable without JavaScript.

Layout: four columns read left to right like the referral itself — structures, partners
(grouped by main domain, alphabetical within a group), domains, then CPs and national
partnerships. Columns rather than a force layout because every label is then horizontal and
never overlaps another (one row per node), and because the result is a pure function of the
graph: no random seed, no floating iteration, the same picture on every machine. A structure,
a domain, a CP or a national partnership sits at the barycentre of the partners it is linked to
(pushed apart just enough to keep one row each), which keeps most edges short and flat.

Output: one ``<g class="node" data-kind=… data-node=…>`` per graph node, holding a ``<title>``
(the accessible name, with the figures behind the node) and, when `link_for` gives a URL, an
``<a href>`` around the shape and label, so each node is a keyboard-reachable link to its page.
The document is written by a small streaming writer that escapes every value that comes from
data (names, titles, links) and drops characters XML cannot hold; element and attribute names are
constants. Links must be relative paths or http(s) URLs, so a caller's bug cannot inject a
``javascript:`` link.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from referral.network.graph import (
    CP,
    DEPLOYMENT,
    DOMAIN,
    FOLLOWS,
    KIND_LABELS,
    NATIONAL_NETWORK,
    OFFERS,
    PARTNER,
    REFERRAL,
    RELATION_LABELS,
    STRUCTURE,
    domain_sort_key,
)
from referral.network.wording import fr_percent, plural

LinkFor = Callable[[str], str | None]

# Colours of the design's domains: distinct hues, dark enough for white text halos to read.
DOMAIN_COLOURS: dict[str, str] = {
    "emploi": "#1f77b4",
    "formation": "#17becf",
    "logement": "#d62728",
    "hebergement": "#ff7f0e",
    "sante": "#2ca02c",
    "sante_mentale": "#9467bd",
    "acces_droits": "#8c564b",
    "mobilite": "#e377c2",
    "langue": "#bcbd22",
    "numerique": "#393b79",
    "budget": "#b8860b",
    "justice": "#637939",
    "famille": "#e7969c",
}
# For domain codes outside the design's list, assigned in sorted order (never by hash()).
EXTRA_COLOURS = ("#6b6ecf", "#8ca252", "#bd9e39", "#ad494a", "#a55194", "#3182bd", "#31a354")
NO_DOMAIN_COLOUR = "#9e9e9e"
KIND_COLOURS: dict[str, str] = {
    STRUCTURE: "#34495e",
    CP: "#ffffff",
    NATIONAL_NETWORK: "#f1c40f",
}

ROW = 18  # px per row: 12 px labels with room between them
FONT_SIZE = 12
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TOP = 70  # room for the title and the column headers
MARGIN = 24
LABEL_CHARS = 42
CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, to size columns
SVG_NS = "http://www.w3.org/2000/svg"
# A white outline under every label, so that a label stays readable where edges cross it.
HALO = {"paint-order": "stroke", "stroke": "#ffffff", "stroke-width": "3", "stroke-linejoin": "round"}
# Beyond this many referral edges, edges get no tooltip: on a large territory the tooltips would
# weigh more than the picture, and the figures are in the nodes' titles and the analytics anyway.
EDGE_TITLES_MAX = 1_500
COLUMN_HEADERS = {
    STRUCTURE: "Structures",
    PARTNER: "Partenaires (par domaine principal)",
    DOMAIN: "Domaines",
    CP: "CP et partenariats nationaux",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """Positions of the nodes, and the size of the drawing."""

    positions: dict[str, tuple[float, float]]
    width: float
    height: float
    columns: dict[str, float]
    sectors: dict[str | None, tuple[float, float]]
    occupied: frozenset[str | None]  # sectors with at least one partner


def domain_colours(codes: list[str]) -> dict[str, str]:
    """The colour of each domain code; unknown codes get the extra palette in sorted order."""
    colours = {}
    extra = 0
    for code in sorted(codes, key=domain_sort_key):
        if code in DOMAIN_COLOURS:
            colours[code] = DOMAIN_COLOURS[code]
        else:
            colours[code] = EXTRA_COLOURS[extra % len(EXTRA_COLOURS)]
            extra += 1
    return colours


def _spread(desired: list[tuple[float, str]], gap: float, top: float) -> dict[str, float]:
    """Place items near their desired y, in order, at least `gap` apart, none above `top`."""
    placed: dict[str, float] = {}
    previous = top - gap
    for y, node in sorted(desired):
        current = max(y, previous + gap)
        placed[node] = current
        previous = current
    return placed


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def layered_layout(graph: nx.DiGraph) -> Layout:
    """Deterministic column layout (see the module docstring); a pure function of the graph."""
    kinds = dict(graph.nodes(data="kind"))
    names = {node: str(graph.nodes[node].get("label", node)) for node in graph}
    domains = sorted(
        (node for node in graph if kinds.get(node) == DOMAIN),
        key=lambda node: domain_sort_key(str(graph.nodes[node].get("code", node))),
    )
    domain_codes = [str(graph.nodes[node].get("code", node)) for node in domains]

    # Partners, grouped by main domain in the design's order; a group is at least one row tall so
    # that every domain node has a place; one empty row between groups.
    groups: dict[str | None, list[str]] = defaultdict(list)
    for node in graph:
        if kinds.get(node) == PARTNER:
            primary = graph.nodes[node].get("primary_domain")
            groups[primary if primary in domain_codes else None].append(node)
    positions: dict[str, tuple[float, float]] = {}
    sectors: dict[str | None, tuple[float, float]] = {}
    row = 0
    partner_y: dict[str, float] = {}
    for code in [*domain_codes, None]:
        members = sorted(groups.get(code, ()), key=lambda node: (names[node].casefold(), node))
        if code is None and not members:
            continue
        first = row
        for member in members:
            partner_y[member] = TOP + row * ROW
            row += 1
        row = max(row, first + 1)
        sectors[code] = (TOP + first * ROW, TOP + (row - 1) * ROW)
        row += 1

    def barycentre(node: str, weight_key: str | None = None) -> float | None:
        total = weight = 0.0
        for neighbour in nx.all_neighbors(graph, node):
            if neighbour in partner_y:
                data = graph.get_edge_data(node, neighbour) or graph.get_edge_data(neighbour, node) or {}
                w = float(data.get(weight_key, 1)) if weight_key else 1.0
                total += w * partner_y[neighbour]
                weight += w
        return total / weight if weight else None

    domain_desired = []
    for node, code in zip(domains, domain_codes, strict=True):
        sector_top, sector_bottom = sectors[code]
        domain_desired.append(((sector_top + sector_bottom) / 2, node))

    def column(kind_set: tuple[str, ...], weight_key: str | None) -> list[tuple[float, str]]:
        members = sorted((node for node in graph if kinds.get(node) in kind_set), key=lambda n: (names[n], n))
        linked: list[tuple[float, str]] = []
        unlinked: list[str] = []
        for node in members:
            y = barycentre(node, weight_key)
            if y is None:
                unlinked.append(node)
            else:
                linked.append((y, node))
        # Unlinked ones go below the linked ones, alphabetically.
        bottom = max((y for y, _ in linked), default=TOP)
        return linked + [(bottom + ROW * (i + 1), node) for i, node in enumerate(unlinked)]

    structure_y = _spread(column((STRUCTURE,), "count"), ROW, TOP)
    domain_y = _spread(domain_desired, ROW * 1.5, TOP)
    side_y = _spread(column((CP, NATIONAL_NETWORK), None), ROW * 1.5, TOP)

    # Column x positions from the widest labels (or header) they carry.
    def widest(nodes: list[str], bold: bool = False) -> float:
        chars = max((len(_label(names[node])) for node in nodes), default=8)
        return chars * CHAR_WIDTH * (1.1 if bold else 1.0)

    def header(kind: str) -> float:
        return len(COLUMN_HEADERS[kind]) * CHAR_WIDTH * 1.1

    x_structure = MARGIN + max(widest(list(structure_y)) + 16, header(STRUCTURE))
    x_partner = x_structure + 260
    x_domain = x_partner + max(widest(list(partner_y)) + 20, header(PARTNER)) + 110
    x_side = x_domain + max(widest(list(domain_y), bold=True) + 20, header(DOMAIN)) + 110
    width = x_side + max(widest(list(side_y)) + 20, header(CP)) + MARGIN
    columns = {STRUCTURE: x_structure, PARTNER: x_partner, DOMAIN: x_domain, CP: x_side}

    for node, y in structure_y.items():
        positions[node] = (x_structure, y)
    for node, y in partner_y.items():
        positions[node] = (x_partner, y)
    for node, y in domain_y.items():
        positions[node] = (x_domain, y)
    for node, y in side_y.items():
        positions[node] = (x_side, y)
    # Nodes of an unknown kind (a graph from elsewhere): one row each under the side column.
    bottom = max((y for _, y in positions.values()), default=TOP)
    for node in graph:
        if node not in positions:
            bottom += ROW
            positions[node] = (x_side, bottom)
    height = max((y for _, y in positions.values()), default=TOP) + ROW + MARGIN
    rounded = {node: (round(x, 1), round(y, 1)) for node, (x, y) in positions.items()}
    return Layout(
        positions=rounded,
        width=round(width, 1),
        height=round(height, 1),
        columns=columns,
        sectors=sectors,
        occupied=frozenset(code for code, members in groups.items() if members),
    )


def _safe_href(url: str) -> str:
    if url.startswith(("/", "#", "./", "../", "http://", "https://")) and not url.startswith("//"):
        return url
    raise ValueError(f"refusing link {url!r}: only relative paths and http(s) URLs are drawn")


def _fr_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _domain_names(graph: nx.DiGraph) -> dict[str, str]:
    return {
        str(data.get("code")): str(data.get("label", data.get("code")))
        for _, data in graph.nodes(data=True)
        if data.get("kind") == DOMAIN
    }


def node_title(graph: nx.DiGraph, node: str, domain_names: dict[str, str] | None = None) -> str:
    """The accessible name of a node: its name and the figures behind it, in French."""
    data = graph.nodes[node]
    kind = data.get("kind")
    name = str(data.get("name", data.get("label", node)))
    if domain_names is None:
        domain_names = _domain_names(graph)
    if kind == STRUCTURE:
        sent = sum(
            d.get("count", 0) for _, _, d in graph.out_edges(node, data=True) if d.get("relation") == REFERRAL
        )
        parts = [
            plural(int(data.get("participants", 0)), "salarié·e accompagné·e", "salarié·es accompagné·es"),
            plural(int(data.get("open_needs", 0)), "besoin ouvert", "besoins ouverts"),
            plural(sent, "orientation", "orientations"),
        ]
        return f"{name} (structure) : {', '.join(parts)}"
    if kind == PARTNER:
        received = [d for _, _, d in graph.in_edges(node, data=True) if d.get("relation") == REFERRAL]
        count = sum(d["count"] for d in received)
        accepted = sum(d["accepted"] for d in received)
        codes = [code for code in str(data.get("domains", "")).split(";") if code]
        parts = [f"{name} (partenaire)"]
        if codes:
            parts.append("domaines : " + ", ".join(domain_names.get(code, code) for code in codes))
        text = plural(count, "orientation reçue", "orientations reçues")
        if count:
            text += f", {fr_percent(accepted / count)} acceptées"
        parts.append(text)
        parts.append(plural(int(data.get("places_left", 0)), "place disponible", "places disponibles"))
        if "national_network" in data:
            parts.append("partenariat national")
        if "convention_ends_on" in data:
            parts.append(f"convention jusqu'au {_fr_date(data['convention_ends_on'])}")
        elif "convention_signed_on" in data:
            parts.append(f"convention signée le {_fr_date(data['convention_signed_on'])}")
        return " ; ".join(parts)
    if kind == DOMAIN:
        needs = plural(int(data.get("open_needs", 0)), "besoin ouvert", "besoins ouverts")
        places = plural(int(data.get("places_left", 0)), "place disponible", "places disponibles")
        return f"{name} (domaine) : {needs}, {places}"
    if kind == CP:
        codes = [code for code in str(data.get("domains", "")).split(";") if code]
        followed = sum(1 for _ in graph.successors(node))
        text = f"{name} (chargé·e de partenariats)"
        if codes:
            text += " : " + ", ".join(domain_names.get(code, code) for code in codes)
        return f"{text} ; suit {plural(followed, 'partenaire')}"
    if kind == NATIONAL_NETWORK:
        local = sum(1 for _ in graph.successors(node))
        return f"{name} (partenariat national) : {plural(local, 'déploiement local', 'déploiements locaux')}"
    return name


def _edge_title(graph: nx.DiGraph, source: str, target: str, data: dict) -> str:
    a = graph.nodes[source].get("name", source)
    b = graph.nodes[target].get("name", target)
    text = f"{a} → {b} : {plural(int(data['count']), 'orientation')}"
    if data["count"]:
        text += f", {fr_percent(data['accepted'] / data['count'])} acceptées"
    if "median_answer_days" in data:
        days = data["median_answer_days"]
        text += f", réponse en {days:g} jour{'s' if days > 1 else ''} (médiane)".replace(".", ",")
    return text


# Characters XML 1.0 forbids even escaped (control characters, lone surrogates, U+FFFE/FFFF):
# a name holding one would make the whole picture unreadable, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Anything that needs work in a text or an attribute value; most values (numbers, colours) have
# none, and one search is much cheaper than the escaping itself.
_SPECIAL = re.compile('[&<>"\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def escape_text(value: str) -> str:
    """Text content: the three markup characters escaped, non-XML characters dropped."""
    if not _SPECIAL.search(value):
        return value
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    """A double-quoted attribute value; whitespace escaped so parsers keep it as written."""
    if not _SPECIAL.search(value):
        return value
    return (
        escape_text(value)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


class _Writer:
    """A minimal streaming XML writer: every text and attribute value goes through the escapes.

    Chosen over xml.etree because serialising a large territory with ElementTree took longer than
    building the graph and its analytics together; element and attribute names are constants of
    this module, only values come from data.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []

    @staticmethod
    def _attributes(attrs: dict[str, str]) -> str:
        return "".join(f' {name}="{escape_attribute(value)}"' for name, value in attrs.items())

    def open(self, tag: str, attrs: dict[str, str] | None = None) -> None:
        self.parts.append(f"<{tag}{self._attributes(attrs or {})}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def element(self, tag: str, attrs: dict[str, str] | None = None, text: str | None = None) -> None:
        attributes = self._attributes(attrs or {})
        if text is None:
            self.parts.append(f"<{tag}{attributes}/>")
        else:
            self.parts.append(f"<{tag}{attributes}>{escape_text(text)}</{tag}>")

    def result(self) -> str:
        return "".join(self.parts)


def _shape(out: _Writer, kind: str | None, x: float, y: float, fill: str) -> None:
    common = {"fill": fill, "stroke": "#1b1b1b", "stroke-width": "1"}
    if kind == STRUCTURE:
        out.element("rect", {"x": f"{x - 6:g}", "y": f"{y - 6:g}", "width": "12", "height": "12", **common})
    elif kind == CP:
        points = f"{x:g},{y - 8:g} {x + 8:g},{y:g} {x:g},{y + 8:g} {x - 8:g},{y:g}"
        out.element("polygon", {"points": points, **common})
    elif kind == NATIONAL_NETWORK:
        points = " ".join(
            f"{x + 8 * math.cos(math.pi / 3 * i):.1f},{y + 8 * math.sin(math.pi / 3 * i):.1f}"
            for i in range(6)
        )
        out.element("polygon", {"points": points, **common})
    elif kind == DOMAIN:
        out.element("circle", {"cx": f"{x:g}", "cy": f"{y:g}", "r": "9", **common})
    else:
        out.element("circle", {"cx": f"{x:g}", "cy": f"{y:g}", "r": "5.5", **common})


def _text(
    out: _Writer, x: float, y: float, text: str, *, anchor: str = "start", weight: str = "normal"
) -> None:
    attrs = {"x": f"{x:g}", "y": f"{y + 4:g}", **HALO}
    if anchor != "start":
        attrs["text-anchor"] = anchor
    if weight != "normal":
        attrs["font-weight"] = weight
    out.element("text", attrs, text)


def render_svg(
    graph: nx.DiGraph,
    *,
    link_for: LinkFor | None = None,
    title: str | None = None,
    description: str | None = None,
    layout: Layout | None = None,
) -> str:
    """The graph as an SVG document (a string, no XML declaration, ready to inline in a page).

    `link_for(node_id)` returns the URL of a node's page or None (no link); node ids are those of
    `referral.network.graph` (use `parse_node_id` to get the kind and database id back).
    """
    layout = layout or layered_layout(graph)
    positions = layout.positions
    kinds = dict(graph.nodes(data="kind"))
    codes = [str(graph.nodes[node].get("code")) for node in graph if kinds.get(node) == DOMAIN]
    colours = domain_colours(codes)
    title = title or str(graph.graph.get("name", "Écosystème"))

    legend_width = 300.0
    width = layout.width + legend_width
    legend_rows = 4 + len(KIND_LABELS) + len(colours) + len(RELATION_LABELS)
    height = max(layout.height, TOP + legend_rows * ROW + MARGIN)
    out = _Writer()
    out.open(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": f"{width:g}",
            "height": f"{height:g}",
            "viewBox": f"0 0 {width:g} {height:g}",
            "role": "group",
            "aria-labelledby": "ecosysteme-titre ecosysteme-desc",
            "font-family": FONT_FAMILY,
            "font-size": str(FONT_SIZE),
            "fill": "#1b1b1b",
            "class": "ecosysteme",
        },
    )
    out.element("title", {"id": "ecosysteme-titre"}, title)
    counts: dict[str | None, int] = defaultdict(int)
    for kind in kinds.values():
        counts[kind] += 1
    out.element(
        "desc",
        {"id": "ecosysteme-desc"},
        description
        or (
            f"{plural(counts[STRUCTURE], 'structure')} à gauche, orientant vers "
            f"{plural(counts[PARTNER], 'partenaire')} regroupés par domaine principal, reliés à "
            f"{plural(counts[DOMAIN], 'domaine')} ; à droite, {plural(counts[CP], 'CP', 'CP')} et "
            f"{plural(counts[NATIONAL_NETWORK], 'partenariat national', 'partenariats nationaux')}. "
            "Chaque élément est un lien vers sa page."
        ),
    )
    out.element(
        "rect", {"x": "0", "y": "0", "width": f"{width:g}", "height": f"{height:g}", "fill": "#ffffff"}
    )
    out.element("text", {"x": f"{MARGIN}", "y": "24", "font-size": "16", "font-weight": "bold"}, title)

    out.open("g", {"class": "columns", "fill": "#555555", "font-weight": "bold"})
    for kind, anchor in ((STRUCTURE, "end"), (PARTNER, "start"), (DOMAIN, "start"), (CP, "start")):
        attrs = {"x": f"{layout.columns[kind]:g}", "y": f"{TOP - 24}", "text-anchor": anchor}
        out.element("text", attrs, COLUMN_HEADERS[kind])
    out.close("g")

    # Domain bands behind the partner column, so a group reads as one block of colour.
    out.open("g", {"class": "sectors"})
    for code, (first, last) in layout.sectors.items():
        if code is None:
            continue
        out.element(
            "rect",
            {
                "x": f"{layout.columns[PARTNER] - 12:g}",
                "y": f"{first - ROW / 2:g}",
                "width": "6",
                "height": f"{last - first + ROW:g}",
                "fill": colours.get(code, NO_DOMAIN_COLOUR),
            },
        )
        if code not in layout.occupied:
            attrs = {"x": f"{layout.columns[PARTNER]:g}", "y": f"{first + 4:g}", "fill": "#595959"}
            out.element("text", {**attrs, "font-style": "italic"}, "aucun partenaire")
    out.close("g")

    # Edges in one group per relation (and per colour for referrals), styles on the groups: the
    # paths themselves carry only their geometry, which keeps a large territory's file small.
    styles = {
        REFERRAL: {"stroke-opacity": "0.45"},
        OFFERS: {"stroke": "#9e9e9e", "stroke-width": "0.8", "stroke-opacity": "0.6"},
        FOLLOWS: {
            "stroke": "#555555",
            "stroke-width": "0.8",
            "stroke-opacity": "0.5",
            "stroke-dasharray": "4 3",
        },
        DEPLOYMENT: {"stroke": "#b7950b", "stroke-width": "1.2", "stroke-opacity": "0.8"},
    }
    referral_titles = (
        sum(1 for *_, relation in graph.edges(data="relation") if relation == REFERRAL) <= EDGE_TITLES_MAX
    )
    grouped: dict[tuple[str, str], list[tuple[str, str, dict]]] = defaultdict(list)
    for source, target, data in graph.edges(data=True):
        if source in positions and target in positions:
            relation = str(data.get("relation", ""))
            colour = colours.get(str(data.get("domain")), NO_DOMAIN_COLOUR) if relation == REFERRAL else ""
            grouped[relation, colour].append((source, target, data))
    out.open("g", {"class": "edges", "fill": "none"})
    for (relation, colour), members in grouped.items():
        attrs = {"class": f"edges-{relation or 'autre'}", **styles.get(relation, {"stroke": "#bdbdbd"})}
        if relation == REFERRAL:
            attrs["stroke"] = colour
        out.open("g", attrs)
        for source, target, data in members:
            (x1, y1), (x2, y2) = positions[source], positions[target]
            middle = (x1 + x2) / 2
            path = {"d": f"M{x1:g} {y1:g}C{middle:g} {y1:g} {middle:g} {y2:g} {x2:g} {y2:g}"}
            if relation == REFERRAL:
                path["stroke-width"] = f"{0.8 + 0.9 * math.log2(1 + float(data.get('count', 1))):.1f}"
            elif relation == DEPLOYMENT:
                path["stroke-dasharray"] = "1 3" if data.get("status") == "in_discussion" else "6 2"
            if relation == REFERRAL and referral_titles:
                out.open("path", path)
                out.element("title", None, _edge_title(graph, source, target, data))
                out.close("path")
            else:
                out.element("path", path)
        out.close("g")
    out.close("g")

    out.open("g", {"class": "nodes"})
    domain_names = _domain_names(graph)
    for index, node in enumerate(graph):
        data = graph.nodes[node]
        kind = data.get("kind")
        x, y = positions[node]
        out.open(
            "g", {"class": "node", "id": f"noeud-{index}", "data-kind": str(kind), "data-node": str(node)}
        )
        href = link_for(node) if link_for else None
        if href:
            out.open("a", {"href": _safe_href(href)})
        out.element("title", None, node_title(graph, node, domain_names))
        if kind == PARTNER:
            fill = colours.get(str(data.get("primary_domain")), NO_DOMAIN_COLOUR)
        elif kind == DOMAIN:
            fill = colours.get(str(data.get("code")), NO_DOMAIN_COLOUR)
        else:
            fill = KIND_COLOURS.get(str(kind), NO_DOMAIN_COLOUR)
        _shape(out, kind, x, y, fill)
        label = _label(str(data.get("label", node)))
        if kind == STRUCTURE:
            _text(out, x - 12, y, label, anchor="end")
        elif kind == DOMAIN:
            _text(out, x + 14, y, label, weight="bold")
        else:
            _text(out, x + 11, y, label)
        if href:
            out.close("a")
        out.close("g")
    out.close("g")

    _legend(out, layout.width + 10, colours, domain_names)
    out.close("svg")
    return out.result()


def _legend(out: _Writer, x: float, colours: dict[str, str], names: dict[str, str]) -> None:
    out.open("g", {"class": "legend"})
    y = float(TOP - 24)
    _text(out, x, y, "Légende", weight="bold")
    y += ROW
    for kind, label in KIND_LABELS.items():
        _shape(out, kind, x + 8, y, KIND_COLOURS.get(kind, NO_DOMAIN_COLOUR))
        _text(out, x + 22, y, label)
        y += ROW
    y += ROW / 2
    _text(out, x, y, "Couleur : domaine (principal)", weight="bold")
    y += ROW
    for code, colour in colours.items():
        out.element(
            "circle", {"cx": f"{x + 8:g}", "cy": f"{y:g}", "r": "5.5", "fill": colour, "stroke": "#1b1b1b"}
        )
        _text(out, x + 22, y, names.get(code, code))
        y += ROW
    y += ROW / 2
    _text(out, x, y, "Liens", weight="bold")
    y += ROW
    styles = {
        REFERRAL: {"stroke": "#1f77b4", "stroke-width": "3", "stroke-opacity": "0.6"},
        OFFERS: {"stroke": "#9e9e9e", "stroke-width": "1"},
        FOLLOWS: {"stroke": "#555555", "stroke-width": "1", "stroke-dasharray": "4 3"},
        DEPLOYMENT: {"stroke": "#b7950b", "stroke-width": "1.5", "stroke-dasharray": "6 2"},
    }
    for relation, label in RELATION_LABELS.items():
        out.element(
            "line", {"x1": f"{x:g}", "y1": f"{y:g}", "x2": f"{x + 16:g}", "y2": f"{y:g}", **styles[relation]}
        )
        _text(out, x + 22, y, label + (" (épaisseur : nombre)" if relation == REFERRAL else ""))
        y += ROW
    out.close("g")
