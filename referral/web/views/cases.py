"""The case-record pages of a CIP (« dossier »)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/salaries")
