"""The CP's queues show who, why and from whom for each referral (issue 15, point 8) in a fixed
number of statements: the sender, the structure and the need are read with the list, not per row."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral import clock
from referral.referrals.models import ReferralState, ReferralTransition
from referral.territories.models import Role
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO, login

Counter = Callable[[], AbstractContextManager[list[str]]]


def add_submitted(session: Session, count: int, start: int) -> None:
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title=f"File {start}", capacity=50
    )
    for n in range(count):
        person = factories.participant(session, last_name=f"File{start + n}", birth_date=date(1980, 1, 1 + n))
        need = factories.need(session, participant_id=person.id, subtype_code="logement.social")
        referral = factories.referral(
            session,
            participant_id=person.id,
            opportunity_id=opportunity.id,
            state=ReferralState.SUBMITTED,
            created_by_id=cip.id,
            need_id=need.id,
            comment=f"Commentaire {start + n}",
            waiting_since=clock.now(),
        )
        session.add(
            ReferralTransition(
                referral_id=referral.id,
                action="submit",
                from_state=ReferralState.DRAFT,
                to_state=ReferralState.SUBMITTED,
                actor_id=cip.id,
                actor_role=Role.CIP,
            )
        )
    session.commit()


def statements(client: FlaskClient, count_statements: Counter, path: str) -> int:
    client.get(path)
    with count_statements() as sent:
        response = client.get(path)
        assert response.status_code == 200
    return len(sent)


def test_the_queues_read_as_often_for_more_referrals(
    client: FlaskClient, session: Session, count_statements: Counter
) -> None:
    add_submitted(session, 2, 0)
    login(client, DEMO["cp_logement"])
    before = {path: statements(client, count_statements, path) for path in ("/orientations/", "/")}
    add_submitted(session, 6, 10)
    after = {path: statements(client, count_statements, path) for path in ("/orientations/", "/")}
    assert after == before
    page = client.get("/orientations/").get_data(as_text=True)
    assert page.count("Logement social, priorité 1") >= 8
    assert "Commentaire 15" in page
