"""The « Indicateurs » page, its downloads and the JSON API, through the test client, on the demo
territory: every role in its scope, pictures with their tables, the XLSX and the CSV equal to the
page, refusals with French messages, and no participant's name anywhere."""

from __future__ import annotations

import base64
import csv
import html as html_lib
import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditEntry
from referral.cases.models import Participant
from referral.reporting.figures import Column, display
from tests.helpers import DEMO, login

Bearer = Callable[[str], dict[str, str]]
PERIOD = {"from": "2020-01-01", "to": "2026-12-31"}


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """Table key → its body rows as the page shows them (label then cells)."""
    tables: dict[str, list[list[str]]] = {}
    for key, body in re.findall(r'id="indicateur-([a-z_0-9]+)".*?<tbody>(.*?)</tbody>', html, re.S):
        rows = []
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            cells = [
                html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            ]
            rows.append(cells)
        tables[key] = rows
    return tables


@pytest.mark.parametrize("who", ["cip", "cp_sante", "coordinator", "admin"])
def test_every_role_has_the_page_in_its_navigation_with_pictures_and_tables(
    client: FlaskClient, who: str
) -> None:
    login(client, DEMO[who])
    assert 'href="/indicateurs/">Indicateurs</a>' in client.get("/").get_data(as_text=True)
    response = client.get("/indicateurs/", query_string=PERIOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data:image/svg+xml;base64," in html
    assert 'alt="Graphique : ' in html
    assert "<script" not in html.split("<main", 1)[1]
    pictures = [base64.b64decode(p) for p in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]
    assert pictures
    assert all(p.startswith(b"<?xml") and b"<svg" in p and b"<script" not in p for p in pictures)
    tables = page_tables(html)
    assert {"activity", "exits_by_family", "housing_flows", "follow_ups", "referrals_by_domain"} <= set(
        tables
    )
    assert "Définition." in html
    protected = who != "cip"
    assert ("Petits effectifs" in html) == protected


def test_the_coordinator_sees_lyon_protected_and_a_cip_exact(client: FlaskClient) -> None:
    login(client, DEMO["coordinator"])
    html = client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True)
    assert "Territoire : Métropole de Lyon" in html
    assert '<option value="territory:lyon" selected>' in html
    counts = [cell for row in page_tables(html)["needs_without_answer"] for cell in row[1:]]
    # Every published count is 0, « < 5 » or a multiple of 5.
    assert all(c in ("0", "< 5") or int(c.replace("\u202f", "")) % 5 == 0 for c in counts)


def test_the_xlsx_opens_and_equals_the_page(client: FlaskClient, session: Session) -> None:
    login(client, DEMO["coordinator"])
    html = client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True)
    shown = page_tables(html)
    response = client.get("/indicateurs/export", query_string={**PERIOD, "format": "xlsx"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[0] == "Lisez-moi"
    logged = session.scalars(select(AuditEntry).where(AuditEntry.entity == "indicators")).all()
    assert [entry.details["format"] for entry in logged] == ["xlsx"]
    assert workbook.sheetnames[-1] == "Définitions"
    titles = {
        html_lib.unescape(t): k for k, t in re.findall(r'<h3 id="titre-([a-z_0-9]+)"[^>]*>(.*?)</h3>', html)
    }
    compared = 0
    for sheet in workbook.worksheets[1:-1]:
        key = titles[sheet["A1"].value]
        rows = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
        kinds = [str(v or "") for v in next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))][1:]
        as_page = [
            [
                row[0],
                *(
                    display(v, Column("c", "c", "share" if k.endswith("(%)") else "count"))
                    for v, k in zip(row[1:], kinds, strict=True)
                ),
            ]
            for row in rows
        ]
        expected = shown[key] if shown[key] != [["Rien sur la période."]] else []
        assert as_page == expected, key
        compared += 1
    assert compared == len(shown)


def test_the_csv_is_read_back_with_semicolons_and_a_bom(client: FlaskClient) -> None:
    login(client, DEMO["cip"])
    html = client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True)
    response = client.get("/indicateurs/export", query_string={**PERIOD, "format": "csv"})
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Périmètre"
    start = rows.index(["Activité"])
    header = rows[start + 2]
    assert header[1:] == ["Convergence", "Premières Heures en Chantier", "Ensemble"]
    people = rows[start + 3]
    assert people[0] == "Personnes accompagnées (file active)"
    assert people[1:] == page_tables(html)["activity"][0][1:]


