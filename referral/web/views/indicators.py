"""The « Indicateurs » page of every role, and its CSV and XLSX downloads.

A GET form (scope, period, programme) that works without JavaScript: the filter is in the URL,
so a view can be bookmarked or sent. Each indicator is a picture drawn on the server
(`reporting.charts`, SVG) with its table beside it — the table is the picture's text
alternative — and its definition. The services decide the scope and protect small counts; this
module parses, calls and renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from marshmallow import ValidationError

from referral.audit import services as audit
from referral.audit.models import AuditAction
from referral.reporting import charts, evaluation, exports, services
from referral.reporting.context import paris_today
from referral.reporting.definitions import DEFINITIONS, definition
from referral.reporting.exceptions import InvalidReportRequest
from referral.reporting.figures import Report, display
from referral.reporting.services import ReportRequest
from referral.web.auth import current_user, login_required
from referral.web.errors import flatten_messages
from referral.web.request_session import db_session
from referral.web.schemas.indicators import EvaluationQuerySchema, ExportQuerySchema, IndicatorsQuerySchema

bp = Blueprint("indicator_pages", __name__, url_prefix="/indicateurs")

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _request(query: dict[str, Any]) -> ReportRequest:
    return services.report_request(
        db_session(),
        current_user(),
        scope=query.get("scope"),
        start=query.get("start"),
        end=query.get("end"),
        programme=query.get("programme"),
    )


def _form(values: dict[str, str], errors: dict[str, list[str]], report: Report | None, **extra: Any) -> str:
    session = db_session()
    return render_template(
        "indicators/index.html",
        values=values,
        errors=errors,
        report=report,
        scope_options=services.scope_options(session, current_user()),
        definitions=DEFINITIONS,
        protection=definition("protection"),
        display=display,
        **extra,
    )


@bp.get("/")
@login_required
def index() -> Any:
    values = {key: value.strip() for key, value in request.args.items()}
    try:
        query = IndicatorsQuerySchema().load(request.args)
        report_request = _request(query)
    except ValidationError as error:
        return _form(values, flatten_messages(error.messages), None), 422
    except InvalidReportRequest as refusal:
        return _form(values, refusal.errors, None), 422
    shown = services.shown_report(db_session(), current_user(), report_request)
    report = shown.report
    # The form shows what was computed (defaults filled in).
    values = {
        "scope": report_request.scope.code,
        "from": report_request.period.start.isoformat(),
        "to": report_request.period.end.isoformat(),
        "programme": report_request.programme.value if report_request.programme else "",
    }
    return _form(
        values,
        {},
        report,
        pictures=shown.pictures(),
        picture_width=charts.WIDTH,
        query=values,
        evaluation_link=evaluation.may_export(current_user()),
    )


@bp.get("/export")
@login_required
def export() -> Response:
    """The page's indicators as a CSV or XLSX file (`?format=csv|xlsx` and the page's filter)."""
    try:
        query = ExportQuerySchema().load(request.args)
    except ValidationError as error:
        raise InvalidReportRequest(
            "Le filtre de l'export est invalide.", errors=flatten_messages(error.messages)
        ) from None
    report_request = _request(query)
    session = db_session()
    report = services.indicators_report(session, current_user(), report_request)
    fmt = query["format"]
    content = exports.to_csv(report) if fmt == "csv" else exports.to_xlsx(report)
    audit.record(
        session,
        AuditAction.EXPORT,
        entity="indicators",
        details={"scope": report_request.scope.code, "period": report.period_label, "format": fmt},
    )
    response = Response(content, content_type=MEDIA_TYPES[fmt])
    name = exports.filename(report_request.scope.code, report_request.period, report_request.programme, fmt)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/evaluation", methods=["GET", "POST"])
@login_required
def evaluation_export() -> Any:
    """The evaluation export (national team): the key is typed in the form at each export, sent
    over the encrypted connection, used and forgotten — never stored, never in a URL."""
    actor = current_user()
    evaluation.require_national_team(actor)
    values = {"from": request.form.get("from", ""), "to": request.form.get("to", "")}
    if request.method == "GET":
        return render_template(
            "indicators/evaluation.html", values=values, errors={}, dictionary=evaluation.DICTIONARY
        )
    try:
        dates = EvaluationQuerySchema().load({"from": values["from"], "to": values["to"]})
        exported = evaluation.evaluation_export(
            db_session(),
            actor,
            request.form.get("key"),
            start=dates["start"],
            end=dates["end"],
            today=paris_today(),
        )
    except ValidationError as error:
        errors = flatten_messages(error.messages)
    except InvalidReportRequest as refusal:
        errors = refusal.errors
    else:
        response = Response(exported.to_xlsx(), content_type=MEDIA_TYPES["xlsx"])
        name = f"evaluation-{dates['start'].isoformat()}-{dates['end'].isoformat()}.xlsx"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render_template(
        "indicators/evaluation.html", values=values, errors=errors, dictionary=evaluation.DICTIONARY
    ), 422
