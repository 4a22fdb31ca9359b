"""Every read of personal data is recorded (issue 14, point 5), on both databases: a shared
dossier read by a CP (API, page, print, list), the CIP's people listed by reverse matching, a
page re-rendered with 422 (the read outlives the refused write), and refused attempts on records
out of scope (« accès refusé », the 404 unchanged)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from referral.cases.models import Need
from referral.referrals import matching_index
from referral.territories.models import Structure
from tests import factories
from tests.helpers import DEMO, csrf_token, login
from tests.referrals.sharing_world import Shared, submitted_health_referral


def entries(session: Session, **where: object) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(session.scalars(query))


@pytest.fixture
def shared(client: FlaskClient, session: Session, bearer) -> Shared:
    return submitted_health_referral(client, session, bearer)


def cp_reads(session: Session, shared: Shared) -> list[AuditEntry]:
    return entries(
        session,
        participant_id=shared.person,
        action=AuditAction.READ,
        entity="referrals",
        actor_email=DEMO["cp_sante"],
    )


def test_a_cp_reading_a_shared_dossier_through_the_api_is_logged(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    headers = bearer("cp_sante")
    assert client.get(f"/api/v1/referrals/{shared.referral}", headers=headers).status_code == 200
    (read,) = cp_reads(session, shared)
    assert (read.entity_id, read.actor_role, read.details) == (
        shared.referral,
        "cp",
        {"what": "dossier partagé"},
    )
    client.get("/api/v1/referrals", headers=headers)
    assert len(cp_reads(session, shared)) == 2


def test_a_cp_reading_a_shared_dossier_on_the_pages_is_logged(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    login(client, DEMO["cp_sante"])
    assert client.get(f"/orientations/{shared.referral}").status_code == 200
    assert client.get(f"/orientations/{shared.referral}/dossier").status_code == 200
    assert client.get("/orientations/").status_code == 200
    whats = [entry.details["what"] for entry in cp_reads(session, shared)]
    assert whats == ["dossier partagé", "dossier partagé (impression)", "nom (orientations)"]


def test_reverse_matching_logs_each_person_it_names(client: FlaskClient, session: Session, bearer) -> None:
    lyon = factories.territory(session, "lyon")
    own = factories.participant(session, last_name="Correspondante")
    factories.need(session, participant_id=own.id, domain_code="logement")
    opportunity = factories.opportunity(
        session, territory_id=lyon.id, domain_code="logement", title="Logement test"
    )
    session.commit()
    matching_index.forget_index()
    body = client.get(f"/api/v1/opportunities/{opportunity.id}/matches", headers=bearer("cip")).get_json()
    named = {person["id"] for person in body["participants"]}
    assert own.id in named
    logged = {
        entry.participant_id
        for entry in entries(session, action=AuditAction.READ, entity="participants")
        if entry.details.get("what") == "correspondance à une opportunité"
    }
    assert logged == named


def test_a_record_page_refused_with_422_still_logs_its_read(client: FlaskClient, session: Session) -> None:
    person = factories.participant(session, last_name="Refusée")
    session.commit()
    login(client, DEMO["cip"])
    token = csrf_token(client.get(f"/salaries/{person.id}").get_data(as_text=True))
    before = len(entries(session, participant_id=person.id, action=AuditAction.READ))
    response = client.post(
        f"/salaries/{person.id}/freins", data={"domain": "inconnu", "priority": "1", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "Refusée" in response.get_data(as_text=True)  # the page showed the record again
    after = entries(session, participant_id=person.id, action=AuditAction.READ)
    assert len(after) > before
    assert {entry.details["what"] for entry in after[before:]} >= {"dossier"}
    # The refused write itself left nothing.
    assert not session.scalars(select(Need).where(Need.participant_id == person.id)).all()


def test_an_attempt_out_of_scope_is_logged_and_answered_like_a_missing_record(
    client: FlaskClient, session: Session, bearer
) -> None:
    other = session.scalar(select(Structure).where(Structure.key == "demo-lyon-2"))
    elsewhere = factories.participant(session, structure_id=other.id, last_name="Ailleurs")
    session.commit()
    headers = bearer("cip")
    refused = client.get(f"/api/v1/participants/{elsewhere.id}", headers=headers)
    missing = client.get("/api/v1/participants/999999", headers=headers)
    assert refused.status_code == missing.status_code == 404
    assert refused.get_json() == missing.get_json()
    (denied,) = entries(session, participant_id=elsewhere.id, action=AuditAction.DENIED)
    assert (denied.actor_email, denied.entity, denied.entity_id) == (
        DEMO["cip"],
        "participants",
        elsewhere.id,
    )
    assert denied.details == {"what": "accès refusé"}
    assert not entries(session, entity_id=999999, action=AuditAction.DENIED)  # nothing there to refuse


def test_a_cp_asking_for_a_record_is_logged_as_refused(client: FlaskClient, session: Session, bearer) -> None:
    person = factories.participant(session, last_name="Gardée")
    session.commit()
    login(client, DEMO["cp_emploi"])
    assert client.get(f"/salaries/{person.id}").status_code in (403, 404)
    assert client.get(f"/api/v1/participants/{person.id}", headers=bearer("cp_emploi")).status_code == 404
    assert entries(
        session, participant_id=person.id, action=AuditAction.DENIED, actor_email=DEMO["cp_emploi"]
    )


def test_an_attempt_on_a_referral_out_of_scope_is_logged(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    response = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_logement"))
    assert response.status_code == 404
    (denied,) = entries(session, participant_id=shared.person, action=AuditAction.DENIED)
    assert (denied.entity, denied.entity_id, denied.actor_email) == (
        "referrals",
        shared.referral,
        DEMO["cp_logement"],
    )
