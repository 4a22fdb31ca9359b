"""The DPO's view of the audit log (DESIGN §8): national team only, itself logged."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from referral import clock
from referral.territories import audit_log
from referral.web.auth import current_user, login_required
from referral.web.request_session import db_session
from referral.web.schemas.audit import AuditPageSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, description="Journal des accès (DPO)")
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def audit_filter(query: dict[str, Any]) -> audit_log.AuditFilter:
    return audit_log.AuditFilter(
        participant_id=query.get("participant_id"),
        user_id=query.get("user_id"),
        user_email=query.get("user_email") or None,
        since=query.get("since"),
        until=query.get("until"),
    )


def csv_download(query: dict[str, Any]) -> Response:
    """The page and the API answer the same file."""
    text = audit_log.audit_log_csv(db_session(), current_user(), audit_filter(query))
    response = Response("\ufeff" + text, mimetype="text/csv")  # the BOM: a spreadsheet reads the accents
    response.headers["Content-Disposition"] = (
        f'attachment; filename="journal-des-acces-{clock.today().isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/audit-log", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
@blp.doc(security=SECURITY)
@login_required
def read_audit_log(query: dict[str, Any]) -> Any:
    """Qui a consulté ou modifié quoi, et quand, pour un dossier (`participant_id`) ou un compte
    (`user_id`, `user_email`), sur une période (`since`, `until`, jours inclus) : 100 entrées par
    page, les plus récentes d'abord. Équipe nationale seulement ; la consultation est journalisée."""
    return audit_log.read_audit_log(db_session(), current_user(), audit_filter(query), page=query["page"])


@blp.route("/audit-log.csv", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(
    200,
    description="Les entrées en CSV (en-tête : date_heure, compte, role, action, objet, objet_id, "
    "personne_id, detail, adresse).",
    content_type="text/csv",
)
@blp.doc(security=SECURITY)
@login_required
def download_audit_log(query: dict[str, Any]) -> Any:
    """Le même journal en CSV (au plus 50 000 lignes), pour la ou le DPO."""
    return csv_download(query)
