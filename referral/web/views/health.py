"""Probes for the reverse proxy, the platform and monitoring; unauthenticated, cheap, no personal data.

- ``/healthz``: the process is alive and answers (no database: a database outage must not get
  every web process restarted).
- ``/readyz``: this process can serve: the database answers, its schema is at the migrations'
  head, and a scheduler renewed its lease recently (else follow-ups and reminders stop). 503
  with the failing checks otherwise. Four small statements at most.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from referral.db import utcnow
from referral.scheduling import lease
from referral.schema import current_revisions, head_revisions
from referral.web.request_session import db_session

bp = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int, dict[str, str]]:
    return {"status": "ok"}, 200, NO_STORE


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int, dict[str, str]]:
    checks = readiness_checks()
    ready = all(check["ok"] for check in checks.values())
    return {"status": "ok" if ready else "indisponible", "checks": checks}, 200 if ready else 503, NO_STORE


def readiness_checks() -> dict[str, dict[str, Any]]:
    session = db_session()
    not_checked = {"ok": False, "detail": "non vérifié"}
    try:
        current = current_revisions(session.connection())
    except SQLAlchemyError:
        session.rollback()
        return {
            "database": {"ok": False, "detail": "base de données injoignable"},
            "schema": not_checked,
            "scheduler": not_checked,
        }
    expected = head_revisions()
    schema: dict[str, Any] = {
        "ok": current == expected,
        "revision": ",".join(sorted(current)) or None,
        "expected": ",".join(sorted(expected)),
    }
    if not schema["ok"]:
        schema["detail"] = "schéma pas à jour : lancer « referral init-db »"
        # The lease table may not be there yet (or not in this shape).
        return {"database": {"ok": True}, "schema": schema, "scheduler": not_checked}
    return {"database": {"ok": True}, "schema": schema, "scheduler": _scheduler(session)}


def _scheduler(session: Session) -> dict[str, Any]:
    renewed = lease.last_renewal(session)
    limit = int(lease.RECENT.total_seconds())
    if renewed is None:
        return {"ok": False, "seen_seconds_ago": None, "limit_seconds": limit, "detail": "jamais lancé"}
    age = max(0, int((utcnow() - renewed).total_seconds()))
    check: dict[str, Any] = {"ok": age <= limit, "seen_seconds_ago": age, "limit_seconds": limit}
    if not check["ok"]:
        check["detail"] = "planificateur arrêté : lancer « referral scheduler »"
    return check
