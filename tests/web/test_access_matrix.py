"""Role × endpoint: each role reaches what DESIGN §8 allows and nothing else (on both databases).

A CIP asking for another structure's person gets 404 like a missing one; a coordinator or the
national team never receives a participant's name, whatever endpoint they call.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Participant
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.referrals.models import ReferralState
from referral.territories.models import Structure, User
from tests import factories
from tests.helpers import DEMO

ROLES = ["cip", "cp_emploi", "coordinator", "admin"]

CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def world(session: Session) -> dict[str, int]:
    """Ids the matrix refers to: own and other people, partners in and out of Lyon, a draft."""
    own_structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
    other_structure = session.scalar(select(Structure).where(Structure.key == "demo-lyon-2"))
    own = factories.participant(session, structure_id=own_structure.id, last_name="Proprestructure")
    other = factories.participant(session, structure_id=other_structure.id, last_name="Autrestructure")
    lyon_partner = session.scalar(select(Partner).where(Partner.key == "cpam-lyon"))
    paris_partner = session.scalar(select(Partner).where(Partner.key == "cpam-paris"))
    lyon = factories.territory(session, "lyon")
    draft = factories.opportunity(
        session,
        partner_id=lyon_partner.id,
        territory_id=lyon.id,
        status=OpportunityStatus.DRAFT,
        title="Brouillon lyonnais",
    )
    paris_opportunity = session.scalar(
        select(Opportunity).where(Opportunity.partner_id == paris_partner.id).order_by(Opportunity.id)
    )
    job = factories.opportunity(
        session,
        partner_id=lyon_partner.id,
        territory_id=lyon.id,
        domain_code="emploi",
        title="Emploi lyonnais",
    )
    draft_referral = factories.referral(
        session, participant_id=own.id, opportunity_id=job.id, state=ReferralState.DRAFT
    )
    other_job = factories.opportunity(
        session, partner_id=lyon_partner.id, territory_id=lyon.id, domain_code="emploi", title="Second emploi"
    )
    sent_referral = factories.referral(
        session, participant_id=own.id, opportunity_id=other_job.id, state=ReferralState.SENT
    )
    session.commit()
    return {
        "draft_referral": draft_referral.id,
        "sent_referral": sent_referral.id,
        "own": own.id,
        "other": other.id,
        "lyon_partner": lyon_partner.id,
        "paris_partner": paris_partner.id,
        "draft": draft.id,
        "paris_opportunity": paris_opportunity.id,
    }


# (path template, expected status per role)
MATRIX = [
    ("/api/v1/territories", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/api/v1/structures?territory=lyon", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/api/v1/partners", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/api/v1/partners/{lyon_partner}", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/api/v1/partners/{paris_partner}", {"cip": 404, "cp_emploi": 404, "coordinator": 404, "admin": 200}),
    ("/api/v1/opportunities", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/api/v1/opportunities/{draft}", {"cip": 404, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    (
        "/api/v1/opportunities/{paris_opportunity}",
        {"cip": 404, "cp_emploi": 404, "coordinator": 404, "admin": 200},
    ),
    ("/api/v1/participants", {"cip": 200, "cp_emploi": 403, "coordinator": 403, "admin": 403}),
    ("/api/v1/participants/{own}", {"cip": 200, "cp_emploi": 404, "coordinator": 404, "admin": 404}),
    ("/api/v1/participants/{other}", {"cip": 404, "cp_emploi": 404, "coordinator": 404, "admin": 404}),
    ("/api/v1/participants/999999", {"cip": 404, "cp_emploi": 404, "coordinator": 404, "admin": 404}),
    # A draft is the CIP's alone (issue 14); once it has left the structure, its followers see it.
    ("/api/v1/referrals/{draft_referral}", {"cip": 200, "cp_emploi": 404, "coordinator": 404, "admin": 404}),
    ("/api/v1/referrals/{sent_referral}", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    # The audit log is the national team's (the DPO's) alone.
    (
        "/api/v1/audit-log?participant_id={own}",
        {"cip": 403, "cp_emploi": 403, "coordinator": 403, "admin": 200},
    ),
    (
        "/api/v1/audit-log.csv?participant_id={own}",
        {"cip": 403, "cp_emploi": 403, "coordinator": 403, "admin": 200},
    ),
]


PAGES = [
    ("/orientations/{draft_referral}", {"cip": 200, "cp_emploi": 404, "coordinator": 404, "admin": 404}),
    ("/orientations/{sent_referral}", {"cip": 200, "cp_emploi": 200, "coordinator": 200, "admin": 200}),
    ("/journal/?participant_id={own}", {"cip": 403, "cp_emploi": 403, "coordinator": 403, "admin": 200}),
    (
        "/journal/export.csv?participant_id={own}",
        {"cip": 403, "cp_emploi": 403, "coordinator": 403, "admin": 200},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[path for path, _ in PAGES])
def test_role_page_matrix(
    client: FlaskClient, world: dict[str, int], role: str, path: str, expected: dict[str, int]
) -> None:
    from tests.helpers import login

    login(client, DEMO[role])
    response = client.get(path.format(**world))
    assert response.status_code == expected[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "expected"), MATRIX, ids=[path for path, _ in MATRIX])
def test_role_endpoint_matrix(
    client: FlaskClient, bearer, world: dict[str, int], role: str, path: str, expected: dict[str, int]
) -> None:
    response = client.get(path.format(**world), headers=bearer(role))
    assert response.status_code == expected[role], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def test_anonymous_reaches_nothing(client: FlaskClient, world: dict[str, int]) -> None:
    for path, _expected in MATRIX:
        assert client.get(path.format(**world)).status_code == 401


def test_cip_sees_only_their_structure(client: FlaskClient, bearer, world: dict[str, int]) -> None:
    people = client.get("/api/v1/participants", headers=bearer("cip")).get_json()
    assert world["own"] in {person["id"] for person in people}
    assert world["other"] not in {person["id"] for person in people}
    structure_ids = {person["structure_id"] for person in people}
    assert len(structure_ids) == 1


def test_a_cip_sees_published_opportunities_only(client: FlaskClient, bearer, world: dict[str, int]) -> None:
    opportunities = client.get("/api/v1/opportunities", headers=bearer("cip")).get_json()
    assert opportunities
    assert {opportunity["status"] for opportunity in opportunities} == {"published"}
    staff_opportunities = client.get("/api/v1/opportunities", headers=bearer("cp_emploi")).get_json()
    assert world["draft"] in {opportunity["id"] for opportunity in staff_opportunities}


def test_not_found_and_out_of_scope_are_indistinguishable(
    client: FlaskClient, bearer, world: dict[str, int]
) -> None:
    other = client.get(f"/api/v1/participants/{world['other']}", headers=bearer("cip"))
    missing = client.get("/api/v1/participants/999999", headers=bearer("cip"))
    assert other.get_json() == missing.get_json()


@pytest.mark.parametrize("role", ["coordinator", "admin", "cp_emploi"])
def test_no_participant_name_reaches_staff_outside_the_structure(
    app: Flask, client: FlaskClient, session: Session, bearer, world: dict[str, int], role: str
) -> None:
    """Every GET endpoint and page, with every id we know, never shows a person's name."""
    names = {name for (name,) in session.execute(select(Participant.last_name))}
    # The accounts pages name staff (« Comptes »): a colleague who shares a surname with someone
    # followed (the demo's CIP Claire Nguyen) is not a leak.
    names -= {word for (full_name,) in session.execute(select(User.full_name)) for word in full_name.split()}
    headers = bearer(role)
    ids = [str(value) for value in world.values()]
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        arguments = list(rule.arguments)
        candidates = (
            [rule.rule]
            if not arguments
            else [rule.rule.replace(f"<int:{arguments[0]}>", value) for value in ids]
        )
        for path in candidates:
            response = client.get(path, headers=headers)
            # Random CSRF tokens can spell a short surname (« Sow »): they are not what a page shows.
            body = CSRF_VALUE.sub("", response.get_data(as_text=True))
            leaked = [name for name in names if re.search(rf"\b{re.escape(name)}\b", body)]
            assert not leaked, f"{path} showed {leaked} to {role}"
            checked += 1
    assert checked > 10


