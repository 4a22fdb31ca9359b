"""A request id on every response (``X-Request-Id``), to find one request in the logs.

The reverse proxy may already have given the request an id: it is kept when it looks like one
(letters, digits and ``-_.:``, at most 128 characters), so the proxy's log and ours share it;
anything else is replaced by a fresh random id rather than echoed into a log line. gunicorn's
access log prints the response header (`gunicorn.conf.py`), and the log line of an unexpected
error names it too.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id() -> str:
    """This request's id (made on first use, so error handlers always have one)."""
    if "request_id" not in g:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _take() -> None:
    request_id()


def _give(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    app.before_request(_take)
    app.after_request(_give)
