"""The referral loop through the API: every path of DESIGN §7's diagram and every forbidden move,
on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.db import utcnow
from referral.partners.models import Criterion, Opportunity, OpportunityStatus
from referral.referrals import matching_index
from referral.referrals.models import Referral, ReferralTransition
from referral.referrals.services import expire_overdue
from tests import factories


@dataclass
class World:
    person: int
    validated: int  # opportunity that needs the CP's validation (housing, capacity 1)
    direct: int  # opportunity sent straight to the partner


@pytest.fixture
def world(session: Session) -> World:
    lyon = factories.territory(session, "lyon")
    person = factories.participant(
        session, last_name="Orientee", programme="CVG", entered_on=clock.today() - timedelta(days=200)
    )
    for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
        for category in (DataCategory.SITUATION, DataCategory.RESOURCES):
            session.add(
                Consent(
                    participant_id=person.id,
                    recipient=recipient,
                    data_category=category,
                    given_on=clock.today() - timedelta(days=1),
                )
            )
    validated = factories.opportunity(
        session,
        territory_id=lyon.id,
        domain_code="logement",
        capacity=1,
        shared_categories=["resources"],
        title="Logement accompagné",
    )
    direct = factories.opportunity(
        session,
        territory_id=lyon.id,
        domain_code="hebergement",
        capacity=3,
        requires_cp_validation=False,
        title="Hébergement direct",
    )
    session.commit()
    matching_index.forget_index()
    return World(person.id, validated.id, direct.id)


def accept(client: FlaskClient, cip, world: World, opportunity_id: int) -> dict:
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": world.person, "opportunity_id": opportunity_id},
        headers=cip,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "draft"
    return body


def move(
    client: FlaskClient, headers, referral: dict, action: str, expected: int = 200, **extra: object
) -> dict:
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"action": action, "version": referral["version"], **extra},
        headers=headers,
    )
    assert response.status_code == expected, response.get_json()
    body = response.get_json()
    if expected == 200:
        referral.update(state=body["state"], version=body["version"])
    return body


@pytest.fixture
def cip(bearer):
    return bearer("cip")


@pytest.fixture
def cp(bearer):
    return bearer("cp_logement")


def places_taken(session: Session, opportunity_id: int) -> int:
    session.expire_all()
    return session.get(Opportunity, opportunity_id).places_taken


def test_via_the_cp_to_a_closed_outcome(client: FlaskClient, session: Session, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    assert referral["state"] == "submitted"
    move(client, cp, referral, "validate")
    assert referral["state"] == "sent"
    move(client, cp, referral, "partner_accept")
    assert referral["state"] == "accepted"
    assert places_taken(session, world.validated) == 1
    move(client, cip, referral, "start")
    move(client, cp, referral, "close", outcome="objectif_atteint")
    assert referral["state"] == "closed"
    assert places_taken(session, world.validated) == 1  # the place was used

    detail = client.get(f"/api/v1/referrals/{referral['id']}", headers=cp).get_json()
    assert [t["to_state"] for t in detail["transitions"]] == [
        "draft",
        "submitted",
        "sent",
        "accepted",
        "started",
        "closed",
    ]
    assert detail["shared_dossier"]["resources"]["household_size"] == 1
    assert "health" not in detail["shared_dossier"]
    timeline = client.get(f"/api/v1/participants/{world.person}/timeline", headers=cip).get_json()
    assert any(e["kind"] == "referral" and e["title"].endswith("Clôturée") for e in timeline)


def test_direct_opportunity_goes_straight_to_the_partner(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.direct)
    move(client, cip, referral, "submit")
    assert referral["state"] == "sent"


def test_waitlist_then_accept(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "validate")
    move(client, cp, referral, "partner_waitlist")
    assert referral["state"] == "waitlisted"
    move(client, cp, referral, "partner_accept")
    assert referral["state"] == "accepted"


def test_refusals_and_requests_for_information(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "request_info", comment="Merci de joindre l'avis d'imposition.")
    assert referral["state"] == "needs_info"
    move(client, cip, referral, "submit")
    move(client, cp, referral, "validate")
    body = move(client, cp, referral, "partner_refuse", expected=422)
    assert body["errors"]["reason"] == ["Champ obligatoire."]
    move(client, cp, referral, "partner_refuse", expected=422, reason="pas_un_motif")
    move(client, cp, referral, "partner_refuse", reason="pas_de_place")
    assert referral["state"] == "refused"


def test_decline_by_the_cp(client: FlaskClient, cip, cp, world: World, session: Session) -> None:
    from referral.reference.queries import code_set

    reason = sorted(code_set(session, "referral_decline_reason"))[0]
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "decline", reason=reason)
    assert referral["state"] == "declined"


def test_abandon_before_the_start_gives_the_place_back(
    client: FlaskClient, session: Session, cip, cp, world: World
) -> None:
    from referral.reference.queries import code_set

    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "validate")
    move(client, cp, referral, "partner_accept")
    assert places_taken(session, world.validated) == 1
    move(client, cip, referral, "abandon", reason=sorted(code_set(session, "referral_abandon_reason"))[0])
    assert referral["state"] == "abandoned"
    assert places_taken(session, world.validated) == 0


def test_cancel_a_draft(client: FlaskClient, cip, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "cancel")
    assert referral["state"] == "cancelled"
    # Once over, the person may be referred there again.
    accept(client, cip, world, world.validated)


def test_unanswered_referrals_expire_after_the_delay(
    client: FlaskClient, session: Session, cip, cp, world: World
) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "validate")
    delay = session.get(Opportunity, world.validated).answer_delay_days
    session.execute(
        update(Referral)
        .where(Referral.id == referral["id"])
        .values(waiting_since=utcnow() - timedelta(days=delay - 1))
    )
    assert expire_overdue(session) == []  # not yet
    session.execute(
        update(Referral)
        .where(Referral.id == referral["id"])
        .values(waiting_since=utcnow() - timedelta(days=delay, minutes=1))
    )
    assert expire_overdue(session) == [referral["id"]]
    assert expire_overdue(session) == []  # running it twice changes nothing more
    last = session.scalars(
        select(ReferralTransition)
        .where(ReferralTransition.referral_id == referral["id"])
        .order_by(ReferralTransition.id.desc())
    ).first()
    assert last.to_state.value == "expired"
    assert last.actor_id is None  # the system


# --- Forbidden moves ------------------------------------------------------------------------


def test_wrong_state_is_409_in_french(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, cp, referral, "validate")
    body = move(client, cp, referral, "validate", expected=409)
    assert "ne s'applique pas à une orientation à l'état « Transmise au partenaire »" in body["detail"]


def test_a_cp_cannot_reach_a_draft(client: FlaskClient, cip, cp, world: World) -> None:
    """A draft is the CIP's alone (issue 14): for the CP it is not there at all."""
    referral = accept(client, cip, world, world.validated)
    move(client, cp, referral, "validate", expected=404)


