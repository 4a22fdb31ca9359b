"""The documented production command (the Procfile's ``web`` line) serves: gunicorn starts on a
free local port against a migrated database with a running scheduler, and `/readyz` says 200."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from referral.config import PROJECT_ROOT
from referral.db import Database
from referral.scheduling import lease
from referral.schema import upgrade
from tests.conftest import TEST_DATABASE_URL, fresh_engine

# Generous: two cores shared by several test runs. A bound on waiting, not a timed assertion.
START_DEADLINE_SECONDS = 90


def procfile_command(process: str) -> list[str]:
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return shlex.split(command)
    raise AssertionError(f"no {process!r} process in the Procfile")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(backend: str, engine: Engine) -> str:
    if backend == "sqlite":
        return str(engine.url)
    # The same per-run schema the engine uses, given to the server through its URL.
    assert TEST_DATABASE_URL is not None
    schema = f"test_gunicorn_{os.getpid()}"
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_gunicorn_from_the_procfile_is_ready(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = fresh_engine(backend, "gunicorn", tmp_path_factory)
    try:
        upgrade(engine)  # what the Procfile's `release` process does
        assert lease.acquire(Database(engine), "planificateur-de-test")  # as `referral scheduler` does
        database_url = _database_url(backend, engine)
    finally:
        engine.dispose()

    command = procfile_command("web")
    assert command[0] == "gunicorn"
    command[0] = str(Path(sys.executable).parent / "gunicorn")
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REFERRAL_ENV": "development",
        "REFERRAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while True:
            assert server.poll() is None, f"gunicorn stopped:\n{log_path.read_text()}"
            try:
                status, headers, body = _get(f"{base}/readyz", {"X-Request-Id": "essai-gunicorn-1"})
                break
            # Refused while the master starts; timed out while its worker is still importing the
            # application on a busy machine: asked again until the deadline.
            except (ConnectionError, TimeoutError, urllib.error.URLError):
                assert time.monotonic() < deadline, f"gunicorn never answered:\n{log_path.read_text()}"
                time.sleep(0.2)
        assert status == 200, body
        assert body["status"] == "ok"
        assert headers["X-Request-Id"] == "essai-gunicorn-1"
        assert _get(f"{base}/healthz")[0] == 200
        assert _get(f"{base}/readyz?recherche=Dupont")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    # The access log names the request id and the duration, and keeps query strings (searches
    # carry people's names) out.
    log_text = log_path.read_text()
    assert "Dupont" not in log_text
    assert re.search(r'"GET /readyz" 200 \d+ \d+ms id=essai-gunicorn-1$', log_text, re.MULTILINE), log_text
