"""A referral a CIP completes in one go, and what the CP then sees (issue 15, points 3, 5, 6, 8):
the need a proposal answers is recorded on the referral, the draft lists exactly the consents it
needs and records the missing ones with the submission (or neither), the record lists the
referrals under way, and the CP's lists name the person only under the identity consent."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.referrals.models import Referral, ReferralState
from referral.tasks.models import Notification
from tests.helpers import DEMO, csrf_token, login
from tests.referrals.need_world import World, build_world, consents_of, create_draft, submit_everything


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def test_a_proposal_names_its_need_and_the_referral_records_it(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    answer = client.get(f"/api/v1/participants/{world.person_id}/proposals", headers=bearer("cip")).get_json()
    ours = next(p for p in answer["eligible"] if p["opportunity_id"] == world.opportunity_id)
    assert ours["answers_need"] == {
        "id": world.need_id,
        "domain": "logement",
        "subtype": "logement.social",
        "priority": 1,
        "label": "Logement social",
    }
    assert [group["need"]["id"] for group in answer["by_need"]] == [world.need_id, world.other_need_id]
    assert {"others", "gaps"} <= set(answer)
    draft = create_draft(client, bearer, world)
    assert session.get(Referral, draft["id"]).need_id == world.need_id


def test_a_need_the_opportunity_does_not_answer_is_refused(client: FlaskClient, bearer, world: World) -> None:
    response = client.post(
        "/api/v1/referrals",
        json={
            "participant_id": world.person_id,
            "opportunity_id": world.opportunity_id,
            "need_id": world.other_need_id,
        },
        headers=bearer("cip"),
    )
    assert response.status_code == 422
    assert "need_id" in response.get_json()["errors"]


def test_the_proposals_page_groups_by_need_and_lists_the_consents_needed(
    client: FlaskClient, world: World
) -> None:
    login(client, DEMO["cip"])
    page = client.get(f"/orientations/salarie/{world.person_id}/propositions").get_data(as_text=True)
    assert page.index("Frein : Logement social") < page.index("Frein : Santé")
    assert "Répond au frein : Logement social, priorité 1" in page
    assert "Ressources → CHRS Horizon Saône" in page
    assert "Identité et situation → chargé·es de partenariats" in page
    assert "Autres opportunités" in page


def test_the_draft_records_the_missing_consents_and_submits_in_one_request(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    draft = create_draft(client, bearer, world, comment="Sortie de CHU en mars")
    login(client, DEMO["cip"])
    page = client.get(f"/orientations/{draft['id']}").get_data(as_text=True)
    # Exactly what the referral needs: 2 categories × (CPs, the partner by name), one already given.
    for label in (
        "Identité et situation → chargé·es de partenariats — déjà donné",
        "Identité et situation → CHRS Horizon Saône",
        "Ressources → chargé·es de partenariats",
        "Ressources → CHRS Horizon Saône",
    ):
        assert label in page
    assert "Enregistrer et soumettre" in page
    form = {
        "csrf_token": csrf_token(page),
        "version": str(draft["version"]),
        "consents": ["partner:situation", "cp:resources", "partner:resources"],
        "given_on": clock.today().isoformat(),
        "submit": "1",
    }
    # Without the person's agreement: nothing recorded, nothing submitted.
    refused = client.post(f"/orientations/{draft['id']}/consentements", data=form)
    assert refused.status_code == 422
    assert "accord" in refused.get_data(as_text=True)
    assert len(consents_of(session, world.person_id)) == 1
    # A consent the referral does not ask for is refused too.
    odd = client.post(
        f"/orientations/{draft['id']}/consentements",
        data={**form, "agreed": "1", "consents": ["partner:health"]},
    )
    assert odd.status_code == 422
    assert len(consents_of(session, world.person_id)) == 1

    done = client.post(f"/orientations/{draft['id']}/consentements", data={**form, "agreed": "1"})
    assert done.status_code == 302
    assert sorted(consents_of(session, world.person_id)) == sorted(
        [
            ("cp", None, "situation"),
            ("partner", world.partner_id, "situation"),
            ("cp", None, "resources"),
            ("partner", world.partner_id, "resources"),
        ]
    )
    assert session.get(Referral, draft["id"]).state is ReferralState.SUBMITTED


def test_a_refused_submission_rolls_its_consents_back(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    draft = create_draft(client, bearer, world)
    login(client, DEMO["cip"])
    page = client.get(f"/orientations/{draft['id']}").get_data(as_text=True)
    base = {"csrf_token": csrf_token(page), "agreed": "1", "submit": "1"}
    # Only one of the three missing consents: the submission is refused, and the one is not kept.
    partial = client.post(
        f"/orientations/{draft['id']}/consentements",
        data={**base, "version": str(draft["version"]), "consents": ["partner:situation"]},
    )
    assert partial.status_code == 409
    assert "CHRS Horizon Saône" in partial.get_data(as_text=True)
    assert len(consents_of(session, world.person_id)) == 1
    # A stale version: refused, rolled back.
    stale = client.post(
        f"/orientations/{draft['id']}/consentements",
        data={
            **base,
            "version": str(draft["version"] + 5),
            "consents": ["partner:situation", "cp:resources", "partner:resources"],
        },
    )
    assert stale.status_code == 409
    assert len(consents_of(session, world.person_id)) == 1
    # « Enregistrer sans soumettre » keeps them, and the draft stays a draft.
    kept = client.post(
        f"/orientations/{draft['id']}/consentements",
        data={**base, "submit": "0", "version": str(draft["version"]), "consents": ["partner:situation"]},
    )
    assert kept.status_code == 302
    assert len(consents_of(session, world.person_id)) == 2
    assert session.get(Referral, draft["id"]).state is ReferralState.DRAFT


def test_the_api_records_consents_and_submits(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    draft = create_draft(client, bearer, world)
    url = f"/api/v1/referrals/{draft['id']}/consents"
    keys = ["partner:situation", "cp:resources", "partner:resources"]
    refused = client.post(url, json={"version": draft["version"], "consents": keys}, headers=bearer("cip"))
    assert refused.status_code == 422
    assert "agreed" in refused.get_json()["errors"]
    done = client.post(
        url, json={"version": draft["version"], "consents": keys, "agreed": True}, headers=bearer("cip")
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "submitted"


def test_the_record_lists_the_referrals_under_way(client: FlaskClient, bearer, world: World) -> None:
    draft = create_draft(client, bearer, world)
    login(client, DEMO["cip"])
    page = client.get(f"/salaries/{world.person_id}").get_data(as_text=True)
    section = page[page.index('id="orientations-en-cours"') :]
    assert f'href="/orientations/{draft["id"]}"' in section
    assert "Brouillon" in section or "brouillon" in section
    assert "Compléter les consentements et soumettre (CIP)" in section
    assert "Logement social, priorité 1" in section


def test_the_cp_sees_who_why_and_from_whom(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    draft = create_draft(client, bearer, world, comment="Sortie de CHU en mars")
    submit_everything(client, bearer, world, draft)
    login(client, DEMO["cp_logement"])
    for url in ("/orientations/", "/", f"/orientations/{draft['id']}"):
        page = client.get(url).get_data(as_text=True)
        assert "Salomé Frein" in page, url
        assert "(CIP), FNDSA" in page or "(CIP)" in page, url
        assert "Logement social, priorité 1" in page, url
        assert "Sortie de CHU en mars" in page, url
    queue = client.get("/orientations/").get_data(as_text=True)
    assert "0 jour" in queue
    # The stored notification names the need and the sender, never the person.
    notes = session.scalars(select(Notification).where(Notification.kind == "referral_submitted")).all()
    assert notes
    for note in notes:
        assert "Logement social, priorité 1" in note.message
        assert "(CIP)" in note.message
        assert "Salomé" not in note.message


def test_without_the_identity_consent_the_cp_reads_a_number(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    draft = create_draft(client, bearer, world)
    submit_everything(client, bearer, world, draft)
    # The person withdraws the CPs' identity consent: from today the name is gone everywhere.
    for consent in session.scalars(
        select(Consent).where(
            Consent.participant_id == world.person_id,
            Consent.recipient == ConsentRecipient.CP,
            Consent.data_category == DataCategory.SITUATION,
        )
    ):
        consent.revoked_on = clock.today()
    session.commit()
    login(client, DEMO["cp_logement"])
    for url in ("/orientations/", "/", f"/orientations/{draft['id']}"):
        page = client.get(url).get_data(as_text=True)
        assert "Salomé" not in page, url
        assert f"Personne n° {world.person_id}" in page, url
        assert "Logement social, priorité 1" in page, url
