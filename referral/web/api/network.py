"""The territorial ecosystem (DESIGN §9): the graph as node-link JSON, SVG, GEXF and GraphML, its
analytics with their French explanations, and the national figures precomputed by the job.

Every view parses the filter with `NetworkQuerySchema`, calls one service and dumps the result;
scope (coordinator and CPs of the territory, the national team) is checked by the service, and an
out-of-scope territory answers 404 like an unknown one.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from referral.ecosystem import services
from referral.ecosystem.services import NetworkFilter
from referral.network.export import MEDIA_TYPES
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.network import (
    NationalFiguresSchema,
    NetworkAnalyticsSchema,
    NetworkQuerySchema,
    NodeLinkSchema,
)
from referral.web.views.network import node_links

blp = Blueprint("network", __name__, description="Écosystème des territoires (graphe des partenaires)")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
ERRORS = {
    "403": {"description": "Rôle sans accès à l'écosystème (CIP)."},
    "404": {"description": "Territoire inconnu ou hors du périmètre."},
    "422": {"description": "Domaine inconnu, date invalide ou période à l'envers."},
}


def _filter(query: dict[str, Any]) -> NetworkFilter:
    return NetworkFilter(domain=query.get("domain"), since=query.get("since"), until=query.get("until"))


def _file_doc(fmt: str, what: str) -> dict[str, Any]:
    return {
        "security": SECURITY,
        "responses": {
            "200": {
                "description": what,
                "content": {MEDIA_TYPES[fmt]: {"schema": {"type": "string", "format": "binary"}}},
            },
            **ERRORS,
        },
    }


def _file(query: dict[str, Any], slug: str, fmt: str) -> Response:
    exported = services.territory_export(
        db_session(), current_user(), slug, fmt, _filter(query), link_for=node_links(slug, on_page=False)
    )
    # The picture opens in the browser; the Gephi files are downloaded under their name.
    disposition = "inline" if fmt == "svg" else "attachment"
    response = Response(exported.content, content_type=f"{exported.media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{exported.filename}"'
    return response


@blp.route("/territories/<slug>/network", methods=["GET"])
@blp.arguments(NetworkQuerySchema, location="query")
@blp.response(200, NodeLinkSchema)
@blp.doc(security=SECURITY, responses=ERRORS)
@login_required
def network_graph(query: dict[str, Any], slug: str) -> Any:
    """Le graphe de l'écosystème (structures, partenaires, CP, domaines, partenariats nationaux),
    au format node-link de networkx ; `?domain=&since=&until=` pour filtrer."""
    return services.territory_node_link(db_session(), current_user(), slug, _filter(query))


@blp.route("/territories/<slug>/network.svg", methods=["GET"])
@blp.arguments(NetworkQuerySchema, location="query")
@blp.doc(**_file_doc("svg", "La carte de l'écosystème (SVG, chaque élément est un lien)."))
@login_required
def network_svg(query: dict[str, Any], slug: str) -> Response:
    """La carte de l'écosystème en SVG."""
    return _file(query, slug, "svg")


@blp.route("/territories/<slug>/network.gexf", methods=["GET"])
@blp.arguments(NetworkQuerySchema, location="query")
@blp.doc(**_file_doc("gexf", "Le graphe au format GEXF (Gephi), en téléchargement."))
@login_required
def network_gexf(query: dict[str, Any], slug: str) -> Response:
    """Le graphe au format GEXF, à ouvrir dans Gephi."""
    return _file(query, slug, "gexf")


@blp.route("/territories/<slug>/network.graphml", methods=["GET"])
@blp.arguments(NetworkQuerySchema, location="query")
@blp.doc(**_file_doc("graphml", "Le graphe au format GraphML (Gephi, yEd, Cytoscape), en téléchargement."))
@login_required
def network_graphml(query: dict[str, Any], slug: str) -> Response:
    """Le graphe au format GraphML."""
    return _file(query, slug, "graphml")


@blp.route("/territories/<slug>/network/analytics", methods=["GET"])
@blp.arguments(NetworkQuerySchema, location="query")
@blp.response(200, NetworkAnalyticsSchema)
@blp.doc(security=SECURITY, responses=ERRORS)
@login_required
def network_analytics(query: dict[str, Any], slug: str) -> Any:
    """Besoins non couverts, dépendances, partenaires centraux et passerelles, structures qui
    sollicitent peu le réseau : chaque ligne avec son explication en français."""
    return services.territory_analytics(db_session(), current_user(), slug, _filter(query))


@blp.route("/network/national", methods=["GET"])
@blp.response(200, NationalFiguresSchema)
@blp.doc(security=SECURITY, responses={"403": {"description": "Réservé à l'équipe nationale."}})
@login_required
def national_figures() -> Any:
    """Les chiffres de chaque territoire côte à côte, l'analytique du graphe national et la
    matrice partenariats nationaux × territoires, tels que la tâche planifiée « network » les a
    calculés (`computed_at`)."""
    return services.national_figures(db_session(), current_user())
