"""`GET /me/notifications` is a page like the other lists (issue 20): 50 by default, at most 200,
the other pages in ``Link``, the total in ``X-Total-Count``, a bad ``limit`` a 422 in French, and
the same number of statements however many notifications there are."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.tasks.models import Notification
from referral.territories.queries import user_by_email
from tests.helpers import DEMO

Headers = Callable[[str], dict[str, str]]
Counter = Callable[[], AbstractContextManager[list[str]]]
PATH = "/api/v1/me/notifications"


def links(response: Any) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def notify(session: Session, who: str, count: int) -> int:
    """`count` more notifications for the demo account `who`; their total."""
    user = user_by_email(session, DEMO.get(who, who))
    assert user is not None
    session.add_all(
        Notification(user_id=user.id, kind="essai", message=f"Notification {index}") for index in range(count)
    )
    session.commit()
    return session.scalar(select(func.count()).where(Notification.user_id == user.id)) or 0


def test_pages_of_fifty_cover_every_notification_once_latest_first(
    client: FlaskClient, session: Session, bearer: Headers
) -> None:
    total = notify(session, "cip", 62)
    cip = bearer("cip")
    first = client.get(PATH, headers=cip)
    assert first.status_code == 200
    assert len(first.get_json()) == 50
    assert first.headers["X-Total-Count"] == str(total)
    assert set(links(first)) == {"first", "next", "last"}
    second = client.get(links(first)["next"], headers=cip)
    assert second.status_code == 200
    ids = [row["id"] for row in first.get_json() + second.get_json()]
    assert len(ids) == len(set(ids)) == total
    assert "next" not in links(second)
    # The latest first: the last one added heads the first page.
    assert ids[0] == max(ids)
    everything = client.get(f"{PATH}?limit=200", headers=cip)
    assert [row["id"] for row in everything.get_json()] == ids


@pytest.mark.parametrize(
    ("query", "message"),
    [("limit=0", "Entre 1 et 200."), ("limit=201", "Entre 1 et 200."), ("limit=x", "Nombre entier attendu.")],
)
def test_a_bad_limit_is_a_422_in_french(
    client: FlaskClient, bearer: Headers, query: str, message: str
) -> None:
    response = client.get(f"{PATH}?{query}", headers=bearer("cip"))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {"limit": [message]}


def test_the_list_reads_as_often_for_a_hundred_more(
    client: FlaskClient, session: Session, bearer: Headers, count_statements: Counter
) -> None:
    cip = bearer("cip")
    notify(session, "cip", 3)

    def statements() -> int:
        client.get(f"{PATH}?limit=200", headers=cip)
        with count_statements() as sent:
            assert client.get(f"{PATH}?limit=200", headers=cip).status_code == 200
        return len(sent)

    before = statements()
    notify(session, "cip", 100)
    assert statements() == before


def test_marking_read_answers_the_first_page(client: FlaskClient, session: Session, bearer: Headers) -> None:
    total = notify(session, "cip", 55)
    cip = bearer("cip")
    latest = client.get(f"{PATH}?limit=1", headers=cip).get_json()[0]
    response = client.post(f"{PATH}/read", json={"ids": [latest["id"]]}, headers=cip)
    assert response.status_code == 200
    assert len(response.get_json()) == 50
    assert response.headers["X-Total-Count"] == str(total)
    assert response.get_json()[0]["id"] == latest["id"]
    assert response.get_json()[0]["read_at"] is not None
