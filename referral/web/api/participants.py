"""Case records in the caller's scope (only a structure's CIPs open named records)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.cases import services
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.participants import ParticipantSchema

blp = Blueprint("participants", __name__, description="Dossiers des salarié·es")


@blp.route("/participants")
@blp.response(200, ParticipantSchema(many=True))
@blp.doc(security=[{"bearer": []}])
@login_required
def list_participants() -> Any:
    """Les salarié·es accompagné·es par la structure de la ou du CIP."""
    return services.list_participants(db_session(), current_user())


@blp.route("/participants/<int:participant_id>")
@blp.response(200, ParticipantSchema)
@blp.doc(security=[{"bearer": []}])
@login_required
def get_participant(participant_id: int) -> Any:
    """Un dossier ; 404 s'il n'existe pas ou n'est pas dans le périmètre (même réponse)."""
    return services.get_participant(db_session(), current_user(), participant_id)
