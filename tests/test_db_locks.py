"""SQLite: a request or a job that writes takes the write lock when it begins and waits for it,
so the loser of two simultaneous submits waits instead of failing with « database is locked »."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from referral.db import Database
from referral.web.app import create_app
from referral.web.request_session import db_session


@pytest.fixture
def file_database(tmp_path: Path) -> Database:
    database = Database.from_url(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    yield database
    database.dispose()


def another_writer_can_start(path: str) -> bool:
    """Whether a second connection gets the write lock at once (no waiting)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    else:
        connection.execute("ROLLBACK")
        return True
    finally:
        connection.close()


def path_of(database: Database) -> str:
    return database.engine.url.database


def test_a_writing_session_holds_the_write_lock_from_its_first_read(file_database: Database) -> None:
    with file_database.session(write=True) as session:
        session.execute(text("SELECT count(*) FROM t"))
        assert not another_writer_can_start(path_of(file_database))
        session.rollback()
    assert another_writer_can_start(path_of(file_database))


def test_a_reading_session_does_not_block_writers(file_database: Database) -> None:
    with file_database.session() as session:
        session.execute(text("SELECT count(*) FROM t"))
        assert another_writer_can_start(path_of(file_database))


def test_jobs_and_commands_write_under_the_lock(file_database: Database) -> None:
    with file_database.atomic() as session:
        session.execute(text("SELECT count(*) FROM t"))
        assert not another_writer_can_start(path_of(file_database))


def test_a_write_request_takes_the_lock_a_read_request_does_not(file_database: Database) -> None:
    app: Flask = create_app({"TESTING": True, "DATABASE": file_database, "SECRET_KEY": "k"})
    for method, locks in (("POST", True), ("PATCH", True), ("GET", False)):
        with app.test_request_context("/", method=method):
            db_session().execute(text("SELECT count(*) FROM t"))
            assert another_writer_can_start(path_of(file_database)) is not locks, method
            db_session().rollback()


def test_two_simultaneous_writers_both_succeed(file_database: Database) -> None:
    """Each reads then writes (as a submit does). Begun as readers, the second would fail at its
    write once the first commits; under the lock it waits, then sees the first one's row."""
    seen_by_second: list[int] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with file_database.atomic() as session:
                seen_by_second.append(session.execute(text("SELECT count(*) FROM t")).scalar_one())
                session.execute(text("INSERT INTO t (n) VALUES (2)"))
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    with file_database.atomic() as session:
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
        thread = threading.Thread(target=second)
        thread.start()
        session.execute(text("INSERT INTO t (n) VALUES (1)"))
    thread.join(timeout=60)
    assert not errors
    assert seen_by_second == [1]
    with file_database.session() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
