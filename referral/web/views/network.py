"""The « Écosystème » pages: a territory's network as a picture with its analytics beside it, and
the national view of the national team.

The territory page is a GET form (domain, period) that works without JavaScript: the filter is in
the URL, so a filtered view can be bookmarked or sent to a colleague. The picture is the engine's
SVG, inlined (no script, no inline style: the CSP holds); each partner in it links to the partner's
page of the network pages, each structure, domain, CP and national partnership to its line in the
tables below the picture — the same content as the picture, for people who read rather than look.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from referral.ecosystem import services
from referral.ecosystem.exceptions import InvalidNetworkFilter
from referral.ecosystem.services import NetworkFilter
from referral.network.graph import CP, DOMAIN, NATIONAL_NETWORK, PARTNER, STRUCTURE, parse_node_id
from referral.network.svg import domain_colours
from referral.web.auth import current_user, login_required
from referral.web.errors import flatten_messages
from referral.web.request_session import db_session
from referral.web.schemas.network import NetworkQuerySchema

bp = Blueprint("network_pages", __name__, url_prefix="/ecosysteme")

# Anchor prefixes of the page's tables, by node kind (French: they show in the address bar).
ANCHORS = {
    STRUCTURE: "structure",
    PARTNER: "partenaire",
    DOMAIN: "domaine",
    CP: "cp",
    NATIONAL_NETWORK: "partenariat",
}
PARTNER_PAGE = "partner_pages.partner"
_PLACEHOLDER_ID = 987654321


def node_links(slug: str, *, on_page: bool) -> Callable[[str], str | None]:
    """The link of each node of the picture.

    Partners lead to their page in the partner network's pages when that blueprint is there;
    everything else to its line in the tables of the « Écosystème » page (`on_page`: a bare
    anchor; otherwise, for the standalone SVG file, the page's address with the anchor).
    """
    base = "" if on_page else url_for("network_pages.territory", slug=slug)
    # One `url_for` for all partners (a large territory has hundreds): the rule's path with a
    # placeholder id, filled in per node.
    partner_path = (
        url_for(PARTNER_PAGE, partner_id=_PLACEHOLDER_ID)
        if PARTNER_PAGE in current_app.view_functions
        else None
    )

    def link(node: str) -> str | None:
        kind, key = parse_node_id(node)
        if kind == PARTNER and partner_path is not None:
            return partner_path.replace(str(_PLACEHOLDER_ID), str(key))
        prefix = ANCHORS.get(kind)
        return f"{base}#{prefix}-{key}" if prefix else None

    return link


@bp.get("/")
@login_required
def index() -> Response:
    """« Écosystème » in the navigation: one's own territory; the national view for the national team."""
    slug = services.ecosystem_home(db_session(), current_user())
    if slug is None:
        return redirect(url_for("network_pages.national"))
    return redirect(url_for("network_pages.territory", slug=slug))


def _refused_filter(slug: str, values: dict[str, str], errors: dict[str, list[str]]) -> tuple[str, int]:
    """The page with the form and its French messages, and nothing else (422).

    The territory is checked first, so a bad filter on another territory still answers 404.
    """
    session = db_session()
    territory = services.readable_territory(session, current_user(), slug)
    return render_template(
        "network/territory.html",
        slug=territory.slug,
        name=territory.name,
        page=None,
        values=values,
        errors=errors,
        domain_options=services.domain_options(session),
    ), 422


@bp.get("/<slug>")
@login_required
def territory(slug: str) -> Any:
    values = {key: value.strip() for key, value in request.args.items()}
    try:
        query = NetworkQuerySchema().load(request.args)
    except ValidationError as error:
        return _refused_filter(slug, values, flatten_messages(error.messages))
    network_filter = NetworkFilter(
        domain=query.get("domain"), since=query.get("since"), until=query.get("until")
    )
    try:
        page = services.ecosystem_page(
            db_session(), current_user(), slug, network_filter, link_for=node_links(slug, on_page=True)
        )
    except InvalidNetworkFilter as refusal:
        return _refused_filter(slug, values, refusal.errors)
    ecosystem = page.ecosystem
    query_args: dict[str, Any] = dict(network_filter.as_query())
    downloads = [
        (label, url_for(endpoint, slug=ecosystem.slug, **query_args), note)
        for label, endpoint, note in (
            ("GEXF (Gephi)", "network.network_gexf", "pour Gephi"),
            ("GraphML", "network.network_graphml", "pour Gephi, yEd, Cytoscape"),
            ("SVG", "network.network_svg", "la carte seule"),
            ("JSON", "network.network_graph", "données node-link"),
        )
    ]
    partner_page = PARTNER_PAGE in current_app.view_functions

    def body() -> str:
        codes = [row.key for row in ecosystem.tables.domains]
        return render_template(
            "network/_ecosystem.html",
            slug=ecosystem.slug,
            page=page,
            ecosystem=ecosystem,
            analytics=ecosystem.analytics,
            tables=ecosystem.tables,
            sections=page.sections,
            downloads=downloads,
            colours=domain_colours(codes),
            anchors=ANCHORS,
            partner_page=partner_page,
        )

    # Everything below the filter comes from the kept ecosystem alone (its filter included): drawn
    # once per kept ecosystem, like its picture. Rendering its tables was nearly all of a cached
    # page's time — 180 ms at the median for the largest generated territory (1,648 nodes).
    return render_template(
        "network/territory.html",
        slug=ecosystem.slug,
        name=ecosystem.name,
        page=page,
        body=Markup(ecosystem.kept_text(f"page:{partner_page}", body)),
        values=values,
        errors={},
        domain_options=page.domain_options,
    )


@bp.get("/national")
@login_required
def national() -> str:
    """Every territory side by side and the national partnerships × territories matrix, as the
    scheduled job last computed them."""
    figures = services.national_figures(db_session(), current_user())
    return render_template("network/national.html", figures=figures, sections=services.SECTION_EXPLANATIONS)
