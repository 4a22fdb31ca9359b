"""The one place where errors become responses.

API clients (paths under ``/api/``) get ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and ``errors`` (field → French messages); people get a French error page.
The generic handler is registered last and never shows a trace.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from referral.db import is_concurrency_conflict
from referral.exceptions import DomainError
from referral.web.request_id import request_id

PROBLEM_JSON = "application/problem+json"

# French wording for the HTTP errors Flask raises itself.
HTTP_TITLES: dict[int, tuple[str, str]] = {
    400: ("Requête invalide", "La requête n'a pas pu être comprise."),
    401: ("Connexion requise", "Veuillez vous connecter pour accéder à cette page."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'est pas accessible."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible à cette adresse."),
    409: ("Conflit", "L'action ne correspond pas à l'état actuel des données."),
    413: ("Envoi trop volumineux", "Le contenu envoyé dépasse la taille autorisée."),
    415: ("Format non pris en charge", "Le contenu doit être envoyé en JSON."),
    422: ("Données invalides", "Certaines données sont invalides."),
    429: ("Trop de tentatives", "Trop de tentatives : veuillez patienter avant de réessayer."),
    500: ("Erreur interne", "Une erreur inattendue est survenue. Rien n'a été enregistré."),
}


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or {},
    }
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def _page(status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    html = render_template(
        "errors/error.html", status=status, title=title, detail=detail, errors=errors or {}
    )
    return Response(html, status=status, mimetype="text/html")


def respond(status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    if wants_problem_json():
        return problem(status, title, detail, errors)
    return _page(status, title, detail, errors)


def _domain_error(error: DomainError) -> Response:
    if wants_problem_json():
        response = problem(error.status, error.title, error.message, error.errors, **error.extra)
    else:
        response = _page(error.status, error.title, error.message, error.errors)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


# Another transaction holds or changed the same rows: nothing was stored, trying again works.
CONCURRENT_CHANGE = (
    "Une autre modification des mêmes données était en cours : rien n'a été enregistré. Veuillez réessayer."
)


def conflict_response() -> Response:
    return respond(409, HTTP_TITLES[409][0], CONCURRENT_CHANGE)


def _database_error(error: DBAPIError) -> Response:
    """A lock or serialization conflict the database could not wait out is a 409; any other
    database failure is unexpected."""
    if is_concurrency_conflict(error):
        return conflict_response()
    return _unexpected(error)


# Messages webargs writes itself (outside any schema), in French.
WEBARGS_MESSAGES = {
    "Invalid JSON body.": "Corps JSON invalide.",
    "Invalid input type.": "Objet JSON attendu.",
}


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"field.sub.0": [messages]}``."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
        return flat
    if isinstance(messages, list | tuple) and all(isinstance(item, str) for item in messages):
        return {prefix or "_": [WEBARGS_MESSAGES.get(str(item), str(item)) for item in messages]}
    return {prefix or "_": [WEBARGS_MESSAGES.get(str(messages), str(messages))]}


def _request_errors(error: HTTPException) -> dict[str, list[str]]:
    """Field errors of a request that failed parsing (webargs puts them in ``error.data``)."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if not messages:
        return {}
    flat: dict[str, list[str]] = {}
    # The first level is where the value came from (json, query…): not part of the field name.
    for location_messages in messages.values() if isinstance(messages, dict) else [messages]:
        flat.update(flatten_messages(location_messages))
    return flat


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    title, detail = HTTP_TITLES.get(status, (error.name, error.description or ""))
    errors = _request_errors(error)
    if errors and status in (400, 422):
        detail = "Certaines données sont invalides : voir le détail par champ."
    response = respond(status, title, detail, errors)
    valid_methods = getattr(error, "valid_methods", None)  # set by werkzeug's MethodNotAllowed
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def _unexpected(error: Exception) -> Response:
    # Logged with its trace for the team; the user sees a French message and nothing else.
    if not isinstance(error, InternalServerError):
        from flask import current_app

        current_app.logger.exception(
            "Unhandled error on %s %s (request %s)", request.method, request.path, request_id()
        )
    title, detail = HTTP_TITLES[500]
    return respond(500, title, detail)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
