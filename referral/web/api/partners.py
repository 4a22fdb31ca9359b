"""Partners and opportunities of the caller's territory (DESIGN §9).

Views parse with the schemas, call one service and dump with an explicit schema; refusals are
typed domain errors, turned into problem+json once by `referral.web.errors`.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_smorest import Blueprint

from referral.paging import page_of_list
from referral.partners import deployments, opportunities, search, services
from referral.web.auth import current_user, login_required
from referral.web.paging import PAGE_HEADERS, PageQuerySchema, page_headers, page_request, paged
from referral.web.request_session import db_session
from referral.web.schemas.partners import (
    DeploymentInSchema,
    OpportunityHitSchema,
    OpportunityInSchema,
    OpportunityPatchSchema,
    OpportunityQuerySchema,
    OpportunityRevisionSchema,
    OpportunitySchema,
    OpportunityTransitionSchema,
    PartnerHitSchema,
    PartnerInSchema,
    PartnerPatchSchema,
    PartnerQuerySchema,
    PartnerSchema,
    SearchQuerySchema,
    opportunity_lines_json,
)

blp = Blueprint("partners", __name__, description="Partenaires et opportunités")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/partners")
@blp.arguments(PartnerQuerySchema, location="query")
@blp.response(200, PartnerSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_partners(query: dict[str, Any]) -> Any:
    """Les partenaires intervenant sur le territoire de l'utilisateur·rice, par nom, une page à la
    fois (`limit`, `page`, en-têtes `Link` et `X-Total-Count`)."""
    request = page_request(query)
    return paged(
        services.partners_page(db_session(), current_user(), request, territory_slug=query.get("territory"))
    )


@blp.route("/partners", methods=["POST"])
@blp.arguments(PartnerInSchema)
@blp.response(201, PartnerSchema)
@blp.alt_response(
    409,
    description="Doublon probable : `candidates` [{id, name, town, reason}] ; renvoyer avec "
    "`confirm_new: true` s'il s'agit d'une autre structure (impossible pour un même SIRET).",
)
@blp.doc(security=SECURITY)
@login_required
def create_partner(payload: dict[str, Any]) -> Any:
    """Ajouter un partenaire au réseau de son territoire (CP)."""
    confirm_new = payload.pop("confirm_new")
    return services.create_partner(db_session(), current_user(), payload, confirm_new=confirm_new)


@blp.route("/partners/search")
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, PartnerHitSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def search_partners(query: dict[str, Any]) -> Any:
    """Recherche approchée (fautes de frappe, accents, ordre des mots) : `[{id, name, town, score}]`,
    score de 0 à 100, meilleurs d'abord."""
    return search.search_partners(
        db_session(), current_user(), query["q"], territory_slug=query.get("territory"), limit=query["limit"]
    )


@blp.route("/partners/<int:partner_id>")
@blp.response(200, PartnerSchema)
@blp.doc(security=SECURITY)
@login_required
def get_partner(partner_id: int) -> Any:
    return services.get_partner(db_session(), current_user(), partner_id)


@blp.route("/partners/<int:partner_id>", methods=["PATCH"])
@blp.arguments(PartnerPatchSchema)
@blp.response(200, PartnerSchema)
@blp.doc(security=SECURITY)
@login_required
def update_partner(payload: dict[str, Any], partner_id: int) -> Any:
    """Modifier un partenaire de son territoire : seuls les champs envoyés changent. L'identité
    d'un partenaire partagé entre plusieurs territoires (ou d'un partenariat national) est
    modifiée par l'équipe nationale : un·e CP modifie le déploiement de son territoire
    (`PATCH /partners/{id}/deployments/{slug}`)."""
    return services.update_partner(db_session(), current_user(), partner_id, payload)


@blp.route("/partners/<int:partner_id>/deployments/<slug>", methods=["PATCH"])
@blp.arguments(DeploymentInSchema)
@blp.response(200, PartnerSchema)
@blp.doc(security=SECURITY)
@login_required
def update_deployment(payload: dict[str, Any], partner_id: int, slug: str) -> Any:
    """Le déploiement du partenaire sur son territoire (CP ; l'équipe nationale : tout
    territoire) : statut, contacts locaux, notes locales."""
    session, user = db_session(), current_user()
    partner = services.get_partner(session, user, partner_id)
    deployments.update_deployment(session, user, partner, slug, payload)
    return partner


