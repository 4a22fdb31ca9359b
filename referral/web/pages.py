"""Server-rendered pages in French (the page shell; later issues add the pages people work in)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import text

from referral.web.request_session import db_session

pages = Blueprint("pages", __name__)


@pages.get("/")
def home() -> str:
    return render_template("home.html")


@pages.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness and database check for load balancers and `make run`."""
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", reported as such
        return {"status": "error", "database": "injoignable"}, 503
    return {"status": "ok", "database": "ok"}, 200
