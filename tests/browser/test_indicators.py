"""In Chromium: the demo coordinator opens « Indicateurs » for Lyon, sees the pictures and the
tables beside them, changes the period with the form, and downloads the XLSX."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from referral.reporting import charts
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO


def test_coordinator_sees_lyon_indicators_and_downloads_the_xlsx(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, DEMO["coordinator"])
    page.get_by_role("link", name="Indicateurs").click()
    page.wait_for_url(f"{live_server.url}/indicateurs/")
    page.get_by_role("heading", name="Territoire : Métropole de Lyon").wait_for()
    assert page.locator("#petits-effectifs").is_visible()

    # The period is a plain form.
    page.get_by_label("Du").fill("2020-01-01")
    page.get_by_label("au", exact=True).fill("2026-12-31")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"{live_server.url}/indicateurs/?scope=territory*from=2020-01-01*")
    page.get_by_role("heading", name="Territoire : Métropole de Lyon").wait_for()

    # Pictures drawn on the server, each loaded and with a text alternative; tables beside them.
    pictures = page.locator("img.image-indicateur")
    # The demo territory is small: protected, most counts show « < 5 » and are not drawn.
    assert pictures.count() >= 1
    assert page.locator("table.tableau-indicateur").count() >= 10
    first = pictures.first
    assert first.get_attribute("alt").startswith("Graphique : ")
    assert first.evaluate("img => img.complete && img.naturalWidth > 0")
    # Shown at its drawn width on a wide screen (not stretched), across its column on a phone,
    # where its labels still come out at 10 px or more.
    assert first.bounding_box()["width"] == pytest.approx(charts.WIDTH, abs=1)
    page.set_viewport_size({"width": 390, "height": 844})
    on_phone = first.bounding_box()["width"]
    column = first.evaluate(
        "img => { const p = img.parentElement, s = getComputedStyle(p);"
        " return p.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"
    )
    assert on_phone == pytest.approx(column, abs=1)
    assert on_phone < 390
    assert charts.STYLE.label_font_size * on_phone / charts.WIDTH >= 10
    assert charts.STYLE.value_font_size * on_phone / charts.WIDTH >= 10
    page.set_viewport_size({"width": 1280, "height": 720})
    activity = page.locator("#indicateur-activity table")
    assert activity.is_visible()
    assert "Personnes accompagnées (file active)" in activity.inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename == "indicateurs-territory-lyon-2020-01-01-2026-12-31.xlsx"
    workbook = load_workbook(io.BytesIO(download.path().read_bytes()))
    assert workbook["Lisez-moi"]["B2"].value == "Territoire : Métropole de Lyon"
    sheet = workbook.worksheets[1]
    assert sheet["A1"].value == "Activité"
    people = sheet["B4"].value
    shown = page.locator("#indicateur-activity tbody tr").first.locator("td").first.inner_text()
    assert str(people) == shown.replace("\u202f", "")