@blp.route("/opportunities")
@blp.arguments(OpportunityQuerySchema, location="query")
@blp.response(200, OpportunitySchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def list_opportunities(query: dict[str, Any]) -> Any:
    """Les opportunités proposées sur le territoire (publiées seulement pour les CIP), par titre,
    une page à la fois (`limit`, `page`, en-têtes `Link` et `X-Total-Count`)."""
    request = page_request(query)
    territory = query.pop("territory", None)
    page = opportunities.opportunities_page(
        db_session(), current_user(), request, territory_slug=territory, **query
    )
    # Plain rows written out as `OpportunitySchema` would dump them (the schema documents them).
    return jsonify(opportunity_lines_json(page.items)), 200, page_headers(page)


@blp.route("/opportunities", methods=["POST"])
@blp.arguments(OpportunityInSchema)
@blp.response(201, OpportunitySchema)
@blp.doc(security=SECURITY)
@login_required
def create_opportunity(payload: dict[str, Any]) -> Any:
    """Créer une opportunité en brouillon (CP du territoire, dans l'un de ses domaines)."""
    return opportunities.create_opportunity(db_session(), current_user(), payload)


@blp.route("/opportunities/search")
@blp.arguments(SearchQuerySchema, location="query")
@blp.response(200, OpportunityHitSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def search_opportunities(query: dict[str, Any]) -> Any:
    """Recherche approchée des opportunités (titre, partenaire, commune, mots-clés)."""
    return search.search_opportunities(
        db_session(), current_user(), query["q"], territory_slug=query.get("territory"), limit=query["limit"]
    )


@blp.route("/opportunities/<int:opportunity_id>")
@blp.response(200, OpportunitySchema)
@blp.doc(security=SECURITY)
@login_required
def get_opportunity(opportunity_id: int) -> Any:
    return opportunities.get_opportunity(db_session(), current_user(), opportunity_id)


@blp.route("/opportunities/<int:opportunity_id>", methods=["PATCH"])
@blp.arguments(OpportunityPatchSchema)
@blp.response(200, OpportunitySchema)
@blp.alt_response(409, description="Version périmée (`current_version`) ou opportunité clôturée.")
@blp.doc(security=SECURITY)
@login_required
def update_opportunity(payload: dict[str, Any], opportunity_id: int) -> Any:
    """Modifier une opportunité en donnant la `version` lue ; une opportunité publiée garde
    son historique."""
    version = payload.pop("version")
    return opportunities.update_opportunity(
        db_session(), current_user(), opportunity_id, payload, version=version
    )


@blp.route("/opportunities/<int:opportunity_id>/history")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, OpportunityRevisionSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def opportunity_history(query: dict[str, Any], opportunity_id: int) -> Any:
    """Les états précédents d'une opportunité publiée, du plus récent au plus ancien, une page à
    la fois."""
    history = opportunities.opportunity_history(db_session(), current_user(), opportunity_id)
    return paged(page_of_list(history, page_request(query)))


def _transition(action: str, opportunity_id: int, payload: dict[str, Any]) -> Any:
    return opportunities.transition_opportunity(
        db_session(), current_user(), opportunity_id, action, version=payload.get("version")
    )


@blp.route("/opportunities/<int:opportunity_id>/publish", methods=["POST"])
@blp.arguments(OpportunityTransitionSchema, required=False)  # `version` is optional: so is the body
@blp.response(200, OpportunitySchema)
@blp.alt_response(409, description="État ne permettant pas cette action, ou version périmée.")
@blp.doc(security=SECURITY)
@login_required
def publish_opportunity(payload: dict[str, Any], opportunity_id: int) -> Any:
    """Publier (depuis « brouillon » ou « suspendue ») : les CIP du territoire la voient."""
    return _transition("publish", opportunity_id, payload)


@blp.route("/opportunities/<int:opportunity_id>/pause", methods=["POST"])
@blp.arguments(OpportunityTransitionSchema, required=False)  # `version` is optional: so is the body
@blp.response(200, OpportunitySchema)
@blp.alt_response(409, description="État ne permettant pas cette action, ou version périmée.")
@blp.doc(security=SECURITY)
@login_required
def pause_opportunity(payload: dict[str, Any], opportunity_id: int) -> Any:
    """Suspendre (depuis « publiée ») : plus de nouvelle orientation, celles en cours continuent."""
    return _transition("pause", opportunity_id, payload)


@blp.route("/opportunities/<int:opportunity_id>/close", methods=["POST"])
@blp.arguments(OpportunityTransitionSchema, required=False)  # `version` is optional: so is the body
@blp.response(200, OpportunitySchema)
@blp.alt_response(409, description="État ne permettant pas cette action, ou version périmée.")
@blp.doc(security=SECURITY)
@login_required
def close_opportunity(payload: dict[str, Any], opportunity_id: int) -> Any:
    """Clôturer (depuis tout état sauf « clôturée ») : définitif."""
    return _transition("close", opportunity_id, payload)
