"""Lists are pages (issue 20): the API's lists keep their JSON array and say where the other
pages are in ``Link`` and ``X-Total-Count``; a bad ``limit`` or ``page`` is a 422 in French; a
list reads a fixed number of times, however long it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.cases.models import Participant
from referral.partners import opportunities
from referral.referrals.models import ReferralState, ReferralTransition
from referral.territories.models import Role
from referral.territories.queries import user_by_email
from referral.web.schemas.partners import OpportunitySchema
from tests import factories
from tests.helpers import DEMO, login

Headers = Callable[[str], dict[str, str]]
Counter = Callable[[], AbstractContextManager[list[str]]]

LISTS = [
    "/api/v1/participants",
    "/api/v1/referrals",
    "/api/v1/partners",
    "/api/v1/opportunities",
    "/api/v1/territories",
    "/api/v1/structures",
    "/api/v1/territories/lyon/meetings",
    "/api/v1/territories/lyon/workshops",
    "/api/v1/territories/lyon/office-hours",
]


def links(response: Any) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def add_people(session: Session, count: int, *, prefix: str = "Pagine") -> list[int]:
    ids = [
        factories.participant(
            session, first_name=f"{prefix}{index:03d}", last_name=f"Zz{prefix}{index:03d}"
        ).id
        for index in range(count)
    ]
    session.commit()
    return ids


def people_in_scope(session: Session) -> list[int]:
    structure = factories.structure(session)
    return list(
        session.scalars(
            select(Participant.id)
            .where(Participant.structure_id == structure.id, Participant.anonymised_at.is_(None))
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )


def test_first_next_and_last_pages_cover_the_list_once(
    client: FlaskClient, session: Session, bearer: Headers
) -> None:
    add_people(session, 12)
    expected = people_in_scope(session)
    cip = bearer("cip")

    first = client.get("/api/v1/participants?limit=5", headers=cip)
    assert first.status_code == 200
    assert isinstance(first.get_json(), list)  # the contract's body: still a JSON array
    assert len(first.get_json()) == 5
    assert first.headers["X-Total-Count"] == str(len(expected))
    first_links = links(first)
    assert set(first_links) == {"first", "next", "last"}
    assert "page=2" in first_links["next"]
    assert "limit=5" in first_links["next"]

    seen, response, pages = [], first, 0
    while True:
        pages += 1
        seen += [row["id"] for row in response.get_json()]
        if "next" not in links(response):
            break
        response = client.get(links(response)["next"], headers=cip)
        assert response.status_code == 200
    assert seen == expected  # every person once, in name order
    last_pages = -(-len(expected) // 5)
    assert pages == last_pages
    assert len(response.get_json()) == len(expected) - 5 * (last_pages - 1)
    assert set(links(response)) == {"first", "prev", "last"}
    assert f"page={last_pages}" in links(first)["last"]


def test_default_page_is_fifty_and_limit_goes_up_to_two_hundred(
    client: FlaskClient, session: Session, bearer: Headers
) -> None:
    add_people(session, 55)
    total = len(people_in_scope(session))
    assert 55 < total <= 200
    cip = bearer("cip")
    default = client.get("/api/v1/participants", headers=cip)
    assert len(default.get_json()) == 50
    assert "next" in links(default)
    everyone = client.get("/api/v1/participants?limit=200", headers=cip)
    assert len(everyone.get_json()) == total
    assert "next" not in links(everyone)


def test_a_page_past_the_last_is_empty_with_the_total(
    client: FlaskClient, session: Session, bearer: Headers
) -> None:
    total = len(people_in_scope(session))
    response = client.get("/api/v1/participants?limit=50&page=900", headers=bearer("cip"))
    assert response.status_code == 200
    assert response.get_json() == []
    assert response.headers["X-Total-Count"] == str(total)
    assert "next" not in links(response)


def test_filters_are_kept_in_the_links(client: FlaskClient, bearer: Headers) -> None:
    response = client.get("/api/v1/opportunities?status=published&limit=1", headers=bearer("cp_logement"))
    assert response.status_code == 200
    assert len(response.get_json()) == 1
    assert all(row["status"] == "published" for row in response.get_json())
    assert "status=published" in links(response)["next"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_is_paged(client: FlaskClient, bearer: Headers, path: str) -> None:
    who = "cip" if path.endswith(("participants", "referrals")) else "cp_logement"
    response = client.get(f"{path}?limit=1", headers=bearer(who))
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()) <= 1
    assert "X-Total-Count" in response.headers
    assert 'rel="first"' in response.headers["Link"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "Entre 1 et 200."),
        ("limit=201", "limit", "Entre 1 et 200."),
        ("limit=-3", "limit", "Entre 1 et 200."),
        ("limit=abc", "limit", "Nombre entier attendu."),
        ("limit=2.5", "limit", "Nombre entier attendu."),
        ("page=0", "page", "Entre 1 et 100000."),
        ("page=x", "page", "Nombre entier attendu."),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/participants", "/api/v1/referrals", "/api/v1/partners"])
def test_a_bad_limit_or_page_is_a_422_in_french(
    client: FlaskClient, bearer: Headers, path: str, query: str, field: str, message: str
) -> None:
    response = client.get(f"{path}?{query}", headers=bearer("cip"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {field: [message]}


def test_openapi_documents_the_paging(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    listing = document["paths"]["/api/v1/participants"]["get"]
    assert {"limit", "page"} <= {parameter["name"] for parameter in listing["parameters"]}
    assert {"Link", "X-Total-Count"} <= set(listing["responses"]["200"]["headers"])


# --- A list reads a fixed number of times -----------------------------------------------------


def statements_for(client: FlaskClient, count_statements: Counter, path: str, **kwargs: Any) -> int:
    """How many statements a second request of `path` sends (the first may note the token's use
    or build a per-process cache: once, not per row)."""
    client.get(path, **kwargs)
    with count_statements() as sent:
        response = client.get(path, **kwargs)
        assert response.status_code == 200, path
    return len(sent)


def test_the_participant_list_reads_as_often_for_ten_more_people(
    client: FlaskClient, session: Session, bearer: Headers, count_statements: Counter
) -> None:
    cip = bearer("cip")
    path = "/api/v1/participants?limit=200"
    before = statements_for(client, count_statements, path, headers=cip)
    people = add_people(session, 10)
    for person_id in people:
        factories.need(session, participant_id=person_id)
    session.commit()
    assert statements_for(client, count_statements, path, headers=cip) == before


def referrals_with_moves(session: Session, count: int) -> None:
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    counted = factories.opportunity(session, title="Opportunité comptée")
    for person_id in add_people(session, count, prefix="Oriente"):
        referral = factories.referral(
            session, participant_id=person_id, opportunity_id=counted.id, state=ReferralState.SUBMITTED
        )
        session.add_all(
            [
                ReferralTransition(
                    referral_id=referral.id,
                    action="accept",
                    from_state=None,
                    to_state=ReferralState.DRAFT,
                    actor_id=cip.id,
                    actor_role=Role.CIP,
                ),
                ReferralTransition(
                    referral_id=referral.id,
                    action="submit",
                    from_state=ReferralState.DRAFT,
                    to_state=ReferralState.SUBMITTED,
                    actor_id=cip.id,
                    actor_role=Role.CIP,
                ),
            ]
        )
    session.commit()


def test_the_referral_list_loads_transitions_in_one_go(
    client: FlaskClient, session: Session, bearer: Headers, count_statements: Counter
) -> None:
    cip = bearer("cip")
    path = "/api/v1/referrals?limit=200"
    referrals_with_moves(session, 2)
    before = statements_for(client, count_statements, path, headers=cip)
    referrals_with_moves(session, 8)
    listed = client.get(path, headers=cip).get_json()
    assert sum(1 for row in listed if len(row["transitions"]) == 2) >= 10
    assert statements_for(client, count_statements, path, headers=cip) == before


def test_partner_and_opportunity_lists_read_as_often_for_more_rows(
    client: FlaskClient, session: Session, bearer: Headers, count_statements: Counter
) -> None:
    cp = bearer("cp_logement")
    paths = ("/api/v1/partners?limit=200", "/api/v1/opportunities?limit=200")
    before = [statements_for(client, count_statements, path, headers=cp) for path in paths]
    lyon = factories.territory(session)
    for index in range(6):
        partner = factories.partner(session, name=f"Partenaire paginé {index}")
        factories.opportunity(session, partner_id=partner.id, territory_id=lyon.id, title=f"Offre {index}")
    session.commit()
    assert [statements_for(client, count_statements, path, headers=cp) for path in paths] == before


# --- « Mes salarié·es », 50 a page ------------------------------------------------------------


def test_my_people_page_shows_fifty_a_page_with_its_search(
    client: FlaskClient, session: Session, count_statements: Counter
) -> None:
    add_people(session, 60)
    total = len(people_in_scope(session))
    login(client, DEMO["cip"])
    first = client.get("/salaries/").get_data(as_text=True)
    assert first.count('href="/salaries/') - first.count('href="/salaries/nouveau') >= 50
    assert f"{total} salarié·e(s), page 1 sur 2" in first
    assert 'rel="next"' in first
    assert "page=2" in first
    second = client.get("/salaries/?page=2").get_data(as_text=True)
    assert "page 2 sur 2" in second
    assert "ZzPagine059" in second
    assert "ZzPagine059" not in first

    # The search keeps working, on every person, not only the page's.
    found = client.get("/salaries/?q=zzpagine059").get_data(as_text=True)
    assert "ZzPagine059" in found
    # A page number that is not one shows the first page.
    assert client.get("/salaries/?page=abc").status_code == 200

    before = statements_for(client, count_statements, "/salaries/?suivis=1")
    add_people(session, 30, prefix="Encore")
    assert statements_for(client, count_statements, "/salaries/?suivis=1") == before
    assert statements_for(client, count_statements, "/salaries/?page=2") == statements_for(
        client, count_statements, "/salaries/"
    )


# --- The opportunity list: plain rows, the same answer as the schema's --------------------------


@pytest.mark.parametrize("who", ["cp_logement", "admin", "cip"])
def test_the_opportunity_list_answers_what_the_schema_dumps(
    client: FlaskClient, session: Session, bearer: Headers, who: str
) -> None:
    """The list reads plain rows and writes them out itself: page after page, field for field
    the same as `OpportunitySchema` dumping the opportunities, in the same order."""
    user = user_by_email(session, DEMO[who])
    assert user is not None
    expected = OpportunitySchema(many=True).dump(opportunities.list_opportunities(session, user))
    assert expected, "the demo has opportunities for every role"
    served: list[dict[str, Any]] = []
    url: str | None = "/api/v1/opportunities?limit=7"
    while url:
        response = client.get(url, headers=bearer(who))
        assert response.status_code == 200
        assert int(response.headers["X-Total-Count"]) == len(expected)
        served += response.get_json()
        url = links(response).get("next")
    assert served == expected


def test_an_opportunity_page_past_the_last_still_says_the_total(client: FlaskClient, bearer: Headers) -> None:
    cp = bearer("cp_logement")
    total = int(client.get("/api/v1/opportunities", headers=cp).headers["X-Total-Count"])
    past = client.get("/api/v1/opportunities?page=999", headers=cp)
    assert past.status_code == 200
    assert past.get_json() == []
    assert int(past.headers["X-Total-Count"]) == total
