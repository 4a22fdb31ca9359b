"""The JSON API under ``/api/v1`` (DESIGN §9). Endpoints are added by the issues that own them."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.get("/")
def index() -> dict[str, str]:
    return {"name": "referral", "version": "v1", "openapi": "/api/v1/openapi.json"}
