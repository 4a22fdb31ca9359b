"""Reference data: territories and structures (any signed-in user)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.exceptions import NotFound
from referral.paging import page_of_list
from referral.territories import queries
from referral.web.auth import login_required
from referral.web.paging import PAGE_HEADERS, PageQuerySchema, page_request, paged
from referral.web.request_session import db_session
from referral.web.schemas.reference import (
    ApiIndexSchema,
    StructureQuerySchema,
    StructureSchema,
    TerritorySchema,
)

blp = Blueprint("reference", __name__, description="Territoires et structures")


@blp.route("/")
@blp.response(200, ApiIndexSchema)
def index() -> dict[str, str]:
    """Ce service et où lire sa description (sans authentification)."""
    return {"name": "referral", "version": "v1", "openapi": "/api/v1/openapi.json"}


@blp.route("/territories")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, TerritorySchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=[{"bearer": []}])
@login_required
def list_territories(query: dict[str, Any]) -> Any:
    """Les territoires du programme, une page à la fois (`limit`, `page`, en-têtes `Link` et
    `X-Total-Count`)."""
    return paged(page_of_list(queries.territories(db_session()), page_request(query)))


@blp.route("/structures")
@blp.arguments(StructureQuerySchema, location="query")
@blp.response(200, StructureSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=[{"bearer": []}])
@login_required
def list_structures(query: dict[str, Any]) -> Any:
    """Les structures (chantiers d'insertion), éventuellement d'un territoire (`?territory=lyon`),
    une page à la fois."""
    session = db_session()
    request = page_request(query)
    territory_id = None
    if "territory" in query:
        territory = queries.territory_by_slug(session, query["territory"])
        if territory is None:
            raise NotFound(f"Territoire inconnu : « {query['territory']} ».")
        territory_id = territory.id
    return paged(queries.structures_page(session, request, territory_id=territory_id))
