"""A read stays a read: an API token's last use is written at most once per period, in a short
transaction of its own, and the request never holds a lock on the token row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from referral.audit.services import record_read
from referral.db import Database, utcnow
from referral.schema import upgrade
from referral.territories.models import ApiToken, Role, Territory, User
from referral.territories.services import TOKEN_USE_PERIOD, issue_token
from referral.web.app import create_app
from referral.web.request_session import db_session
from tests.conftest import fresh_engine
from tests.helpers import DEMO

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(fresh_app: Flask) -> Flask:
    """These tests add routes, which Flask refuses once an application served a request."""
    return fresh_app


def _token_writes(database: Database) -> list[str]:
    """The UPDATEs of api_tokens sent from now on, on the test's connection."""
    writes: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(database.bind, "before_cursor_execute", spy)
    return writes


def _last_used(session: Session, token_id: int) -> datetime | None:
    return session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))


def test_last_use_is_written_once_per_period(client: FlaskClient, session: Session, db: Database) -> None:
    user = session.scalar(select(User).where(User.email == DEMO["cip"]))
    with time_machine.travel(T0, tick=False):
        token, row = issue_token(session, user)
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    writes = _token_writes(db)

    with time_machine.travel(T0, tick=False):
        assert client.get("/api/v1/territories", headers=headers).status_code == 200
    assert _last_used(session, row.id) == T0
    assert len(writes) == 1

    # Within the period: nothing written, whatever the number of requests.
    for later in (timedelta(minutes=2), TOKEN_USE_PERIOD - timedelta(seconds=1)):
        with time_machine.travel(T0 + later, tick=False):
            assert client.get("/api/v1/territories", headers=headers).status_code == 200
    assert _last_used(session, row.id) == T0
    assert len(writes) == 1

    # Once the period is over, the next request writes it again.
    with time_machine.travel(T0 + TOKEN_USE_PERIOD + timedelta(seconds=1), tick=False):
        assert client.get("/api/v1/territories", headers=headers).status_code == 200
    assert _last_used(session, row.id) == T0 + TOKEN_USE_PERIOD + timedelta(seconds=1)
    assert len(writes) == 2


def test_a_refused_token_writes_nothing(client: FlaskClient, session: Session, db: Database, bearer) -> None:
    headers = bearer("cip")
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    writes = _token_writes(db)
    response = client.get("/api/v1/territories", headers=headers)
    assert response.status_code == 401
    assert "révoqué" in response.get_json()["detail"]
    assert writes == []


def test_an_inactive_account_token_is_refused(client: FlaskClient, session: Session, bearer) -> None:
    headers = bearer("cip")
    session.scalar(select(User).where(User.email == DEMO["cip"])).is_active = False
    session.commit()
    assert client.get("/api/v1/territories", headers=headers).status_code == 401


def _sent(database: Database) -> list[str]:
    """Every statement sent from now on, on the test's connection."""
    sent: list[str] = []
    event.listen(
        database.bind, "before_cursor_execute", lambda _c, _k, statement, *_a: sent.append(statement)
    )
    return sent


def test_a_recent_token_costs_one_read_and_no_write(
    client: FlaskClient, session: Session, db: Database
) -> None:
    """Within the period the token and its user are one SELECT of the request's own session: no
    side transaction (no savepoint here), no UPDATE, no second read of the user."""
    user = session.scalar(select(User).where(User.email == DEMO["cip"]))
    with time_machine.travel(T0, tick=False):
        token, _row = issue_token(session, user)
        session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/territories", headers=headers).status_code == 200  # noted: the first use
        sent = _sent(db)
        assert client.get("/api/v1/territories", headers=headers).status_code == 200
    on_tokens = [statement for statement in sent if "api_tokens" in statement.lower()]
    assert len(on_tokens) == 1
    assert on_tokens[0].lstrip().upper().startswith("SELECT")
    # Here the request's own session is a savepoint of the test's transaction; a side
    # transaction would be a second one.
    assert sum(statement.upper().startswith("SAVEPOINT") for statement in sent) == 1
    assert not [
        statement for statement in sent if "FROM users" in statement and "api_tokens" not in statement
    ]


@pytest.mark.parametrize("change", ["revoked", "expired", "deactivated"])
def test_a_token_refused_within_the_period_is_refused_at_once(
    client: FlaskClient, session: Session, change: str
) -> None:
    """Skipping the write never skips the checks: a token used a minute ago and revoked, expired
    or whose account was closed since is refused on its next request."""
    user = session.scalar(select(User).where(User.email == DEMO["cip"]))
    with time_machine.travel(T0, tick=False):
        token, row = issue_token(session, user, lifetime=timedelta(minutes=2))
        session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/territories", headers=headers).status_code == 200
    assert _last_used(session, row.id) == T0
    if change == "revoked":
        session.get(ApiToken, row.id).revoked_at = T0 + timedelta(seconds=30)
    elif change == "deactivated":
        session.get(User, user.id).is_active = False
    session.commit()
    later = T0 + timedelta(minutes=3 if change == "expired" else 1)
    assert later - T0 < TOKEN_USE_PERIOD  # the last use is still recent: no write was due
    with time_machine.travel(later, tick=False):
        assert client.get("/api/v1/territories", headers=headers).status_code == 401