def test_cip_home_lists_only_their_people(client: FlaskClient, world: dict[str, int]) -> None:
    from tests.helpers import login

    login(client, DEMO["cip"])
    html = client.get("/").get_data(as_text=True)
    assert "Proprestructure" in html
    assert "Autrestructure" not in html


@pytest.mark.parametrize(
    ("who", "heading"),
    [
        ("cp_emploi", "Opportunités de mes domaines"),
        ("coordinator", "Vue d'ensemble du territoire"),
        ("admin", "Territoires du programme"),
    ],
)
def test_each_role_has_its_home(client: FlaskClient, world: dict[str, int], who: str, heading: str) -> None:
    from tests.helpers import login

    login(client, DEMO[who])
    html = client.get("/").get_data(as_text=True)
    assert heading in html
    assert "Proprestructure" not in html


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/opportunities?status=nimporte", 422, "status"),
        ("/api/v1/opportunities?partner_id=abc", 422, "partner_id"),
        ("/api/v1/partners?territory=atlantide", 422, "territory"),
    ],
)
def test_bad_query_parameters_name_the_field(
    client: FlaskClient, bearer, path: str, status: int, field: str
) -> None:
    response = client.get(path, headers=bearer("cp_emploi"))
    assert response.status_code == status
    assert field in response.get_json()["errors"]


def test_coordinator_counts_the_active_file_only(client: FlaskClient, session: Session) -> None:
    from datetime import timedelta

    from referral.cases.models import Exit
    from referral.reporting.overview import territory_overview

    lyon = factories.territory(session, "lyon")
    before = territory_overview(session, lyon.id)["participants"]
    person = factories.participant(session)
    assert territory_overview(session, lyon.id)["participants"] == before + 1
    session.add(Exit(participant_id=person.id, exited_on=clock.today() - timedelta(days=1), exit_type="cdi"))
    session.flush()
    assert territory_overview(session, lyon.id)["participants"] == before
