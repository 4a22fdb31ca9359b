"""Browser tests: the real application served on 127.0.0.1, driven in Debian's Chromium.

The server runs in a thread on a seeded SQLite file of its own (the browser's requests come from
another thread, so the rolled-back transaction of the other tests cannot be shared). Chromium is
Debian's (`apt-get install chromium`): a test tool's own browser download does not work here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from referral.db import Database
from referral.schema import upgrade
from referral.seeding import seed_all
from referral.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@dataclass
class LiveServer:
    url: str
    database: Database  # the file the server uses, for tests to look at what it holds


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("browser") / "referral.sqlite3"
    database = Database.from_url(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.atomic() as session:
        seed_all(session, demo_participants=40, random_seed=11)
    # "off": the national team's required two-factor is tested in tests/accounts/test_two_factor.py;
    # here the demo admin signs in with the password alone, like the other demo accounts.
    app = create_app({"DATABASE": database, "SECRET_KEY": "browser-test-secret", "TWO_FACTOR": "off"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", database=database)
    server.shutdown()
    thread.join(timeout=5)
    database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium absent : `apt-get install -y chromium` (.ci/run l'installe).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()
