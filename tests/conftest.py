"""Test fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, again on
PostgreSQL, each test inside a transaction rolled back at its end (a clean state every time).

Two prepared databases per backend, built once per run with the real migrations:
- ``empty``: the schema only;
- ``demo``: the schema plus `referral seed` (reference lists, territories, partners, demo accounts
  and a few generated participants), committed once.
On PostgreSQL each is a schema of the TEST_DATABASE_URL database, dropped and rebuilt at the start.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from referral import hooks
from referral.db import Database, make_engine
from referral.ecosystem import cache as ecosystem_cache
from referral.referrals import matching_index
from referral.reporting import cache as reporting_cache
from referral.schema import upgrade
from referral.seeding import seed_all
from referral.territories.queries import user_by_email
from referral.territories.services import issue_token
from referral.web.app import create_app
from tests.helpers import DEMO

# The same hooks as the application's (audit, index freshness, record and agenda providers),
# for the tests that call services without an app.
hooks.install()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
DEMO_PARTICIPANTS = 24


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


_created_schemas: list[str] = []


def fresh_engine(backend: str, label: str, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine on a brand-new, empty database named `label` for this run.

    On PostgreSQL the schema name carries the process id, so two runs sharing the server (a
    developer's and CI's) never drop each other's data; it is dropped at the end of the run.
    """
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / f"{label}.sqlite3"
        return make_engine(f"sqlite:///{path}")
    assert TEST_DATABASE_URL is not None
    schema = f"test_{label}_{os.getpid()}"
    _created_schemas.append(schema)
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    return make_engine(TEST_DATABASE_URL, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(autouse=True)
def _no_index_from_another_test() -> None:
    """Each test rolls its database back: an index cached by the previous one describes rows
    that are gone (and SQLite gives their ids again, so a data version could come back equal)."""
    matching_index.forget_index()
    ecosystem_cache.forget()
    reporting_cache.forget()


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    if not (TEST_DATABASE_URL and _created_schemas):
        return
    admin = make_engine(TEST_DATABASE_URL)
    # One transaction a schema: dropping them all at once takes a lock per object of every schema
    # and runs out of the server's lock table (« out of shared memory »).
    for schema in _created_schemas:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def empty_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_engine(backend, "empty", tmp_path_factory)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_engine(backend, "demo", tmp_path_factory)
    upgrade(engine)
    database = Database(engine)
    with database.atomic() as session:
        # Without the demo activity: most tests build the referrals and meetings they count.
        seed_all(session, demo_participants=DEMO_PARTICIPANTS, random_seed=7, demo_activity=False)
    yield engine
    engine.dispose()


def _rolled_back(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def empty_connection(empty_engine: Engine) -> Iterator[Connection]:
    yield from _rolled_back(empty_engine)


@pytest.fixture
def demo_connection(demo_engine: Engine) -> Iterator[Connection]:
    yield from _rolled_back(demo_engine)


@pytest.fixture
def empty_db(empty_connection: Connection) -> Database:
    """A database with the schema only, rolled back after the test."""
    return Database(empty_connection)


@pytest.fixture
def db(demo_connection: Connection) -> Database:
    """The seeded demo database, rolled back after the test."""
    return Database(demo_connection)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as session:
        yield session


@pytest.fixture
def empty_session(empty_db: Database) -> Iterator[Session]:
    with empty_db.session() as session:
        yield session


def _test_app(db: Database) -> Flask:
    # Two-factor is required for the national team: the tests that sign the demo admin in through
    # the pages are about other things ("off" is a test-only policy; tests/web/test_two_factor.py
    # builds its apps with the real ones).
    return create_app({"TESTING": True, "DATABASE": db, "SECRET_KEY": "test-secret-key", "TWO_FACTOR": "off"})


# Building the application (its routes, the OpenAPI document) takes about a third of a second and
# a thousand tests ask for one: that was a fifth of the suite. One is built per backend and test
# process, and each test gets it back with the configuration it was built with and the test's own
# database. Flask refuses new routes once an application has served a request: a test adding
# routes asks for `fresh_app`.
_built_apps: dict[str, tuple[Flask, dict[str, Any]]] = {}


@pytest.fixture
def fresh_app(db: Database) -> Flask:
    """An application built for this test alone."""
    return _test_app(db)


@pytest.fixture
def app(db: Database, backend: str) -> Flask:
    if backend not in _built_apps:
        built = _test_app(db)
        _built_apps[backend] = (built, dict(built.config))
    shared, config = _built_apps[backend]
    shared.config.clear()
    shared.config.update(config, DATABASE=db)
    shared.extensions["referral.database"] = db
    return shared


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def bearer(session: Session) -> Callable[[str], dict[str, str]]:
    """``bearer("cip")`` → the Authorization header of a fresh token for that demo account."""

    def headers(who: str) -> dict[str, str]:
        user = user_by_email(session, DEMO.get(who, who))
        assert user is not None
        token, _row = issue_token(session, user)
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def count_statements(demo_connection: Connection) -> Callable[[], AbstractContextManager[list[str]]]:
    """``with count_statements() as sent: …`` — the SQL statements the demo database received
    meanwhile, so that a test proves a list reads a fixed number of times (no query per row)."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        sent: list[str] = []

        def spy(_connection: Connection, _cursor: object, statement: str, *_args: object) -> None:
            sent.append(statement)

        event.listen(demo_connection, "before_cursor_execute", spy)
        try:
            yield sent
        finally:
            event.remove(demo_connection, "before_cursor_execute", spy)

    return counting
