"""The indicators in JSON (issue 17, point 9): the same report as the « Indicateurs » page, with
the same protection of small counts, each table with its French definition."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.reporting import exports, services
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.indicators import IndicatorsQuerySchema, IndicatorsSchema

blp = Blueprint("indicators", __name__, description="Indicateurs, rapports (chiffres agrégés)")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
ERRORS = {
    "403": {"description": "Périmètre plus large que le sien (CIP : un territoire ; coordination : tous)."},
    "404": {"description": "Structure ou territoire inconnu ou hors du périmètre."},
    "422": {"description": "Période à l'envers ou de plus de dix ans, programme ou périmètre illisible."},
}


@blp.route("/indicators", methods=["GET"])
@blp.arguments(IndicatorsQuerySchema, location="query")
@blp.response(200, IndicatorsSchema)
@blp.doc(security=SECURITY, responses=ERRORS)
@login_required
def indicators(query: dict[str, Any]) -> Any:
    """Les indicateurs d'un périmètre sur une période : activité, sorties, de l'entrée à la sortie,
    Premières Heures, suivis, orientations. Hors de sa structure, effectifs arrondis à 5 et
    « < 5 » sous 5 (`protected`)."""
    session = db_session()
    actor = current_user()
    request = services.report_request(
        session,
        actor,
        scope=query.get("scope"),
        start=query.get("start"),
        end=query.get("end"),
        programme=query.get("programme"),
    )
    return exports.to_data(services.indicators_report(session, actor, request))
