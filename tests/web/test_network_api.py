"""The ecosystem's API through the test client: formats and their content types, filters and their
French refusals, scope, and the national figures served from the precomputed table."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime

import networkx as nx
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.ecosystem import services
from tests.ecosystem import territory_data
from tests.ecosystem.territory_data import Clairval

Bearer = Callable[[str], dict[str, str]]
BASE = "/api/v1/territories"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def clairval(session: Session) -> Clairval:
    built = territory_data.build(session)
    session.commit()
    return built


def test_node_link_json(client: FlaskClient, bearer: Bearer) -> None:
    response = client.get(f"{BASE}/lyon/network", headers=bearer("coordinator"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) == {"directed", "multigraph", "graph", "nodes", "edges"}
    kinds = {node["kind"] for node in data["nodes"]}
    assert {"structure", "partner", "cp", "domain", "national_network"} <= kinds
    assert data["graph"]["scope"] == "lyon"


def test_svg_is_valid_xml_with_one_element_per_node(client: FlaskClient, bearer: Bearer) -> None:
    headers = bearer("coordinator")
    nodes = client.get(f"{BASE}/lyon/network", headers=headers).get_json()["nodes"]
    response = client.get(f"{BASE}/lyon/network.svg", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == 'inline; filename="network-lyon.svg"'
    root = ET.fromstring(response.data)
    drawn = [g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert sorted(drawn) == sorted(node["id"] for node in nodes)
    # Each partner links to its page; the rest to its line on the « Écosystème » page.
    links = {a.get("href") for a in root.iter(f"{SVG}a")}
    partner = next(node for node in nodes if node["kind"] == "partner")
    assert f"/reseau/partenaires/{partner['ref_id']}" in links
    structure = next(node for node in nodes if node["kind"] == "structure")
    assert f"/ecosysteme/lyon#structure-{structure['ref_id']}" in links


@pytest.mark.parametrize(
    ("fmt", "media_type", "read"),
    [("gexf", "application/gexf+xml", nx.read_gexf), ("graphml", "application/graphml+xml", nx.read_graphml)],
)
def test_gephi_files_read_back_by_networkx(
    client: FlaskClient,
    bearer: Bearer,
    fmt: str,
    media_type: str,
    read: Callable[[io.BytesIO], nx.Graph],
) -> None:
    headers = bearer("cp_logement")
    expected = client.get(f"{BASE}/lyon/network", headers=headers).get_json()
    response = client.get(f"{BASE}/lyon/network.{fmt}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="network-lyon.{fmt}"'
    graph = read(io.BytesIO(response.data))
    assert set(graph.nodes) == {node["id"] for node in expected["nodes"]}
    assert {(u, v) for u, v in graph.edges} == {(e["source"], e["target"]) for e in expected["edges"]}
    for node in expected["nodes"]:
        assert graph.nodes[node["id"]] == {key: value for key, value in node.items() if key != "id"}


def test_analytics_with_their_explanations(client: FlaskClient, bearer: Bearer, clairval: Clairval) -> None:
    response = client.get(
        f"{BASE}/clairval/network/analytics", headers=bearer(territory_data.COORDINATOR_EMAIL)
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["territory"] == {"slug": "clairval", "name": "Clairval"}
    assert data["filter"] == {"domain": None, "since": None, "until": None, "label": ""}
    assert set(data["sections"]) >= {
        "coverage_gaps",
        "dependence",
        "critical_partners",
        "underused_structures",
    }
    gap = next(g for g in data["coverage_gaps"] if g["domain"] == "langue")
    assert gap["status"] == "gap"
    assert gap["explanation"].startswith("Langue française : 3 besoins ouverts dans 2 structures")
    sante = next(d for d in data["dependence"] if d["domain"] == "sante")
    assert sante["dependent"] is True
    assert sante["top_partner_name"] == "Maison de santé Clairval"
    assert data["summary"]["referrals"] == 6
    assert "explanation" in data["centrality"]


def test_filters(client: FlaskClient, bearer: Bearer, clairval: Clairval) -> None:
    headers = bearer(territory_data.COORDINATOR_EMAIL)
    data = client.get(
        f"{BASE}/clairval/network/analytics?domain=sante&since=2026-03-01&until=2026-03-31&", headers=headers
    ).get_json()
    assert data["summary"]["referrals"] == 2
    assert data["filter"]["label"] == "Santé, orientations créées du 01/03/2026 au 31/03/2026"
    # An empty argument is no argument (a form's blank field).
    blank = client.get(f"{BASE}/clairval/network?domain=&since=&until=", headers=headers)
    assert blank.status_code == 200
    assert blank.get_json()["graph"]["scope"] == "clairval"
    dated = client.get(f"{BASE}/clairval/network.graphml?since=2026-01-01", headers=headers)
    assert nx.read_graphml(io.BytesIO(dated.data)).graph["period_start"] == "2026-01-01"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("domain=astrologie", "domain", "« astrologie » n'est pas un domaine connu."),
        ("since=2026-02-30", "since", "Date invalide (format AAAA-MM-JJ attendu)."),
        (
            "since=2026-05-01&until=2026-04-01",
            "until",
            "La fin de la période doit être le même jour que son début ou après.",
        ),
    ],
)
def test_bad_filters_answer_422_in_french(
    client: FlaskClient, bearer: Bearer, query: str, field: str, message: str
) -> None:
    for suffix in ("", ".svg", ".gexf", ".graphml", "/analytics"):
        response = client.get(f"{BASE}/lyon/network{suffix}?{query}", headers=bearer("coordinator"))
        assert response.status_code == 422, suffix
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"][field] == [message]


def test_scope(client: FlaskClient, bearer: Bearer) -> None:
    coordinator = bearer("coordinator")
    for path in ("/paris/network", "/atlantide/network", "/paris/network.gexf", "/paris/network/analytics"):
        response = client.get(f"{BASE}{path}", headers=coordinator)
        assert response.status_code == 404, path
        assert "hors de votre périmètre" in response.get_json()["detail"]
    refused = client.get(f"{BASE}/lyon/network", headers=bearer("cip"))
    assert refused.status_code == 403
    assert "réservé à la coordination" in refused.get_json()["detail"]
    assert client.get(f"{BASE}/paris/network", headers=bearer("admin")).status_code == 200
    assert client.get(f"{BASE}/lyon/network").status_code == 401


def test_national_figures_from_the_table(client: FlaskClient, bearer: Bearer, session: Session) -> None:
    admin = bearer("admin")
    before = client.get("/api/v1/network/national", headers=admin).get_json()
    assert before == {"ready": False, "computed_at": None, "territories": [], "national": None}

    services.precompute_national_figures(session, datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    session.commit()
    data = client.get("/api/v1/network/national", headers=admin).get_json()
    assert data["ready"] is True
    assert data["computed_at"].startswith("2026-11-23T02:30")
    lyon = next(t for t in data["territories"] if t["slug"] == "lyon")
    assert lyon["figures"]["summary"]["structures"] >= 1
    assert {row["network_code"] for row in data["national"]["matrix"]["rows"]} >= {"franprix", "cnam"}
    assert client.get("/api/v1/network/national", headers=bearer("coordinator")).status_code == 403


def test_the_contract_paths_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/territories/{slug}/network",
        "/api/v1/territories/{slug}/network.svg",
        "/api/v1/territories/{slug}/network.gexf",
        "/api/v1/territories/{slug}/network.graphml",
        "/api/v1/territories/{slug}/network/analytics",
        "/api/v1/network/national",
    ):
        assert path in paths, path