def _probe_pending_changes(app: Flask, seen: list[set[str]]) -> None:
    @app.get("/api/v1/_probe/pending")
    def pending() -> dict[str, bool]:
        session = db_session()
        seen.append({type(row).__name__ for row in session.new | session.dirty | session.deleted})
        return {"ok": True}


def test_the_request_session_changes_nothing_on_the_token(app: Flask, bearer) -> None:
    seen: list[set[str]] = []
    _probe_pending_changes(app, seen)
    response = app.test_client().get("/api/v1/_probe/pending", headers=bearer("cip"))
    assert response.status_code == 200
    assert seen == [set()]


# On a database where the token is committed, another connection can take the token row (row
# lock on PostgreSQL, the write lock on SQLite) while a request with that token is running.


@pytest.fixture(scope="module")
def committed_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_engine(backend, "token_lock", tmp_path_factory)
    upgrade(engine)
    yield engine
    engine.dispose()


LOCK_ROW_NOW = text("SELECT id FROM api_tokens WHERE id = :id FOR UPDATE NOWAIT")


def _row_is_free(engine: Engine, token_id: int) -> bool:
    if engine.dialect.name == "sqlite":
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # the database's write lock, at once or never
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()
    with engine.connect() as other:
        try:
            other.execute(LOCK_ROW_NOW, {"id": token_id})
            return True
        except OperationalError:
            return False
        finally:
            other.rollback()


def test_no_lock_on_the_token_row_during_a_request(committed_engine: Engine) -> None:
    database = Database(committed_engine)
    with database.atomic() as session:
        territory = Territory(slug="verrou", name="Verrou", region="Test")
        user = User(email="admin@verrou.test", full_name="Admin Verrou", role=Role.ADMIN)
        session.add_all([territory, user])
        session.flush()
        token, row = issue_token(session, user)
        token_id = row.id
    app = create_app({"TESTING": True, "DATABASE": database, "SECRET_KEY": "test-secret-key"})
    free: list[bool] = []

    @app.get("/api/v1/_probe/lock")
    def lock() -> dict[str, bool]:
        # A read in the request's own session: it would flush (and lock) a pending write.
        db_session().execute(select(Territory.id)).all()
        free.append(_row_is_free(committed_engine, token_id))
        return {"ok": True}

    client = app.test_client()
    response = client.get("/api/v1/_probe/lock", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert free == [True]
    with database.atomic() as session:
        assert session.get(ApiToken, token_id).last_used_at is not None  # it was noted, on the side

    # A request that writes after its token's use was noted: on SQLite its snapshot must begin
    # after that write, or its own write would be refused (« database is locked »).
    with time_machine.travel(datetime.now(UTC) + TOKEN_USE_PERIOD + timedelta(minutes=1), tick=False):
        response = client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    with database.atomic() as session:
        assert session.get(ApiToken, token_id).revoked_at is not None


def test_reading_a_record_locks_nothing_another_request_needs(committed_engine: Engine) -> None:
    """The audit row of a read is a plain INSERT into a table without foreign keys: no row of
    another table is locked, and other requests insert their own entries meanwhile."""
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: any insert holds the database until the commit")
    database = Database(committed_engine)
    with database.atomic() as session:
        user = User(email="admin@lecture.test", full_name="Lecture", role=Role.ADMIN)
        session.add(user)
        session.flush()
        token, _row = issue_token(session, user)
        user_id = user.id
    app = create_app({"TESTING": True, "DATABASE": database, "SECRET_KEY": "test-secret-key"})
    seen: list[bool] = []

    @app.get("/api/v1/_probe/read")
    def read() -> dict[str, bool]:
        record_read(db_session(), entity="participants", entity_id=1, participant_id=1, what="dossier")
        with committed_engine.connect() as other:
            other.execute(text("SET LOCAL lock_timeout = '200ms'"))
            try:
                other.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE NOWAIT"), {"id": user_id})
                other.execute(
                    insert(AuditEntry).values(at=utcnow(), action=AuditAction.READ, entity="participants")
                )
                seen.append(True)
            except OperationalError:
                seen.append(False)
            finally:
                other.rollback()
        return {"ok": True}

    response = app.test_client().get("/api/v1/_probe/read", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert seen == [True]