def test_wrong_role_is_409(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    body = move(client, cip, referral, "validate", expected=409)
    assert "Votre rôle ne permet pas" in body["detail"]


def test_a_cp_of_another_domain_does_not_see_it(client: FlaskClient, cip, bearer, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")
    move(client, bearer("cp_emploi"), referral, "validate", expected=404)


def test_stale_version_is_409(client: FlaskClient, cip, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    stale = dict(referral)
    move(client, cip, referral, "submit")
    body = move(client, cip, stale, "cancel", expected=409)
    assert "modifiée par quelqu'un d'autre" in body["detail"]


def test_no_consent_no_submission(client: FlaskClient, session: Session, cip, world: World) -> None:
    session.execute(
        update(Consent)
        .where(
            Consent.participant_id == world.person,
            Consent.recipient == ConsentRecipient.PARTNER,
            Consent.data_category == DataCategory.RESOURCES,
        )
        .values(revoked_on=clock.today())
    )
    session.commit()
    referral = accept(client, cip, world, world.validated)
    body = move(client, cip, referral, "submit", expected=409)
    assert "Ressources →" in body["detail"]
    assert referral["state"] == "draft"


def test_no_capacity_no_acceptance(client: FlaskClient, session: Session, cip, cp, world: World) -> None:
    other = factories.participant(
        session,
        first_name="Second",
        last_name="Personne",
        programme="CVG",
        entered_on=clock.today() - timedelta(days=100),
    )
    for category in (DataCategory.SITUATION, DataCategory.RESOURCES):
        for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
            session.add(
                Consent(
                    participant_id=other.id,
                    recipient=recipient,
                    data_category=category,
                    given_on=clock.today(),
                )
            )
    session.commit()
    first = accept(client, cip, world, world.validated)
    second_world = World(other.id, world.validated, world.direct)
    second = accept(client, cip, second_world, world.validated)
    for referral in (first, second):
        move(client, cip, referral, "submit")
        move(client, cp, referral, "validate")
    move(client, cp, first, "partner_accept")
    body = move(client, cp, second, "partner_accept", expected=409)
    assert "liste d'attente" in body["detail"]
    assert places_taken(session, world.validated) == 1
    move(client, cp, second, "partner_waitlist")


def test_paused_opportunity_takes_no_new_referral(
    client: FlaskClient, session: Session, cip, world: World
) -> None:
    referral = accept(client, cip, world, world.validated)
    session.execute(
        update(Opportunity).where(Opportunity.id == world.validated).values(status=OpportunityStatus.PAUSED)
    )
    session.commit()
    body = move(client, cip, referral, "submit", expected=409)
    assert "suspendue" in body["detail"]
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": world.person, "opportunity_id": world.direct},
        headers=cip,
    )
    assert response.status_code == 201  # the other one is still open


def test_not_eligible_any_more_is_refused_with_the_reasons(
    client: FlaskClient, session: Session, cip, world: World
) -> None:
    session.add(Criterion(opportunity_id=world.direct, field="programme", op="eq", value="PHC", hard=True))
    session.execute(update(Opportunity).where(Opportunity.id == world.direct).values(version=2))
    session.commit()
    matching_index.forget_index()
    response = client.post(
        "/api/v1/referrals",
        json={"participant_id": world.person, "opportunity_id": world.direct},
        headers=cip,
    )
    assert response.status_code == 409
    body = response.get_json()
    assert "ne remplit plus les critères" in body["detail"]
    assert body["errors"]["opportunity_id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "voler", "version": 1}, "action"),
        ({"action": "submit"}, "version"),
        ({"action": "submit", "version": "un"}, "version"),
    ],
)
def test_bad_transition_input_is_422(
    client: FlaskClient, cip, world: World, payload: dict, field: str
) -> None:
    referral = accept(client, cip, world, world.validated)
    response = client.post(f"/api/v1/referrals/{referral['id']}/transitions", json=payload, headers=cip)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_coordinator_sees_referrals_without_names(client: FlaskClient, bearer, cip, world: World) -> None:
    referral = accept(client, cip, world, world.validated)
    move(client, cip, referral, "submit")  # a draft is the CIP's alone
    listed = client.get("/api/v1/referrals?territory=lyon", headers=bearer("coordinator")).get_json()
    assert listed
    assert all("shared_dossier" not in item for item in listed)
    assert "Orientee" not in str(listed)


def test_the_cp_is_informed_of_a_direct_referral(client: FlaskClient, cip, cp, world: World) -> None:
    referral = accept(client, cip, world, world.direct)
    move(client, cip, referral, "submit")
    notes = client.get("/api/v1/me/notifications", headers=cp).get_json()
    assert any("transmise directement au partenaire" in note["message"] for note in notes)
