"""What concerns the signed-in user: « À faire » and notifications."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.tasks import queries, services
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.tasks import MarkReadSchema, NotificationSchema, TaskListSchema

blp = Blueprint("me", __name__, description="Mes tâches et notifications")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/me/tasks", methods=["GET"])
@blp.response(200, TaskListSchema)
@blp.doc(security=SECURITY)
@login_required
def my_tasks() -> Any:
    """« À faire » : en retard, à venir, et fait (30 derniers jours)."""
    return queries.tasks_of(db_session(), current_user())


@blp.route("/me/notifications", methods=["GET"])
@blp.response(200, NotificationSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def my_notifications() -> Any:
    return queries.notifications_of(db_session(), current_user())


@blp.route("/me/notifications/read", methods=["POST"])
@blp.arguments(MarkReadSchema)
@blp.response(200, NotificationSchema(many=True))
@blp.doc(security=SECURITY)
@login_required
def mark_read(payload: dict[str, Any]) -> Any:
    services.mark_read(db_session(), current_user(), payload["ids"])
    return queries.notifications_of(db_session(), current_user())
