"""Fuzzing is part of the suite (issue 14, point 15): schemathesis generates requests for every
operation of the OpenAPI document, valid and invalid, and sends each as a CIP, a CP and the
national team, in-process, on each database. Any 5xx or any answer the document does not
describe fails the test, with the request to reproduce it.

A few examples per operation here (``FUZZ_EXAMPLES``, 2 by default) so that `make test` stays
quick; `make fuzz` runs the long campaign (``FUZZ_EXAMPLES=100``) and prints its figures.

Each request runs in a savepoint of the test's transaction, rolled back and released after it:
the next one meets the demo database again, and PostgreSQL releases the request's locks at once
(kept to the end of a long campaign, they filled the server's lock table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from referral.db import Base
from referral.ecosystem import cache as ecosystem_cache
from referral.referrals import matching_index
from tests.web.fuzzing import campaign

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
ROLES = ("cip", "cp_emploi", "admin")


@pytest.mark.fuzz
def test_every_answer_is_one_the_document_describes(
    app: Flask, backend: str, bearer: Callable[[str], dict[str, str]], demo_connection: Connection
) -> None:
    @contextmanager
    def rolled_back() -> Iterator[None]:
        savepoint = demo_connection.begin_nested()
        try:
            yield
        finally:
            savepoint.rollback()
            # ROLLBACK TO leaves the savepoint open (SQL says so): released too, or each request
            # would nest one level deeper, and PostgreSQL keeps a lock per level that wrote.
            demo_connection.exec_driver_sql(f"RELEASE SAVEPOINT {savepoint._savepoint}")
            # Caches built from rows the rollback removed (SQLite gives their ids again).
            matching_index.forget_index()
            ecosystem_cache.forget()

    headers = {role: bearer(role) for role in ROLES}  # before the snapshot: the tokens stay
    before = _row_counts(demo_connection)
    report = campaign(
        app,
        {role: (lambda role=role: headers[role]) for role in ROLES},
        examples=FUZZ_EXAMPLES,
        isolated=rolled_back,
        progress=lambda line: print(line, flush=True),
    )
    print(f"\nschemathesis on {backend}, {FUZZ_EXAMPLES} examples per operation and mode: {report.summary()}")
    assert report.operations >= 60  # the whole document, not a part of it
    assert report.statuses[200] > 0
    assert not report.failures, f"{len(report.failures)} failures:\n" + "\n".join(report.failures[:30])
    if backend == "postgresql":
        # Bounded whatever the campaign's length: the test's own transaction id, not one per request.
        held = demo_connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'transactionid'"
        ).scalar_one()
        assert held <= 2
    assert _row_counts(demo_connection) == before  # every request's writes were undone


def _row_counts(connection: Connection) -> dict[str, int]:
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }
