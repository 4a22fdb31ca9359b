"""In Chromium: the demo coordinator opens « Écosystème » for Lyon, sees the picture and the gaps,
filters by domain with the form, and downloads the GEXF file that Gephi would open."""

from __future__ import annotations

import networkx as nx

from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO


def test_coordinator_sees_the_ecosystem_and_downloads_the_gexf(live_server: LiveServer, page) -> None:
    sign_in(page, live_server, DEMO["coordinator"])
    page.get_by_role("link", name="Écosystème").click()
    page.wait_for_url(f"{live_server.url}/ecosysteme/lyon")
    page.get_by_role("heading", name="Écosystème — Métropole de Lyon").wait_for()

    # The picture, drawn on the server, every node in it a link.
    picture = page.locator("svg.ecosysteme")
    assert picture.is_visible()
    nodes = picture.locator("g.node")
    assert nodes.count() > 10
    assert picture.locator("g.node > a").count() == nodes.count()
    assert picture.locator('g.node[data-kind="structure"]').count() >= 1

    # The gaps, each explained in French.
    gaps = page.locator("#besoins-non-couverts")
    assert gaps.get_by_role("heading", name="Besoins non couverts").is_visible()
    first_gap = gaps.locator("li.ecart").first
    assert first_gap.is_visible()
    assert "besoin" in first_gap.inner_text()
    assert first_gap.locator(".badge").inner_text() in ("Non couvert", "Insuffisant")

    # A structure of the picture leads to its line in the tables.
    structure = picture.locator('g.node[data-kind="structure"] a').first
    anchor = structure.get_attribute("href")
    assert anchor is not None
    assert anchor.startswith("#structure-")
    assert page.locator(anchor).count() == 1

    # The Gephi file, downloaded under its name, is a graph networkx reads.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="GEXF (Gephi)").click()
    download = download_info.value
    assert download.suggested_filename == "network-lyon.gexf"
    graph = nx.read_gexf(download.path())
    assert graph.number_of_nodes() == nodes.count()
    assert {data["kind"] for _, data in graph.nodes(data=True)} >= {"structure", "partner", "domain"}

    # The filter works as a plain form.
    page.get_by_label("Domaine", exact=True).select_option("logement")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(f"{live_server.url}/ecosysteme/lyon?domain=logement*")
    assert page.locator("#resume strong").inner_text() == "Logement"
    assert picture.locator('g.node[data-kind="domain"]').count() == 1
