"""« Comptes » is a page of a fixed number of queries, paged by 100."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from referral.territories import invitations
from referral.territories.accounts import PAGE_SIZE
from referral.territories.models import Role, User
from tests import factories
from tests.accounts.conftest import demo
from tests.helpers import DEMO, login


def add_people(session: Session, count: int, *, prefix: str) -> None:
    structure_id = factories.structure(session).id
    session.add_all(
        User(
            email=f"{prefix}{index}@example.org",
            full_name=f"Personne {prefix} {index:03d}",
            role=Role.CIP,
            structure_id=structure_id,
        )
        for index in range(count)
    )
    session.flush()


def test_the_page_reads_a_fixed_number_of_times(
    client: FlaskClient, session: Session, demo_connection: Connection
) -> None:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(demo_connection, "before_cursor_execute", count)
        try:
            assert client.get("/comptes").status_code == 200
        finally:
            event.remove(demo_connection, "before_cursor_execute", count)
        return len(statements)

    coordinator = demo(session, "coordinator")
    invitations.invite(
        session,
        coordinator,
        email="first@example.org",
        full_name="F",
        role="cip",
        structure_id=factories.structure(session).id,
    )
    invitations.invite(
        session, coordinator, email="second@example.org", full_name="S", role="cp", territory_slug="lyon"
    )
    session.commit()
    login(client, DEMO["coordinator"])
    before = queries()
    add_people(session, 5, prefix="compte")
    for index in range(5):
        invitations.invite(
            session,
            coordinator,
            email=f"i{index}@example.org",
            full_name="I",
            role="cp",
            territory_slug="lyon",
        )
    session.commit()
    assert queries() == before


def test_people_come_by_pages(client: FlaskClient, session: Session, bearer) -> None:
    add_people(session, PAGE_SIZE, prefix="page")
    session.commit()
    login(client, DEMO["coordinator"])
    first = client.get("/comptes").get_data(as_text=True)
    assert "Page suivante" in first
    second = client.get("/comptes?page=2").get_data(as_text=True)
    assert "Page précédente" in second
    names = [f"Personne page {index:03d}" for index in range(PAGE_SIZE)]
    assert all((name in first) != (name in second) for name in names)
    api_first = client.get("/api/v1/users", headers=bearer("coordinator")).get_json()
    api_second = client.get("/api/v1/users?page=2", headers=bearer("coordinator")).get_json()
    assert len(api_first) == PAGE_SIZE
    assert not {row["id"] for row in api_first} & {row["id"] for row in api_second}
    assert client.get("/api/v1/users?page=0", headers=bearer("coordinator")).status_code == 422
