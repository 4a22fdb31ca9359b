"""Retention (DESIGN §8): a record is anonymised once its time is over, keeping the programme's
figures and removing what identifies the person or tells their story."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from referral.cases import export as record_export
from referral.cases import path, retention, rules
from referral.cases import services as cases
from referral.cases.exceptions import RecordAnonymised
from referral.cases.models import (
    CaseNote,
    ContractKind,
    Exit,
    ExternalReferent,
    HealthRecord,
    Need,
    Participant,
)
from referral.partners.models import OfficeHour
from referral.referrals.models import Referral, ReferralState, ReferralTransition
from referral.scheduling import services as jobs
from referral.scheduling.jobs import JOBS_BY_NAME
from referral.tasks import services as tasks
from referral.tasks.models import Notification, Task
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO, csrf_token, login

TODAY = date(2026, 11, 23)
LEFT_ON = rules.add_months(TODAY, -12 * rules.RETENTION_YEARS)  # exactly the retention period ago


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def cip(session: Session):
    return user_by_email(session, DEMO["cip"])


def _followed_then_gone(session: Session, cip, *, left_on: date = LEFT_ON, **exit_values) -> Participant:
    """A full record, written while the person was followed, closed by an exit on `left_on`."""
    with time_machine.travel(at(left_on - timedelta(days=300)), tick=False):
        person = factories.participant(
            session,
            first_name="Aïcha",
            last_name="Benali",
            birth_date=date(1988, 7, 14),
            entered_on=left_on - timedelta(days=400),
            residence_status="titre_valide",
            residence_permit_expires_on=left_on + timedelta(days=90),
            monthly_resources=640,
            referent_id=cip.id,
        )
        factories.contract(
            session,
            participant_id=person.id,
            kind=ContractKind.CDI,
            employer_name="Boulangerie Martin",
            weekly_hours=24,
            starts_on=left_on - timedelta(days=100),
        )
        factories.need(
            session, participant_id=person.id, domain_code="logement", comment="Hébergée chez sa sœur"
        )
        cases.add_note(session, cip, person.id, {"body": "Entretien : parle de ses enfants restés au pays."})
        cases.update_health(
            session, cip, person.id, {"rqth": True, "addictions": "Alcool", "treating_doctor": "Dr X"}
        )
        cases.add_referent(
            session, cip, person.id, {"name": "Mme Durand", "role": "assistant_social", "phone": "06"}
        )
        opportunity = factories.opportunity(session, title="Logement accompagné")
        referral = factories.referral(
            session,
            participant_id=person.id,
            opportunity_id=opportunity.id,
            state=ReferralState.CLOSED,
            comment="Situation familiale difficile",
            shared_dossier={"identity": {"last_name": "Benali"}},
        )
        slot_start = at(left_on - timedelta(days=200))
        session.add(
            OfficeHour(
                territory_id=factories.territory(session).id,
                cp_id=user_by_email(session, DEMO["cp_logement"]).id,
                starts_at=slot_start,
                ends_at=slot_start + timedelta(minutes=30),
                booked_by_id=cip.id,
                participant_id=person.id,
                topic="Logement : sa sœur ne peut plus l'héberger",
                notes_after="Dossier SIAO à relancer",
            )
        )
        session.add(
            ReferralTransition(
                referral_id=referral.id,
                action="close",
                from_state=ReferralState.STARTED,
                to_state=ReferralState.CLOSED,
                comment="Entrée effective, très bon contact",
            )
        )
        session.flush()
    with time_machine.travel(at(left_on), tick=False):
        path.record_exit(
            session,
            cip,
            person.id,
            {"exited_on": left_on, "exit_type": "cdi", "detail": "Embauchée chez Franprix", **exit_values},
        )
        jobs.follow_ups_due(session, left_on + timedelta(days=200))  # tasks naming the person
        tasks.notify(
            session,
            user_id=cip.id,
            kind="test",
            message="Aïcha Benali : suivi",
            link=f"/salaries/{person.id}#sortie",
        )
        session.commit()
    return person


def test_a_record_past_its_retention_is_anonymised_and_keeps_its_figures(session: Session, cip) -> None:
    person = _followed_then_gone(session, cip)
    tasks_before = session.scalar(
        select(func.count()).select_from(Task).where(Task.participant_id == person.id)
    )
    assert tasks_before

    assert retention.anonymise_past_retention(session, at(TODAY)) == 1
    session.commit()

    row = session.get(Participant, person.id)
    assert row.anonymised_at is not None
    assert (row.first_name, row.last_name) == ("Personne", f"anonymisée n° {person.id}")
    assert row.birth_date == date(1988, 1, 1)  # the year stays, for age figures
    assert row.residence_permit_expires_on is None
    assert row.monthly_resources is None
    assert row.referent_id is None
    # What the programme's figures need stays.
    assert (row.programme.value, row.housing_status, row.residence_status) == ("CVG", "chu", "titre_valide")
    need = session.scalars(select(Need).where(Need.participant_id == person.id)).one()
    assert (need.domain_code, need.comment) == ("logement", None)
    exit_row = session.scalars(select(Exit).where(Exit.participant_id == person.id)).one()
    assert (exit_row.exit_type, exit_row.detail) == ("cdi", None)
    assert [c.employer_name for c in row.contracts] == ["(anonymisé)"]
    referral = session.scalars(select(Referral).where(Referral.participant_id == person.id)).one()
    assert (referral.state, referral.comment, referral.shared_dossier) == (ReferralState.CLOSED, None, {})
    assert [t.comment for t in referral.transitions] == [None]
    slot = session.scalars(select(OfficeHour).where(OfficeHour.participant_id == person.id)).one()
    assert (slot.topic, slot.notes_after) == (None, None)
    # What tells the person's story is gone.
    for model in (CaseNote, HealthRecord, ExternalReferent, Task):
        assert not session.scalars(select(model).where(model.participant_id == person.id)).all()
    assert not session.scalars(select(Notification).where(Notification.message.contains("Benali"))).all()
    # The anonymisation is in the audit log.
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.participant_id == person.id, AuditEntry.action == AuditAction.ANONYMISE
        )
    ).all()
    assert len(entries) == 1
    # The right-of-access export of what remains holds nothing of what was removed.
    exported = str(record_export.export_record(session, cip, person.id))
    for told in (
        "Benali",
        "Aïcha",
        "sœur",
        "Franprix",
        "Alcool",
        "Durand",
        "Boulangerie",
        "Situation familiale",
    ):
        assert told not in exported
    # Nothing is written on it any more.
    with pytest.raises(RecordAnonymised):
        cases.add_note(session, cip, person.id, {"body": "Elle est revenue nous voir."})
    with pytest.raises(RecordAnonymised):
        cases.update_participant(session, cip, person.id, {"last_name": "Benali"})
    # Once only: a second run finds nothing more to do, and the record leaves the CIP's list.
    assert retention.anonymise_past_retention(session, at(TODAY)) == 0
    assert person.id not in {p.id for p in cases.list_participants(session, cip)}


def test_nothing_is_anonymised_a_day_early(session: Session, cip) -> None:
    person = _followed_then_gone(session, cip, left_on=LEFT_ON + timedelta(days=1))
    assert retention.anonymise_past_retention(session, at(TODAY)) == 0
    assert session.get(Participant, person.id).last_name == "Benali"
    assert retention.anonymise_past_retention(session, at(TODAY + timedelta(days=1))) == 1


def test_an_accompaniment_that_went_on_counts_from_its_last_note(session: Session, cip) -> None:
    person = _followed_then_gone(session, cip, continued_accompaniment=True)
    with time_machine.travel(at(TODAY - timedelta(days=60)), tick=False):
        cases.add_note(session, cip, person.id, {"body": "Toujours suivie après sa sortie."})
        session.commit()
    assert retention.anonymise_past_retention(session, at(TODAY)) == 0
    later = rules.add_months(TODAY - timedelta(days=60), 12 * rules.RETENTION_YEARS)
    assert retention.anonymise_past_retention(session, at(later - timedelta(days=1))) == 0
    assert retention.anonymise_past_retention(session, at(later)) == 1


def test_a_referral_under_way_or_a_person_still_followed_is_kept(session: Session, cip) -> None:
    person = _followed_then_gone(session, cip)
    opportunity = factories.opportunity(session, title="Encore en cours")
    with time_machine.travel(at(LEFT_ON), tick=False):
        factories.referral(
            session, participant_id=person.id, opportunity_id=opportunity.id, state=ReferralState.SENT
        )
        followed = factories.participant(session, entered_on=LEFT_ON - timedelta(days=2000))
        session.commit()
    retention.anonymise_past_retention(session, at(TODAY + timedelta(days=3650)))  # demo people may go
    assert session.get(Participant, person.id).anonymised_at is None
    assert session.get(Participant, followed.id).anonymised_at is None


def test_the_retention_job_is_scheduled_at_night() -> None:
    job = JOBS_BY_NAME["retention"]
    assert job.trigger == {"hour": 3, "minute": 0}
    assert "conservation" in job.description


def test_an_anonymised_record_page_is_read_only_and_names_no_one(session: Session, client, cip) -> None:
    person = _followed_then_gone(session, cip)
    retention.anonymise_past_retention(session, at(TODAY))
    session.commit()
    login(client, DEMO["cip"])

    page = client.get(f"/salaries/{person.id}").get_data(as_text=True)

    assert "Dossier anonymisé" in page
    assert re.search(r"<fieldset[^>]*\bdisabled>", page)
    assert "Benali" not in page
    refused = client.post(
        f"/salaries/{person.id}/notes",
        data={"body": "Revenue nous voir", "csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 409
    assert "anonymisé" in refused.get_data(as_text=True)


def test_a_followed_person_s_record_page_is_not_disabled(session: Session, client, cip) -> None:
    person = factories.participant(session)
    session.commit()
    login(client, DEMO["cip"])
    page = client.get(f"/salaries/{person.id}").get_data(as_text=True)
    assert "Dossier anonymisé" not in page
    assert not re.search(r"<fieldset[^>]*\bdisabled>", page)
