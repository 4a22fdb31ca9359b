"""Probes: `/healthz` (the process answers) and `/readyz` (database, schema at head, scheduler),
unauthenticated, without personal data; 503 naming the failing checks when not ready."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, event
from sqlalchemy.orm import Session

from referral.db import Database
from referral.scheduling import lease
from referral.scheduling.models import SchedulerLease
from referral.schema import head_revisions, upgrade
from referral.web.app import create_app
from tests.conftest import fresh_engine

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOLDER = "serveur-planificateur:4242"
HEAD = ",".join(sorted(head_revisions()))


def _scheduler_renewed(session: Session, at: datetime) -> None:
    session.execute(delete(SchedulerLease))
    session.add(SchedulerLease(name=lease.LEASE_NAME, holder=HOLDER, acquired_at=at, renewed_at=at))
    session.commit()


def _statements(database: Database) -> list[str]:
    sent: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE")):  # the test's transaction, not the app's
            sent.append(statement)

    event.listen(database.bind, "before_cursor_execute", spy)
    return sent


def test_healthz_answers_without_the_database(client: FlaskClient, db: Database) -> None:
    sent = _statements(db)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert sent == []


def test_ready(client: FlaskClient, session: Session, db: Database) -> None:
    with time_machine.travel(T0, tick=False):
        _scheduler_renewed(session, T0 - timedelta(seconds=30))
        sent = _statements(db)
        response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "schema": {"ok": True, "revision": HEAD, "expected": HEAD},
            "scheduler": {"ok": True, "seen_seconds_ago": 30, "limit_seconds": 120},
        },
    }
    assert HOLDER not in response.get_data(as_text=True)  # which machine runs it is not for outsiders
    assert len(sent) == 3  # cheap: is the version table there, its revision, the lease
    assert "X-Request-Id" in response.headers


def test_scheduler_lease_stale(client: FlaskClient, session: Session) -> None:
    _scheduler_renewed(session, T0)
    # Renewed every 40 s; not renewed for 120 s is when another scheduler may take over.
    with time_machine.travel(T0 + lease.RECENT, tick=False):
        assert client.get("/readyz").status_code == 200
    with time_machine.travel(T0 + lease.RECENT + timedelta(seconds=1), tick=False):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "indisponible"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["schema"]["ok"] is True
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "seen_seconds_ago": 121,
        "limit_seconds": 120,
        "detail": "planificateur arrêté : lancer « referral scheduler »",
    }


def test_no_scheduler_ever(client: FlaskClient, session: Session) -> None:
    session.execute(delete(SchedulerLease))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"]["detail"] == "jamais lancé"


def test_a_scheduler_that_stopped_cleanly_is_not_running(client: FlaskClient, db: Database) -> None:
    assert lease.acquire(db, HOLDER)
    assert client.get("/readyz").status_code == 200
    lease.release(db, HOLDER)  # what `referral scheduler` does when it stops (and --run-once)
    assert client.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/referral.sqlite3",
        "postgresql+psycopg://referral@127.0.0.1:1/referral?connect_timeout=5",
    ],
    ids=["sqlite", "postgresql"],
)
def test_database_down(url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # alive: restarting it would not help
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": {"ok": False, "detail": "base de données injoignable"},
        "schema": {"ok": False, "detail": "non vérifié"},
        "scheduler": {"ok": False, "detail": "non vérifié"},
    }
    app.extensions["referral.database"].dispose()


@pytest.fixture
def behind_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_engine(backend, "behind_head", tmp_path_factory)
    yield engine
    engine.dispose()


def _readyz(engine: Engine) -> Any:
    app = create_app({"TESTING": True, "DATABASE": Database(engine), "SECRET_KEY": "test-secret-key"})
    return app.test_client().get("/readyz")


def test_schema_behind_head(behind_engine: Engine) -> None:
    never_migrated = _readyz(behind_engine)
    assert never_migrated.status_code == 503
    assert never_migrated.get_json()["checks"]["schema"]["revision"] is None

    upgrade(behind_engine, "0003")  # the scheduler's lease exists from here: only the schema fails
    lease.acquire(Database(behind_engine), HOLDER)
    response = _readyz(behind_engine)
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["schema"] == {
        "ok": False,
        "revision": "0003",
        "expected": HEAD,
        "detail": "schéma pas à jour : lancer « referral init-db »",
    }
    assert checks["scheduler"] == {"ok": False, "detail": "non vérifié"}

    upgrade(behind_engine)
    assert _readyz(behind_engine).status_code == 200
