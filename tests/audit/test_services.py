"""Every write and every read of a person's record lands in the audit log, with who did it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from referral.audit.services import Actor, set_actor
from referral.cases.models import Need
from tests import factories
from tests.helpers import DEMO


def entries(session: Session, **where: object) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(session.scalars(query))


def test_writes_are_logged_with_their_actor_and_no_values(session: Session) -> None:
    set_actor(session, Actor(user_id=42, email="cip@example.org", role="cip", remote_addr="10.0.0.1"))
    person = factories.participant(session, monthly_resources=610)
    need = factories.need(session, participant_id=person.id)
    created = entries(session, participant_id=person.id, action=AuditAction.CREATE)
    assert {(entry.entity, entry.entity_id) for entry in created} == {
        ("participants", person.id),
        ("needs", need.id),
    }
    assert all(
        entry.actor_email == "cip@example.org" and entry.remote_addr == "10.0.0.1" for entry in created
    )

    person.monthly_resources = 700
    session.flush()
    (update,) = entries(session, participant_id=person.id, action=AuditAction.UPDATE)
    assert update.details == {"fields": ["monthly_resources"]}
    assert "700" not in str(update.details)  # names of fields, never their values

    session.delete(session.get(Need, need.id))
    session.flush()
    assert entries(session, entity="needs", entity_id=need.id, action=AuditAction.DELETE)


def test_a_rolled_back_write_leaves_no_entry(session: Session) -> None:
    before = len(entries(session))
    savepoint = session.begin_nested()
    factories.participant(session)
    savepoint.rollback()
    assert len(entries(session)) == before


def test_reading_a_record_through_the_api_is_logged(client: FlaskClient, session: Session, bearer) -> None:
    person = factories.participant(session)
    session.commit()
    response = client.get(f"/api/v1/participants/{person.id}", headers=bearer("cip"))
    assert response.status_code == 200
    (read,) = entries(session, participant_id=person.id, action=AuditAction.READ)
    assert read.actor_email == DEMO["cip"]
    assert read.actor_role == "cip"
    assert read.details == {"what": "dossier"}


def test_a_refused_read_is_not_a_read(client: FlaskClient, session: Session, bearer) -> None:
    person = factories.participant(session)
    session.commit()
    assert client.get(f"/api/v1/participants/{person.id}", headers=bearer("coordinator")).status_code == 404
    assert not entries(session, participant_id=person.id, action=AuditAction.READ)
