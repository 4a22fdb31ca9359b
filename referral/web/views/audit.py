"""The DPO's page of the audit log (« journal des accès »): national team only, itself logged."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from referral.exceptions import InvalidInput
from referral.territories import audit_log
from referral.web.api.audit import audit_filter, csv_download
from referral.web.auth import current_user, login_required
from referral.web.forms import load_form
from referral.web.request_session import db_session
from referral.web.schemas.audit import AuditQuerySchema

bp = Blueprint("audit_pages", __name__, url_prefix="/journal")


@bp.get("/")
@login_required
def index() -> Any:
    """The search form, and the entries once a person or an account is asked for."""
    audit_log.require_reader(current_user())
    searched = any(request.args.get(name) for name in ("participant_id", "user_id", "user_email"))
    if not searched:
        return render_template(
            "audit/log.html",
            result=None,
            errors={},
            message=None,
            args=request.args,
            describe=audit_log.describe,
        )
    try:
        query = load_form(AuditQuerySchema(), request.args)
        result = audit_log.read_audit_log(
            db_session(), current_user(), audit_filter(query), page=query["page"]
        )
    except InvalidInput as refusal:
        return render_template(
            "audit/log.html",
            result=None,
            errors=refusal.errors,
            message=refusal.message,
            args=request.args,
            describe=audit_log.describe,
        ), 422
    return render_template(
        "audit/log.html",
        result=result,
        errors={},
        message=None,
        args=request.args,
        describe=audit_log.describe,
    )


@bp.get("/export.csv")
@login_required
def download() -> Response:
    return csv_download(load_form(AuditQuerySchema(), request.args))
