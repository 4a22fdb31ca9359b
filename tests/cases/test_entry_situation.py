"""Correcting the situation at entry (issue 17): only the entry fields change, with a reason,
written to the log with its fields and reason (not their values); every refusal leaves the database as it was.
Through the service and through the API (`PATCH /api/v1/participants/{id}/entry-situation`)."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral import clock
from referral.audit.models import AuditAction, AuditEntry
from referral.audit.queries import logged_about
from referral.audit.services import Actor, set_actor
from referral.cases import entry_situation, services
from referral.cases.entry_situation import EntrySituation, correct_entry_situation
from referral.cases.exceptions import ParticipantNotFound, RecordAnonymised, RecordsNotVisible
from referral.cases.models import HealthRecord, Participant
from referral.cases.timeline import TimelineEvent, timeline
from referral.db import utcnow
from referral.exceptions import InvalidInput
from referral.territories.models import User
from tests import factories
from tests.helpers import demo_user


@pytest.fixture
def cip(session: Session) -> User:
    return demo_user(session, "cip")


@pytest.fixture
def person(session: Session, cip: User) -> Participant:
    """A record of the CIP's structure created « at the CHU, no coverage », now housed and covered;
    its health details were first written with no treating doctor, who came since."""
    person = factories.participant(
        session, structure_id=cip.structure_id, housing_status="chu", health_coverage="aucune"
    )
    services.update_participant(
        session, cip, person.id, {"housing_status": "logement_social", "health_coverage": "css"}
    )
    services.update_health(session, cip, person.id, {"has_treating_doctor": False})
    session.commit()
    services.update_health(session, cip, person.id, {"has_treating_doctor": True})
    session.commit()
    return person


def state(session: Session, participant_id: int) -> dict[str, object]:
    """Every column of the record and of its health details, and the number of log entries."""
    session.expire_all()
    person = session.get_one(Participant, participant_id)
    health = person.health_record
    return {
        "record": {column.key: getattr(person, column.key) for column in Participant.__table__.columns},
        "health": None
        if health is None
        else {column.key: getattr(health, column.key) for column in HealthRecord.__table__.columns},
        "log": session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.participant_id == participant_id)
        ),
    }


def correction_entries(session: Session, participant_id: int) -> list[AuditEntry]:
    return [
        e
        for e in logged_about(session, participant_id, AuditAction.UPDATE, entity="participants")
        if e.details.get("what") == entry_situation.CORRECTION
    ]


# --- The rule ------------------------------------------------------------------------------


def test_a_correction_changes_the_entry_fields_only_and_is_logged_with_its_reason(
    session: Session, cip: User, person: Participant
) -> None:
    before = state(session, person.id)
    set_actor(session, Actor(cip.id, cip.email, cip.role.value))  # as the request does
    result = correct_entry_situation(
        session,
        cip,
        person.id,
        {"housing_status_at_entry": "rue", "reason": "Saisie erronée : la personne dormait dehors."},
    )
    session.commit()
    assert result == EntrySituation("rue", "aucune", False)

    after = state(session, person.id)
    changed = {k for k, v in after["record"].items() if before["record"][k] != v}
    assert changed <= {"housing_status_at_entry", "updated_at"}
    assert after["record"]["housing_status_at_entry"] == "rue"
    # The current situation is the record's own: untouched.
    assert after["record"]["housing_status"] == "logement_social"
    assert after["record"]["health_coverage"] == "css"
    assert after["health"] == before["health"]

    [entry] = correction_entries(session, person.id)
    assert entry.actor_id == cip.id
    assert entry.entity_id == person.id
    assert entry.details["fields"] == ["housing_status_at_entry"]
    # The log names the fields, never their values (it is no second copy of the record).
    assert "chu" not in str(entry.details)
    assert "rue" not in str(entry.details)
    assert entry.details["reason"] == "Saisie erronée : la personne dormait dehors."


def test_all_three_fields_at_once_and_an_equal_value_is_no_change(
    session: Session, cip: User, person: Participant
) -> None:
    result = correct_entry_situation(
        session,
        cip,
        person.id,
        {
            "housing_status_at_entry": "chu",  # as recorded: not a change
            "health_coverage_at_entry": "puma",
            "had_treating_doctor_first": True,
            "reason": "  Attestation de droits retrouvée.  ",
        },
    )
    assert result == EntrySituation("chu", "puma", True)
    session.expire_all()
    health = session.get_one(Participant, person.id).health_record
    assert health is not None
    assert (health.has_treating_doctor, health.had_treating_doctor_first) == (True, True)
    [entry] = correction_entries(session, person.id)
    assert entry.details["fields"] == ["had_treating_doctor_first", "health_coverage_at_entry"]
    assert "puma" not in str(entry.details)
    assert entry.details["reason"] == "Attestation de droits retrouvée."


def test_the_doctor_at_entry_without_health_details_starts_them(session: Session, cip: User) -> None:
    """No health details yet read as « no treating doctor »: a correction records them, the
    current situation still « no treating doctor »."""
    person = factories.participant(session, structure_id=cip.structure_id)
    assert person.health_record is None
    correct_entry_situation(
        session, cip, person.id, {"had_treating_doctor_first": True, "reason": "Médecin déclaré à l'entrée."}
    )
    session.expire_all()
    health = session.get_one(Participant, person.id).health_record
    assert health is not None
    assert (health.has_treating_doctor, health.had_treating_doctor_first) == (False, True)
    # Saying « no doctor at entry » of a record without health details changes nothing.
    other = factories.participant(session, structure_id=cip.structure_id, last_name="Autre")
    with pytest.raises(InvalidInput, match="Rien à corriger"):
        correct_entry_situation(session, cip, other.id, {"had_treating_doctor_first": False, "reason": "x"})


def test_a_later_update_of_the_record_keeps_the_correction(
    session: Session, cip: User, person: Participant
) -> None:
    correct_entry_situation(session, cip, person.id, {"health_coverage_at_entry": "ame", "reason": "Erreur."})
    services.update_participant(
        session, cip, person.id, {"health_coverage": "puma", "housing_status": "chrs"}
    )
    session.expire_all()
    again = session.get_one(Participant, person.id)
    assert (again.health_coverage_at_entry, again.housing_status_at_entry) == ("ame", "chu")


# --- Refusals: a French message, nothing written ---------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"housing_status_at_entry": "rue"}, "reason", entry_situation.NO_REASON),
        ({"housing_status_at_entry": "rue", "reason": "   "}, "reason", entry_situation.NO_REASON),
        (
            {"housing_status_at_entry": "chateau", "reason": "Erreur."},
            "housing_status_at_entry",
            "Code inconnu",
        ),
        (
            {"health_coverage_at_entry": "mutuelle", "reason": "Erreur."},
            "health_coverage_at_entry",
            "Code inconnu",
        ),
        # A housing code is not a coverage code: each field is checked against its own list.
        (
            {"health_coverage_at_entry": "rue", "reason": "Erreur."},
            "health_coverage_at_entry",
            "Code inconnu",
        ),
        (
            {"housing_status_at_entry": "chu", "reason": "Erreur."},
            "housing_status_at_entry",
            "Rien à corriger",
        ),
        ({"reason": "Erreur."}, None, "au moins une donnée"),
        ({"housing_status_at_entry": "rue", "reason": "x" * 2001}, "reason", "Au plus 2000 caractères."),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_written(
    session: Session, cip: User, person: Participant, values: dict, field: str | None, message: str
) -> None:
    before = state(session, person.id)
    with pytest.raises(InvalidInput) as refusal:
        correct_entry_situation(session, cip, person.id, values)
    if field is None:
        assert message in refusal.value.message
    else:
        assert any(message in text for text in refusal.value.errors[field])
    session.rollback()
    assert state(session, person.id) == before


@pytest.mark.parametrize("who", ["cp_emploi", "coordinator", "admin"])
def test_staff_outside_the_structure_may_not_correct(session: Session, person: Participant, who: str) -> None:
    before = state(session, person.id)
    with pytest.raises(RecordsNotVisible):
        correct_entry_situation(
            session, demo_user(session, who), person.id, {"housing_status_at_entry": "rue", "reason": "x"}
        )
    session.rollback()
    assert state(session, person.id) == before


def test_a_cip_of_another_structure_gets_the_answer_of_a_missing_record(
    session: Session, person: Participant
) -> None:
    before = state(session, person.id)
    with pytest.raises(ParticipantNotFound):
        correct_entry_situation(
            session,
            demo_user(session, "cip_other"),
            person.id,
            {"housing_status_at_entry": "rue", "reason": "x"},
        )
    session.rollback()
    assert state(session, person.id)["record"] == before["record"]


def test_an_anonymised_record_is_not_corrected(session: Session, cip: User, person: Participant) -> None:
    person.anonymised_at = utcnow()
    session.commit()
    with pytest.raises(RecordAnonymised):
        correct_entry_situation(session, cip, person.id, {"housing_status_at_entry": "rue", "reason": "x"})


# --- Through the API -------------------------------------------------------------------------


def test_the_api_corrects_with_a_reason_and_publishes_the_entry_situation(
    client: FlaskClient, session: Session, bearer, person: Participant
) -> None:
    headers = bearer("cip")
    answer = client.patch(
        f"/api/v1/participants/{person.id}/entry-situation",
        json={"housing_status_at_entry": "squat", "reason": "Erreur de saisie."},
        headers=headers,
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "housing_status_at_entry": "squat",
        "health_coverage_at_entry": "aucune",
        "had_treating_doctor_first": False,
    }
    record = client.get(f"/api/v1/participants/{person.id}", headers=headers).get_json()
    assert (record["housing_status"], record["housing_status_at_entry"]) == ("logement_social", "squat")
    assert record["health_coverage_at_entry"] == "aucune"
    listed = client.get("/api/v1/participants?limit=200", headers=headers).get_json()
    assert {p["id"]: p["housing_status_at_entry"] for p in listed}[person.id] == "squat"
    health = client.get(f"/api/v1/participants/{person.id}/health", headers=headers).get_json()
    assert (health["has_treating_doctor"], health["had_treating_doctor_first"]) == (True, False)
    assert len(correction_entries(session, person.id)) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"housing_status_at_entry": "rue"}, "reason", entry_situation.NO_REASON),
        ({"housing_status_at_entry": "rue", "reason": ""}, "reason", entry_situation.NO_REASON),
        (
            {"housing_status_at_entry": "chateau", "reason": "Erreur."},
            "housing_status_at_entry",
            "Code inconnu",
        ),
        ({"housing_status": "rue", "reason": "Erreur."}, "housing_status", "Champ inconnu."),
    ],
)
def test_the_api_refuses_bad_input_with_a_problem(
    client: FlaskClient, session: Session, bearer, person: Participant, body: dict, field: str, message: str
) -> None:
    before = state(session, person.id)["record"]
    answer = client.patch(
        f"/api/v1/participants/{person.id}/entry-situation", json=body, headers=bearer("cip")
    )
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert any(message in text for text in answer.get_json()["errors"][field])
    assert state(session, person.id)["record"] == before


def test_the_health_update_does_not_reach_the_doctor_at_entry(
    client: FlaskClient, bearer, person: Participant
) -> None:
    answer = client.put(
        f"/api/v1/participants/{person.id}/health",
        json={"had_treating_doctor_first": True},
        headers=bearer("cip"),
    )
    assert answer.status_code == 422
    assert "had_treating_doctor_first" in answer.get_json()["errors"]


@pytest.mark.parametrize(("who", "status"), [("cip_other", 404), ("cp_emploi", 403), ("coordinator", 403)])
def test_the_api_refuses_who_may_not_change_the_record(
    client: FlaskClient, session: Session, bearer, person: Participant, who: str, status: int
) -> None:
    before = state(session, person.id)["record"]
    answer = client.patch(
        f"/api/v1/participants/{person.id}/entry-situation",
        json={"housing_status_at_entry": "rue", "reason": "Erreur."},
        headers=bearer(who),
    )
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    assert state(session, person.id)["record"] == before
    assert correction_entries(session, person.id) == []


def test_entry_of_a_record_created_through_the_api_is_its_situation_then(client: FlaskClient, bearer) -> None:
    from tests.cases.test_api import new_person

    created = client.post(
        "/api/v1/participants", json=new_person(housing_status="squat"), headers=bearer("cip")
    ).get_json()
    assert (created["housing_status"], created["housing_status_at_entry"]) == ("squat", "squat")
    assert date.fromisoformat(created["entered_on"])


def test_two_health_updates_in_one_session_change_one_record(session: Session, cip: User) -> None:
    """The second update finds the health details the first created (no second row, which the
    unique person would refuse), and the doctor « at entry » stays what the first one wrote."""
    person = factories.participant(session, structure_id=cip.structure_id)
    services.update_health(session, cip, person.id, {"has_treating_doctor": False})
    services.update_health(
        session, cip, person.id, {"has_treating_doctor": True, "treating_doctor": "Dr Martin"}
    )
    session.expire_all()
    rows = session.scalars(select(HealthRecord).where(HealthRecord.participant_id == person.id)).all()
    assert [
        (row.has_treating_doctor, row.treating_doctor, row.had_treating_doctor_first) for row in rows
    ] == [(True, "Dr Martin", False)]


def test_the_record_s_timeline_shows_each_correction_with_its_fields_and_reason(
    session: Session, cip: User, person: Participant
) -> None:
    set_actor(session, Actor(cip.id, cip.email, cip.role.value))
    correct_entry_situation(
        session, cip, person.id, {"housing_status_at_entry": "rue", "reason": "Dormait dehors."}
    )
    correct_entry_situation(
        session,
        cip,
        person.id,
        {"health_coverage_at_entry": "ame", "had_treating_doctor_first": True, "reason": "Attestation AME."},
    )
    services.update_participant(session, cip, person.id, {"housing_status": "chrs"})  # not a correction
    events = [e for e in timeline(session, cip, person.id) if e.kind == "entry_corrected"]
    today = clock.today()
    assert events == [
        TimelineEvent(
            today, "entry_corrected", "Situation à l'entrée corrigée : logement", "Dormait dehors."
        ),
        TimelineEvent(
            today,
            "entry_corrected",
            "Situation à l'entrée corrigée : couverture maladie, médecin traitant",
            "Attestation AME.",
        ),
    ]


def test_a_correction_that_starts_the_health_details_then_a_health_update_keep_one_record(
    session: Session, cip: User
) -> None:
    person = factories.participant(session, structure_id=cip.structure_id)
    correct_entry_situation(
        session, cip, person.id, {"had_treating_doctor_first": True, "reason": "Déclaré."}
    )
    services.update_health(session, cip, person.id, {"has_treating_doctor": True})
    session.expire_all()
    rows = session.scalars(select(HealthRecord).where(HealthRecord.participant_id == person.id)).all()
    assert [(row.has_treating_doctor, row.had_treating_doctor_first) for row in rows] == [(True, True)]
