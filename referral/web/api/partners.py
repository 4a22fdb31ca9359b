"""Partners and opportunities of the caller's territory (read endpoints)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.partners import services
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.partners import (
    OpportunityQuerySchema,
    OpportunitySchema,
    PartnerQuerySchema,
    PartnerSchema,
)

blp = Blueprint("partners", __name__, description="Partenaires et opportunités")


@blp.route("/partners")
@blp.arguments(PartnerQuerySchema, location="query")
@blp.response(200, PartnerSchema(many=True))
@blp.doc(security=[{"bearer": []}])
@login_required
def list_partners(query: dict[str, Any]) -> Any:
    """Les partenaires intervenant sur le territoire de l'utilisateur·rice."""
    return services.list_partners(db_session(), current_user(), territory_slug=query.get("territory"))


@blp.route("/partners/<int:partner_id>")
@blp.response(200, PartnerSchema)
@blp.doc(security=[{"bearer": []}])
@login_required
def get_partner(partner_id: int) -> Any:
    return services.get_partner(db_session(), current_user(), partner_id)


@blp.route("/opportunities")
@blp.arguments(OpportunityQuerySchema, location="query")
@blp.response(200, OpportunitySchema(many=True))
@blp.doc(security=[{"bearer": []}])
@login_required
def list_opportunities(query: dict[str, Any]) -> Any:
    """Les opportunités proposées sur le territoire (publiées seulement pour les CIP)."""
    return services.list_opportunities(db_session(), current_user(), **query)


@blp.route("/opportunities/<int:opportunity_id>")
@blp.response(200, OpportunitySchema)
@blp.doc(security=[{"bearer": []}])
@login_required
def get_opportunity(opportunity_id: int) -> Any:
    return services.get_opportunity(db_session(), current_user(), opportunity_id)
