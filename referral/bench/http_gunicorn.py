"""gunicorn settings of `referral bench http`: the project's own (``gunicorn.conf.py``, the
production command) plus three hooks that count the SQL statements each request sends.

Loaded by gunicorn as ``--config python:referral.bench.http_gunicorn``, in the bench's gunicorn
only: production never counts. The count is kept per worker (a sync worker serves one request at
a time) and written, one line per request, to ``$BENCH_STATEMENTS_DIR/<worker pid>.tsv`` with
the name the load generator gave the request (header ``X-Bench-Name``).
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

import referral

PROJECT_SETTINGS = Path(referral.__file__).resolve().parent.parent / "gunicorn.conf.py"
if PROJECT_SETTINGS.exists():
    # The production settings as they are (workers, bind, timeouts, logs from the environment).
    globals().update(
        {
            key: value
            for key, value in runpy.run_path(str(PROJECT_SETTINGS)).items()
            if not key.startswith("_")
        }
    )

_sent = [0]
_out: dict[str, Any] = {}


def _count(*_args: Any) -> None:
    _sent[0] += 1


def post_worker_init(worker: Any) -> None:
    directory = os.environ.get("BENCH_STATEMENTS_DIR")
    if not directory:
        return
    # Every engine of the worker: the request's and the one that notes a token's use on the side.
    event.listen(Engine, "before_cursor_execute", _count)
    _out["file"] = open(Path(directory) / f"{os.getpid()}.tsv", "a", buffering=1, encoding="utf-8")  # noqa: SIM115


def pre_request(worker: Any, req: Any) -> None:
    _sent[0] = 0


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    out = _out.get("file")
    if out is None:
        return
    name = next((value for key, value in req.headers if key.upper() == "X-BENCH-NAME"), None)
    if name:
        out.write(f"{name}\t{_sent[0]}\n")


def worker_exit(server: Any, worker: Any) -> None:
    out = _out.pop("file", None)
    if out is not None:
        out.close()
