"""Reverse matching for staff reads the people of the opportunity's territories once per worker
while no record changes (issue 20): the second count reads no record, and any change to what
the engine reads of a record (a new person, a need resolved, a contract) is counted at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Contract, Need, NeedStatus, Participant
from referral.partners.models import Criterion, Opportunity
from referral.referrals import matching_index, people_table
from referral.territories.models import User
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO

TODAY = clock.today()


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    sent: list[str] = []

    def spy(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", spy)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", spy)


def housing_opportunity(session: Session) -> Opportunity:
    lyon = factories.territory(session, "lyon")
    housing = factories.opportunity(session, territory_id=lyon.id, domain_code="logement", title="Comptée")
    session.add(
        Criterion(
            opportunity_id=housing.id, position=0, field="has_need", op="has", value="logement", hard=True
        )
    )
    session.add(
        Criterion(opportunity_id=housing.id, position=1, field="weekly_hours", op="gte", value=10, hard=True)
    )
    session.flush()
    return housing


def fitting_person(session: Session, name: str) -> Participant:
    row = factories.participant(session, last_name=name)
    factories.need(session, participant_id=row.id, domain_code="logement")
    factories.contract(session, participant_id=row.id, weekly_hours=20, starts_on=TODAY - timedelta(days=90))
    return row


def staff(session: Session) -> User:
    user = user_by_email(session, DEMO["cp_logement"])
    assert user is not None
    return user


def test_the_second_count_reads_no_record(session: Session) -> None:
    housing = housing_opportunity(session)
    fitting_person(session, "Première")
    session.commit()
    cp = staff(session)
    first = matching_index.reverse_matches(session, cp, housing.id, TODAY)
    with counted(session) as sent:
        second = matching_index.reverse_matches(session, cp, housing.id, TODAY)
    assert (second.total, second.counts_by_structure) == (first.total, first.counts_by_structure)
    assert first.total >= 1
    assert not [statement for statement in sent if "FROM participants" in statement]
    people_table.PEOPLE.check_now()
    with counted(session) as checked:
        matching_index.reverse_matches(session, cp, housing.id, TODAY)
    # The version key, not the records.
    assert not [statement for statement in checked if "FROM participants JOIN" in statement]


def test_a_change_to_a_record_is_counted_at_once(session: Session) -> None:
    housing = housing_opportunity(session)
    person = fitting_person(session, "Première")
    session.commit()
    cp = staff(session)
    before = matching_index.reverse_matches(session, cp, housing.id, TODAY).total

    newcomer = fitting_person(session, "Arrivée")
    session.flush()
    assert matching_index.reverse_matches(session, cp, housing.id, TODAY).total == before + 1

    need = session.scalars(select(Need).where(Need.participant_id == newcomer.id)).one()
    need.status = NeedStatus.RESOLVED
    need.resolved_on = TODAY
    session.flush()
    assert matching_index.reverse_matches(session, cp, housing.id, TODAY).total == before

    # A contract that ended: no more weekly hours, under the criterion's 10.
    contract = session.scalars(select(Contract).where(Contract.participant_id == person.id)).one()
    contract.ends_on = TODAY - timedelta(days=1)
    session.flush()
    assert matching_index.reverse_matches(session, cp, housing.id, TODAY).total == before - 1


def test_a_cip_still_reads_their_own_people_afresh(session: Session) -> None:
    housing = housing_opportunity(session)
    fitting_person(session, "Première")
    session.commit()
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    own = matching_index.reverse_matches(session, cip, housing.id, TODAY)
    newcomer = fitting_person(session, "Arrivée")
    session.flush()
    again = matching_index.reverse_matches(session, cip, housing.id, TODAY)
    assert again.own_participants is not None
    assert newcomer.id in {row.id for row in again.own_participants}
    assert again.total == own.total + 1
