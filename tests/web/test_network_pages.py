"""The « Écosystème » pages through the test client: navigation, the picture and its links, the
explained analytics, the filter form without JavaScript, the national view — and no participant's
name in any response a coordinator, a CP or the national team can get from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.access import offered_in_territory
from referral.cases.models import Participant
from referral.ecosystem import services
from referral.partners.models import Opportunity, OpportunityStatus
from referral.referrals.models import ReferralState
from referral.territories.models import Structure
from referral.territories.queries import territory_by_slug
from referral.territories.services import hash_password
from tests.ecosystem import territory_data
from tests.ecosystem.territory_data import Clairval
from tests.helpers import DEMO, DEMO_PASSWORD, csrf_token, login

Bearer = Callable[[str], dict[str, str]]
LYON_NAMES = (("Hermengarde", "Pfeffenhauser"), ("Théodoric", "Wojciechowska"))


@pytest.fixture
def clairval(session: Session) -> Clairval:
    built = territory_data.build(session)
    built.coordinator.password_hash = hash_password(DEMO_PASSWORD)
    session.commit()
    return built


def logout(client: FlaskClient) -> None:
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})


def test_ecosystem_in_the_navigation_of_coordinators_and_cps(client: FlaskClient) -> None:
    for who in ("coordinator", "cp_sante"):
        login(client, DEMO[who])
        html = client.get("/").get_data(as_text=True)
        assert 'href="/ecosysteme/">Écosystème</a>' in html
        response = client.get("/ecosysteme/")
        assert response.status_code == 302
        assert response.headers["Location"] == "/ecosysteme/lyon"
        logout(client)
    login(client, DEMO["cip"])
    assert "Écosystème" not in client.get("/").get_data(as_text=True)
    refused = client.get("/ecosysteme/")
    assert refused.status_code == 403
    assert "réservé à la coordination" in refused.get_data(as_text=True)


def test_the_page_shows_the_picture_the_analytics_and_the_downloads(client: FlaskClient) -> None:
    login(client, DEMO["coordinator"])
    response = client.get("/ecosysteme/lyon")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="h2">Écosystème — Métropole de Lyon</h1>' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    for title in (
        "Besoins non couverts",
        "Dépendance à un partenaire",
        "Partenaires indispensables",
        "Partenaires centraux et passerelles",
        "Structures qui sollicitent peu le réseau",
        "Comment lire la carte",
    ):
        assert f">{title}</h2>" in html, title
    assert 'href="/api/v1/territories/lyon/network.gexf"' in html
    assert 'href="/api/v1/territories/lyon/network.graphml"' in html
    # The CSP forbids inline scripts and styles: the page has none.
    assert "<script" not in html
    assert " style=" not in html
    assert "/static/network.css" in html


def test_the_page_below_its_filter_is_drawn_once_per_kept_ecosystem(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """The tables, lists and picture come from the kept ecosystem alone: drawn on the first
    page, reused on the next (the same HTML), drawn again once the data changed."""
    drawn: list[str] = []

    def note(_sender: Flask, template: Any, **_context: Any) -> None:
        drawn.append(template.name)

    login(client, DEMO["coordinator"])
    with template_rendered.connected_to(note, app):
        first = client.get("/ecosysteme/lyon").get_data(as_text=True)
        second = client.get("/ecosysteme/lyon").get_data(as_text=True)
        assert drawn.count("network/_ecosystem.html") == 1
        assert drawn.count("network/territory.html") == 2
        assert first == second
        # Another filter is another kept ecosystem.
        client.get("/ecosysteme/lyon?domain=logement")
        assert drawn.count("network/_ecosystem.html") == 2
        # A change of the data it is drawn from (`cache.data_version`): drawn again, with it.
        lyon = territory_by_slug(session, "lyon")
        session.add(
            Structure(
                territory_id=lyon.id,
                key="nouvelle-pour-la-carte",
                name="Structure nouvelle pour la carte",
                town="Lyon",
                region="Auvergne-Rhône-Alpes",
                carries_cvg=True,
            )
        )
        session.commit()
        third = client.get("/ecosysteme/lyon").get_data(as_text=True)
    assert drawn.count("network/_ecosystem.html") == 3
    assert "Structure nouvelle pour la carte" in third
    assert "Structure nouvelle pour la carte" not in first


def test_every_node_links_to_its_page_or_its_line(client: FlaskClient) -> None:
    login(client, DEMO["coordinator"])
    html = client.get("/ecosysteme/lyon").get_data(as_text=True)
    svg = html[html.index("<svg xmlns") : html.index("</svg>", html.rindex('class="legend"'))]
    nodes = re.findall(
        r'<g class="node" id="noeud-\d+" data-kind="(\w+)" data-node="([^"]+)"><a href="([^"]+)">', svg
    )
    assert nodes
    assert len(nodes) == svg.count('<g class="node"')  # every node is a link
    for kind, node, href in nodes:
        key = node.split(":", 1)[1]
        if kind == "partner":
            assert href == f"/reseau/partenaires/{key}"
            assert client.get(href).status_code == 200
        else:
            anchor = href.removeprefix("#")
            assert href.startswith("#")
            assert f'id="{anchor}"' in html, anchor


def test_the_known_answers_on_the_page(client: FlaskClient, clairval: Clairval) -> None:
    login(client, territory_data.COORDINATOR_EMAIL)
    html = client.get("/ecosysteme/clairval").get_data(as_text=True)
    assert "Langue française : 3 besoins ouverts dans 2 structures, et aucune opportunité ouverte" in html
    assert (
        "sont allées à Maison de santé Clairval, seul partenaire à en avoir accepté dans ce domaine" in html
    )
    assert "Maison de santé Clairval est le seul partenaire du territoire en santé" in html
    assert "Non couvert</span>" in html
    assert "Insuffisant</span>" in html


def test_the_filter_form_works_without_javascript(client: FlaskClient, clairval: Clairval) -> None:
    login(client, territory_data.COORDINATOR_EMAIL)
    html = client.get("/ecosysteme/clairval?domain=sante&since=2026-03-01&until=").get_data(as_text=True)
    assert "<strong>Santé, orientations créées depuis le 01/03/2026</strong>" in html
    assert '<option value="sante" selected>Santé</option>' in html
    assert 'value="2026-03-01"' in html
    # The downloads keep the filter.
    assert 'href="/api/v1/territories/clairval/network.gexf?domain=sante&amp;since=2026-03-01"' in html
    assert "Langue française : 3 besoins" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "since=2026-05-01&until=2026-04-01",
            "La fin de la période doit être le même jour que son début ou après.",
        ),
        ("domain=astrologie", "« astrologie » n&#39;est pas un domaine connu."),
        ("since=hier", "Date invalide (format AAAA-MM-JJ attendu)."),
    ],
)
def test_a_bad_filter_is_explained_beside_the_form(client: FlaskClient, query: str, message: str) -> None:
    login(client, DEMO["coordinator"])
    response = client.get(f"/ecosysteme/lyon?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "<svg xmlns" not in html
    # Out of scope stays 404, even with a bad filter.
    assert client.get(f"/ecosysteme/paris?{query}").status_code == 404


def test_another_territory_is_not_found(client: FlaskClient) -> None:
    login(client, DEMO["cp_emploi"])
    assert client.get("/ecosysteme/paris").status_code == 404
    assert client.get("/ecosysteme/national").status_code == 403


def test_the_national_view(client: FlaskClient, session: Session) -> None:
    login(client, DEMO["admin"])
    assert client.get("/ecosysteme/").headers["Location"] == "/ecosysteme/national"
    html = client.get("/ecosysteme/national").get_data(as_text=True)
    assert "pas encore été calculés" in html

    services.precompute_national_figures(session, datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    session.commit()
    html = client.get("/ecosysteme/national").get_data(as_text=True)
    assert "Calculé le 23/11/2026 à 03:30" in html  # Paris time
    assert '<a href="/ecosysteme/lyon">Métropole de Lyon</a>' in html
    assert "Partenariats nationaux × territoires" in html
    assert '<td class="etat etat-deployed">Déployé</td>' in html
    assert '<td class="etat etat-absent">Absent</td>' in html
    # The national team opens any territory's ecosystem.
    assert client.get("/ecosysteme/paris").status_code == 200


def _lyon_people_with_referrals(session: Session) -> list[str]:
    """Two Lyon participants with distinctive names, open needs and a referral sent and accepted."""
    lyon = territory_by_slug(session, "lyon")
    assert lyon is not None
    structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
    opportunity = session.scalar(
        select(Opportunity)
        .where(offered_in_territory(lyon.id), Opportunity.status == OpportunityStatus.PUBLISHED)
        .order_by(Opportunity.id)
    )
    assert structure is not None
    assert opportunity is not None
    for first, last in LYON_NAMES:
        person = territory_data._participant(session, structure, 0)
        person.first_name, person.last_name = first, last
        territory_data._need(session, person, "langue")
        territory_data._referral(
            session,
            person,
            opportunity,
            date(2026, 9, 1),
            [(ReferralState.SENT, date(2026, 9, 2)), (ReferralState.ACCEPTED, date(2026, 9, 9))],
        )
    session.commit()
    # Everyone's full name too (the demo's generated people), as it would be printed.
    everyone = [f"{p.first_name} {p.last_name}" for p in session.scalars(select(Participant))]
    return [part for pair in LYON_NAMES for part in pair] + territory_data.every_name() + everyone


def test_no_participant_name_in_any_response(
    client: FlaskClient, bearer: Bearer, session: Session, clairval: Clairval
) -> None:
    names = _lyon_people_with_referrals(session)
    services.precompute_national_figures(session, datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    session.commit()
    api_paths = [
        "/network",
        "/network.svg",
        "/network.gexf",
        "/network.graphml",
        "/network/analytics",
        "/network?domain=langue",
        "/network/analytics?since=2026-09-01&until=2026-09-30",
    ]
    responses = []
    for who, slug in (
        ("coordinator", "lyon"),
        ("cp_sante", "lyon"),
        ("admin", "lyon"),
        ("admin", "clairval"),
    ):
        headers = bearer(who)
        responses += [client.get(f"/api/v1/territories/{slug}{path}", headers=headers) for path in api_paths]
    responses.append(client.get("/api/v1/network/national", headers=bearer("admin")))
    for who, paths in (
        (
            "coordinator",
            ["/ecosysteme/lyon", "/ecosysteme/lyon?domain=langue", "/ecosysteme/lyon?since=2026-09-01"],
        ),
        ("cp_logement", ["/ecosysteme/lyon"]),
        ("admin", ["/ecosysteme/national", "/ecosysteme/lyon", "/ecosysteme/clairval"]),
    ):
        login(client, DEMO[who])
        responses += [client.get(path) for path in paths]
        logout(client)
    login(client, territory_data.COORDINATOR_EMAIL)
    responses.append(client.get("/ecosysteme/clairval"))

    assert len(responses) == 37
    for response in responses:
        assert response.status_code == 200, response.request.path
        text = response.get_data(as_text=True)
        for name in names:
            assert name not in text, (name, response.request.path)
    # And the referrals are there, as counts: the Lyon page knows of the two accepted ones.
    lyon = client.get("/api/v1/territories/lyon/network/analytics", headers=bearer("coordinator")).get_json()
    assert lyon["summary"]["accepted"] == 2
