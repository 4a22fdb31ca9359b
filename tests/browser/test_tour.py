"""Every page of each demo role, at 390 px (a phone) and 1366 px (a laptop): nothing scrolls
sideways and no reference code shows as a word in the visible text (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import tour
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in


@pytest.fixture(scope="module")
def codes(live_server: LiveServer) -> set[str]:
    with live_server.database.atomic() as session:
        return tour.reference_codes(session)


@pytest.fixture(params=sorted(tour.ROLES))
def role_page(request, browser, live_server: LiveServer) -> Iterator[tuple[str, object]]:
    context = browser.new_context(locale="fr-FR", viewport=tour.DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, tour.ROLES[request.param])
    yield request.param, page
    context.close()


def test_every_page_fits_a_phone_and_a_laptop_and_shows_no_code(
    role_page: tuple[str, object], live_server: LiveServer, codes: set[str]
) -> None:
    role, page = role_page
    pages = tour.pages_of(page, live_server, role)
    assert len(pages) >= 5, pages  # the tour did find the role's pages
    problems = []
    for url in pages:
        page.set_viewport_size(tour.DESKTOP)
        page.goto(url)
        for viewport in (tour.DESKTOP, tour.PHONE):
            page.set_viewport_size(viewport)
            if (overflow := tour.horizontal_overflow(page)) > 0:
                problems.append(
                    f"{url} à {viewport['width']} px : {overflow} px de trop ({tour.widest_elements(page)})"
                )
        if shown := tour.codes_shown(tour.visible_words(page), codes):
            problems.append(f"{url} : codes affichés {sorted(shown)}")
    assert problems == [], f"{role} :\n" + "\n".join(problems)


def test_the_ecosystem_map_fits_the_page(browser, live_server: LiveServer) -> None:
    """The map scales through its viewBox: its right edge (the CPs and national partnerships
    column) is inside the page at 1366 px and on a phone, without scrolling."""
    context = browser.new_context(locale="fr-FR", viewport=tour.DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, live_server, tour.ROLES["cp"])
        page.goto(f"{live_server.url}/ecosysteme/")
        for viewport in (tour.DESKTOP, tour.PHONE):
            page.set_viewport_size(viewport)
            box = page.locator("svg.ecosysteme").bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= viewport["width"]
            frame = page.locator(".carte-defilement")
            assert frame.evaluate("el => el.scrollWidth <= el.clientWidth")
    finally:
        context.close()
