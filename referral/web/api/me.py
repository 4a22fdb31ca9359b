"""What concerns the signed-in user: « À faire » and notifications."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from referral.paging import FIRST_PAGE
from referral.tasks import queries, services
from referral.web.auth import current_user, login_required
from referral.web.paging import PAGE_HEADERS, PageQuerySchema, page_request, paged
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
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def my_notifications(query: dict[str, Any]) -> Any:
    """Mes notifications, les plus récentes d'abord ; une page à la fois (`limit`, `page`,
    en-têtes `Link` et `X-Total-Count`)."""
    return paged(queries.notification_page(db_session(), current_user(), page_request(query)))


@blp.route("/me/notifications/read", methods=["POST"])
@blp.arguments(MarkReadSchema)
@blp.response(200, NotificationSchema(many=True), headers=PAGE_HEADERS)
@blp.doc(security=SECURITY)
@login_required
def mark_read(payload: dict[str, Any]) -> Any:
    """Marquer des notifications comme lues ; répond la première page, comme la liste."""
    services.mark_read(db_session(), current_user(), payload["ids"])
    return paged(queries.notification_page(db_session(), current_user(), FIRST_PAGE))
