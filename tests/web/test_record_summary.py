"""The case record opens on a summary (open needs, referrals under way, next deadlines) and its
forms open on demand (issue 16)."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, Need
from tests.helpers import DEMO, csrf_token, login
from tests.referrals import test_lifecycle
from tests.referrals.test_lifecycle import World, accept

world = test_lifecycle.world


def test_the_record_starts_with_what_is_open_under_way_and_due(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    consent = session.scalars(select(Consent).where(Consent.participant_id == world.person)).first()
    consent.expires_on = clock.today() + timedelta(days=20)
    session.add(Need(participant_id=world.person, domain_code="sante", priority=1, opened_on=clock.today()))
    session.commit()
    accept(client, bearer("cip"), world, world.validated)

    login(client, DEMO["cip"])
    html = client.get(f"/salaries/{world.person}").get_data(as_text=True)
    summary = html[html.index('id="resume"') : html.index('id="parcours"')]
    assert "Freins non résolus (1)" in summary
    assert "Santé" in summary  # the domain in words
    assert "sante" not in summary.replace('href="#', "")
    assert '<a href="#orientations-en-cours">1 orientation en cours</a>' in summary
    assert "Fin de parcours autorisée" in summary
    assert f"{consent.expires_on:%d/%m/%Y}" in summary
    assert "Fin du consentement" in summary
    # The forms wait for a click: closed <details>, each named by what it does.
    assert '<details class="on-demand"><summary>Ajouter un contrat</summary>' in html
    assert '<details class="on-demand"><summary>Modifier la situation</summary>' in html


def test_a_refused_form_comes_back_open(client: FlaskClient, world: World) -> None:
    login(client, DEMO["cip"])
    page = client.get(f"/salaries/{world.person}").get_data(as_text=True)
    answer = client.post(
        f"/salaries/{world.person}/contrats",
        data={
            "csrf_token": csrf_token(page),
            "kind": "cddi_phc",
            "weekly_hours": "50",
            "starts_on": "2026-06-01",
        },
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert '<details class="on-demand" open><summary>Ajouter un contrat</summary>' in html
