"""Refusals are chosen (issue 15, point 9): the decline, refuse and abandon forms start with no reason
and require one; the history and the CIP's timeline say the reason by its French label."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.referrals.models import Referral, ReferralState
from tests.helpers import DEMO, csrf_token, login
from tests.referrals.need_world import World, build_world, create_draft, submit_everything


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


DECLINE_LABEL = "Plus de place sur l’offre"


def submitted(client: FlaskClient, bearer, world: World) -> int:
    draft = create_draft(client, bearer, world)
    submit_everything(client, bearer, world, draft)
    return draft["id"]


def decline_form(html: str) -> str:
    match = re.search(r'<form[^>]*aria-label="Refuser">.*?</form>', html, re.S)
    assert match, "no decline form"
    return match.group(0)


def test_the_decline_form_starts_with_no_reason_and_requires_one(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral_id = submitted(client, bearer, world)
    login(client, DEMO["cp_logement"])
    page = client.get(f"/orientations/{referral_id}").get_data(as_text=True)
    form = decline_form(page)
    assert re.search(r'<select[^>]*name="reason"[^>]*required', form)
    assert '<option value="" selected disabled>Choisir un motif…</option>' in form
    assert " selected" not in form.replace('<option value="" selected disabled>', "")
    version = session.get(Referral, referral_id).version
    refused = client.post(
        f"/orientations/{referral_id}/transitions",
        data={"csrf_token": csrf_token(page), "action": "decline", "version": str(version), "reason": ""},
    )
    assert refused.status_code == 422
    assert "Un motif est obligatoire." in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Referral, referral_id).state is ReferralState.SUBMITTED


def test_the_history_and_the_timeline_show_the_reason_label(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral_id = submitted(client, bearer, world)
    version = session.get(Referral, referral_id).version
    declined = client.post(
        f"/api/v1/referrals/{referral_id}/transitions",
        json={"action": "decline", "version": version, "reason": "pas_de_place", "comment": "Complet"},
        headers=bearer("cp_logement"),
    )
    assert declined.status_code == 200, declined.get_json()
    login(client, DEMO["cp_logement"])
    history = client.get(f"/orientations/{referral_id}").get_data(as_text=True)
    assert f"motif : {DECLINE_LABEL}" in history, history[history.find("historique") :][:1200]
    assert "motif : pas_de_place" not in history
    client.post("/deconnexion", data={"csrf_token": csrf_token(history)})
    login(client, DEMO["cip"])
    timeline = client.get(f"/salaries/{world.person_id}/chronologie").get_data(as_text=True)
    assert f"Motif : {DECLINE_LABEL}" in timeline
    assert "pas_de_place" not in timeline
