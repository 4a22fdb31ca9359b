"""One database session per request, committed once at its end (the request's unit of work).

Views and services use `db_session()`; nothing else commits. A response with an error status, or
an exception, rolls everything back, so a refused request leaves the database as it was.
Callbacks registered with `referral.db.on_commit` run after the commit.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from referral.audit import services as audit
from referral.db import (
    Database,
    discard_on_commit_callbacks,
    is_concurrency_conflict,
    run_on_commit_callbacks,
)
from referral.web.errors import conflict_response


def database() -> Database:
    return current_app.extensions["referral.database"]


# Requests that may change data; the others only read (and append to the audit log).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def db_session() -> Session:
    if "db_session" not in g:
        writes = has_request_context() and request.method in WRITE_METHODS
        g.db_session = database().session(write=writes)
    return g.db_session


def keep_on_error() -> None:
    """Commit this request's writes even if it answers an error.

    Only for security records that must outlive a refusal (a failed login attempt): everything
    else follows the rule that a refused request leaves the database as it was.
    """
    g.keep_on_error = True


def _commit_on_success(response: Response) -> Response:
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    if response.status_code < 400 or g.get("keep_on_error"):
        try:
            session.commit()
        except DBAPIError as error:
            # Another transaction won the race for the same rows (PostgreSQL serialization or
            # deadlock, SQLite's lock): nothing was stored, the client may try again.
            session.rollback()
            if not is_concurrency_conflict(error):
                raise
            return conflict_response()
        g.db_committed = True
    else:
        _roll_back_keeping_reads(session)
    return response


def _roll_back_keeping_reads(session: Session) -> None:
    """Undo the refused request's writes, but not the log of what it showed or refused: the
    reads (a page re-rendered with a 422 has shown the record) and the refused attempts on
    records out of scope are written again in a transaction of their own."""
    kept = audit.reads_to_keep(session)
    session.rollback()
    discard_on_commit_callbacks(session)
    if not kept:
        return
    audit.write_kept(session, kept)
    try:
        session.commit()
    except DBAPIError:
        # The log of reads must not turn a refusal into a 500; the error is the team's to see.
        session.rollback()
        current_app.logger.exception("Audit entries of a refused request not written")


def _close_session(_exception: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    committed = g.pop("db_committed", False)
    if not committed:
        session.rollback()
        discard_on_commit_callbacks(session)
    session.close()
    if committed:
        run_on_commit_callbacks(session)


def init_app(app: Flask) -> None:
    app.after_request(_commit_on_success)
    app.teardown_request(_close_session)
