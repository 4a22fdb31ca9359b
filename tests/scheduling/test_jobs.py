"""Nothing forgotten: time-travel tests of the scheduled jobs (each idempotent), the tasks they
open and the services that close them, and the single-scheduler lease."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from referral import clock
from referral.cases import path
from referral.cases.rules import add_months
from referral.db import Database
from referral.partners.models import OpportunityStatus
from referral.referrals.models import Referral, ReferralState
from referral.scheduling import lease, services
from referral.scheduling.jobs import run_job
from referral.scheduling.models import SchedulerLease
from referral.tasks import queries as task_queries
from referral.tasks import services as tasks
from referral.tasks.models import Notification, Task, TaskStatus
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO

TODAY = date(2026, 11, 23)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def open_tasks(session: Session, key_prefix: str) -> list[Task]:
    return list(
        session.scalars(select(Task).where(Task.key.startswith(key_prefix), Task.status == TaskStatus.OPEN))
    )


@pytest.fixture
def cip(session: Session):
    return user_by_email(session, DEMO["cip"])


def test_an_exit_today_brings_follow_ups_due_in_6_and_12_months(session: Session, cip) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        person = factories.participant(session, entered_on=TODAY - timedelta(days=400), referent_id=cip.id)
        exit_row = path.record_exit(session, cip, person.id, {"exited_on": TODAY, "exit_type": "cdi"})
    six, twelve = sorted(exit_row.follow_ups, key=lambda f: f.due_on)
    assert (six.due_on, twelve.due_on) == (add_months(TODAY, 6), add_months(TODAY, 12))

    key = f"follow_up:{six.id}"
    services.follow_ups_due(session, TODAY)
    services.follow_ups_due(session, six.due_on - timedelta(days=15))
    assert open_tasks(session, key) == []  # nothing due yet
    services.follow_ups_due(session, six.due_on - timedelta(days=14))  # two weeks ahead
    services.follow_ups_due(session, six.due_on - timedelta(days=14))  # twice: nothing more
    (task,) = open_tasks(session, key)
    assert task.user_id == cip.id
    assert task.due_on == six.due_on

    late = six.due_on + timedelta(days=3)
    listing = task_queries.tasks_of(session, cip, today=late)
    assert task in listing.overdue  # overdue once past its date
    with time_machine.travel(at(late), tick=False):
        path.record_follow_up(session, cip, person.id, six.id, {"outcome": "emploi_meme_employeur"})
    assert open_tasks(session, f"follow_up:{six.id}") == []
    assert task in task_queries.tasks_of(session, cip, today=late).done
    services.follow_ups_due(session, twelve.due_on)
    assert len(open_tasks(session, f"follow_up:{twelve.id}")) == 1  # the 12-month one in its turn


def test_renewal_task_60_days_before_the_decision_in_the_third_year(session: Session, cip) -> None:
    entered = add_months(TODAY, -22)
    person = factories.participant(session, programme="CVG", entered_on=entered, referent_id=cip.id)
    decision = add_months(entered, 24) - timedelta(days=1)
    key = f"renewal:{person.id}:"
    services.renewals_due(session, decision - timedelta(days=61))
    assert open_tasks(session, key) == []
    services.renewals_due(session, decision - timedelta(days=60))
    services.renewals_due(session, decision - timedelta(days=59))  # idempotent
    (task,) = open_tasks(session, key)
    assert "renouvellement" in task.title
    with time_machine.travel(at(decision - timedelta(days=50)), tick=False):
        path.request_renewal(session, cip, person.id, {"motivation": "Parcours logement en cours."})
    assert open_tasks(session, f"renewal:{person.id}:") == []
    # While the commission has not decided, no new task.
    services.renewals_due(session, decision - timedelta(days=10))
    assert open_tasks(session, key) == []


def test_five_year_limit_is_announced(session: Session, cip) -> None:
    from referral.cases.models import RenewalDecision, RenewalOutcome

    entered = add_months(TODAY, -58)
    person = factories.participant(session, programme="CVG", entered_on=entered, referent_id=cip.id)
    session.add(
        RenewalDecision(
            participant_id=person.id,
            requested_on=add_months(entered, 23),
            motivation="m",
            outcome=RenewalOutcome.GRANTED,
            decided_on=add_months(entered, 23),
            valid_until=add_months(entered, 60),
        )
    )
    session.flush()
    services.renewals_due(session, TODAY)
    (task,) = open_tasks(session, f"path_limit:{person.id}")
    assert "cinq ans" in task.title


def referral_waiting_since(session: Session, since: datetime, **opportunity_fields: object) -> Referral:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(session, programme="CVG")
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", **opportunity_fields
    )
    return factories.referral(
        session,
        participant_id=person.id,
        opportunity_id=opportunity.id,
        state=ReferralState.SENT,
        waiting_since=since,
    )


def test_referral_reminders_on_days_10_and_20_then_expiry(session: Session) -> None:
    start = at(TODAY)
    referral = referral_waiting_since(session, start, answer_delay_days=30)
    cp = user_by_email(session, DEMO["cp_logement"])

    def reminders() -> list[Notification]:
        return list(
            session.scalars(
                select(Notification).where(
                    Notification.user_id == cp.id,
                    Notification.key.startswith(f"referral:{referral.id}:waiting"),
                )
            )
        )

    services.referral_reminders(session, start + timedelta(days=9))
    assert reminders() == []
    services.referral_reminders(session, start + timedelta(days=10))
    assert len(reminders()) == 1
    services.referral_reminders(session, start + timedelta(days=10, hours=5))  # twice the same day
    assert len(reminders()) == 1
    services.referral_reminders(session, start + timedelta(days=20))
    assert len(reminders()) == 2
    waiting = open_tasks(session, f"referral_waiting:{referral.id}")
    assert waiting
    # The task belongs to the person's record (it goes when the record is anonymised).
    assert {task.participant_id for task in waiting} == {referral.participant_id}
    # Another CP (employment) is not concerned by a housing referral.
    emploi = user_by_email(session, DEMO["cp_emploi"])
    assert not session.scalars(
        select(Notification).where(
            Notification.user_id == emploi.id, Notification.key.startswith(f"referral:{referral.id}")
        )
    ).all()

    services.referral_reminders(session, start + timedelta(days=30))
    session.refresh(referral)
    assert referral.state is ReferralState.EXPIRED
    assert open_tasks(session, f"referral_waiting:{referral.id}") == []
    before = session.scalar(select(Referral.version).where(Referral.id == referral.id))
    services.referral_reminders(session, start + timedelta(days=31))
    assert session.scalar(select(Referral.version).where(Referral.id == referral.id)) == before


def test_ending_opportunities_are_announced_then_closed(session: Session) -> None:
    lyon = factories.territory(session, "lyon")
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", valid_until=TODAY + timedelta(days=20)
    )
    services.endings(session, TODAY - timedelta(days=11))
    assert open_tasks(session, f"opportunity_ending:{opportunity.id}") == []
    services.endings(session, TODAY)
    assert open_tasks(session, f"opportunity_ending:{opportunity.id}")
    services.endings(session, TODAY + timedelta(days=21))
    session.refresh(opportunity)
    assert opportunity.status is OpportunityStatus.CLOSED
    assert open_tasks(session, f"opportunity_ending:{opportunity.id}") == []


def test_consents_reaching_their_end(session: Session, cip) -> None:
    from referral.cases.models import Consent, ConsentRecipient, DataCategory

    person = factories.participant(session, referent_id=cip.id)
    consent = Consent(
        participant_id=person.id,
        recipient=ConsentRecipient.CP,
        data_category=DataCategory.SITUATION,
        given_on=TODAY - timedelta(days=300),
        expires_on=TODAY + timedelta(days=25),
    )
    session.add(consent)
    session.flush()
    services.consents_ending(session, TODAY)
    services.consents_ending(session, TODAY)
    assert len(open_tasks(session, f"consent_ending:{consent.id}")) == 1


def test_cip_is_told_when_the_partner_answers(session: Session, client: FlaskClient, bearer) -> None:
    referral = referral_waiting_since(session, at(TODAY))
    cip = user_by_email(session, DEMO["cip"])
    referral.created_by_id = cip.id
    session.commit()
    response = client.post(
        f"/api/v1/referrals/{referral.id}/transitions",
        json={"action": "partner_accept", "version": referral.version},
        headers=bearer("cp_logement"),
    )
    assert response.status_code == 200
    notes = client.get("/api/v1/me/notifications", headers=bearer("cip")).get_json()
    assert any("Acceptée par le partenaire" in note["message"] for note in notes)


def test_me_tasks_endpoint(client: FlaskClient, session: Session, bearer, cip) -> None:
    tasks.ensure_task(
        session,
        user_id=cip.id,
        key="test:1",
        kind="follow_up",
        title="Appeler M. X",
        due_on=clock.today() - timedelta(days=1),
    )
    tasks.ensure_task(
        session,
        user_id=cip.id,
        key="test:2",
        kind="follow_up",
        title="Appeler Mme Y",
        due_on=clock.today() + timedelta(days=3),
    )
    session.commit()
    body = client.get("/api/v1/me/tasks", headers=bearer("cip")).get_json()
    assert [t["title"] for t in body["overdue"]] == ["Appeler M. X"]
    assert [t["title"] for t in body["due"]] == ["Appeler Mme Y"]
    other = client.get("/api/v1/me/tasks", headers=bearer("cip_other")).get_json()
    assert other["overdue"] == [] and other["due"] == []  # noqa: PT018 - one person's list, not another's


# --- One scheduler at a time ----------------------------------------------------------------


def test_the_lease_keeps_a_second_scheduler_out(db: Database) -> None:
    now = datetime.now(UTC)
    assert lease.acquire(db, "hôte-a:1", now=now)
    assert not lease.acquire(db, "hôte-b:2", now=now + timedelta(seconds=10))
    assert lease.acquire(db, "hôte-a:1", now=now + timedelta(seconds=30))  # renewal
    # A holder that stopped renewing (it died) is taken over.
    assert lease.acquire(db, "hôte-b:2", now=now + timedelta(seconds=30 + lease.LEASE_SECONDS + 1))
    assert run_job(db, "consents", holder="hôte-a:1") is None  # lost the lease: does nothing


def test_two_schedulers_starting_together_on_postgresql(backend: str, demo_engine: Engine) -> None:
    if backend != "postgresql":
        pytest.skip("concurrent starts are checked on PostgreSQL")
    database = Database(demo_engine)
    name = f"test-{threading.get_ident()}"
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def start(holder: str) -> None:
        barrier.wait(timeout=10)
        results.append(lease.acquire(database, holder, name=name))

    threads = [threading.Thread(target=start, args=(f"hôte-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert sorted(results) == [False, False, False, True]
    finally:
        with database.atomic() as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == name)
                .values(holder="fini", renewed_at=datetime(2000, 1, 1, tzinfo=UTC))
            )