def test_no_participant_name_in_pages_exports_or_api(
    client: FlaskClient, session: Session, bearer: Bearer
) -> None:
    names = {
        n
        for first, last in session.execute(select(Participant.first_name, Participant.last_name))
        for n in (first, last)
    }
    login(client, DEMO["coordinator"])
    bodies = [
        client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True),
        client.get("/indicateurs/export", query_string={**PERIOD, "format": "csv"}).data.decode("utf-8-sig"),
        str(client.get("/api/v1/indicators", query_string=PERIOD, headers=bearer("coordinator")).get_json()),
    ]
    workbook = load_workbook(
        io.BytesIO(client.get("/indicateurs/export", query_string={**PERIOD, "format": "xlsx"}).data)
    )
    bodies.append(
        " ".join(
            str(v)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v
        )
    )
    for body in bodies:
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", body), name


def test_refusals(client: FlaskClient, bearer: Bearer) -> None:
    login(client, DEMO["coordinator"])
    backwards = client.get("/indicateurs/", query_string={"from": "2026-05-01", "to": "2026-01-01"})
    assert backwards.status_code == 422
    assert "La fin précède le début." in backwards.get_data(as_text=True)
    assert client.get("/indicateurs/", query_string={"from": "hier"}).status_code == 422
    assert client.get("/indicateurs/", query_string={"scope": "all"}).status_code == 403
    assert client.get("/indicateurs/", query_string={"scope": "territory:lille"}).status_code == 404
    assert client.get("/indicateurs/export", query_string={"format": "pdf"}).status_code == 422
    cip = bearer("cip")
    assert (
        client.get("/api/v1/indicators", query_string={"scope": "territory:lyon"}, headers=cip).status_code
        == 403
    )
    bad = client.get("/api/v1/indicators", query_string={"programme": "XYZ"}, headers=cip)
    assert bad.status_code == 422
    assert "programme" in bad.get_json()["errors"]


def test_the_api_answers_the_same_figures_as_the_page(client: FlaskClient, bearer: Bearer) -> None:
    data = client.get(
        "/api/v1/indicators",
        query_string={**PERIOD, "scope": "territory:lyon"},
        headers=bearer("coordinator"),
    ).get_json()
    assert data["protected"] is True
    activity = data["sections"][0]["tables"][0]
    assert activity["key"] == "activity"
    assert activity["definition"].startswith("File active")
    login(client, DEMO["coordinator"])
    html = client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True)
    page = page_tables(html)["activity"]
    columns = [Column(c["key"], c["label"], c["kind"]) for c in activity["columns"]]
    assert [
        [row["label"], *(display(v, col) for v, col in zip(row["values"], columns, strict=True))]
        for row in activity["rows"]
    ] == page
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/indicators" in spec["paths"]


def test_a_flow_grid_reads_as_its_list_of_moves_on_a_phone(client: FlaskClient) -> None:
    """The entry × exit grids are too wide for a phone: beside each, the list of its moves (its
    cells that are not 0, as the grid shows them) and its total, shown where the grid is not."""
    login(client, DEMO["coordinator"])
    html = client.get("/indicateurs/", query_string=PERIOD).get_data(as_text=True)
    tables = page_tables(html)
    for key in ("housing_flows", "coverage_flows"):
        article = html.split(f'id="indicateur-{key}"', 1)[1].split("</article>", 1)[0]
        assert 'class="table-responsive d-none d-md-block"' in article
        listed = re.search(r'<ul class="list-unstyled d-md-none mouvements"[^>]*>(.*?)</ul>', article, re.S)
        assert listed is not None
        items = [
            " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", item)).split())
            for item in re.findall(r"<li[^>]*>(.*?)</li>", listed.group(1), re.S)
        ]
        columns = re.findall(r'<th scope="col" class="text-end">(.*?)</th>', article)
        moves = [
            f"{row[0]} → à la sortie : {html_lib.unescape(columns[index])} — {cell}"
            for row in tables[key]
            if not row[0].startswith("Total")
            for index, cell in enumerate(row[1:-1])
            if cell != "0"
        ]
        totals = [f"{row[0]} — {row[-1]}" for row in tables[key] if row[0].startswith("Total")]
        assert moves
        assert items == moves + totals
