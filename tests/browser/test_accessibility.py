"""axe-core on every page of each demo role: no serious or critical violation (issue 16).

axe-core comes inside the axe-playwright-python wheel (nothing is downloaded at run time); it runs
in the page itself, so what it checks is what Chromium rendered, styles included.
"""

from __future__ import annotations

import pytest

from tests.browser import tour
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in

BLOCKING = {"serious", "critical"}


@pytest.mark.parametrize("role", sorted(tour.ROLES))
def test_every_page_passes_axe(role: str, browser, live_server: LiveServer) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(locale="fr-FR", viewport=tour.DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, live_server, tour.ROLES[role])
        problems = []
        for url in tour.pages_of(page, live_server, role):
            page.goto(url)
            results = axe.run(page)
            for violation in results.response["violations"]:
                if violation["impact"] in BLOCKING:
                    targets = [node["target"] for node in violation["nodes"][:3]]
                    problems.append(f"{url} : {violation['id']} ({violation['impact']}) {targets}")
        assert problems == [], f"{role} :\n" + "\n".join(problems)
    finally:
        context.close()
