"""Destructive actions ask first, without JavaScript (issue 16): the first post shows what will
happen and changes nothing; the confirmation page carries every posted field (the reason too);
only its « Confirmer » acts."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from referral.cases.models import Consent
from referral.referrals.models import Referral, ReferralState
from tests.helpers import DEMO, csrf_token, login
from tests.referrals import test_lifecycle
from tests.referrals.test_lifecycle import World, accept, move

world = test_lifecycle.world  # the same person, consents and opportunities as the lifecycle tests


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def decline_form(client: FlaskClient, bearer, world: World) -> tuple[dict, dict[str, object]]:
    """A referral the CIP submitted, and the housing CP's decline form on its page (no reason yet)."""
    referral = accept(client, bearer("cip"), world, world.validated)
    move(client, bearer("cip"), referral, "submit")
    login(client, DEMO["cp_logement"])
    page = client.get(f"/orientations/{referral['id']}").get_data(as_text=True)
    return referral, {"csrf_token": csrf_token(page), "action": "decline", "version": referral["version"]}


def test_cancelling_a_referral_asks_then_cancels(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral = accept(client, bearer("cip"), world, world.validated)
    login(client, DEMO["cip"])
    page = client.get(f"/orientations/{referral['id']}").get_data(as_text=True)
    assert 'class="btn btn-sm btn-destructive" type="submit">Annuler…' in page
    form = {
        "csrf_token": csrf_token(page),
        "action": "cancel",
        "version": referral["version"],
        "comment": "Doublon",
    }

    asked = client.post(f"/orientations/{referral['id']}/transitions", data=form)
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert "Annuler cette orientation ?" in html
    assert "Revenir sans rien changer" in html
    carried = hidden(html)
    assert carried["action"] == "cancel"
    assert carried["comment"] == "Doublon"
    assert carried["confirme"] == "1"
    session.expire_all()
    assert session.get(Referral, referral["id"]).state is ReferralState.DRAFT  # nothing happened yet

    done = client.post(f"/orientations/{referral['id']}/transitions", data=carried)
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Referral, referral["id"]).state is ReferralState.CANCELLED


def test_the_decline_confirmation_carries_the_posted_reason(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral, form = decline_form(client, bearer, world)
    form["reason"] = "non_eligible"
    html = client.post(f"/orientations/{referral['id']}/transitions", data=form).get_data(as_text=True)
    assert "Refuser cette orientation ?" in html
    assert hidden(html)["reason"] == "non_eligible"
    assert "non_eligible</dd>" not in html  # the reason is shown in words
    client.post(f"/orientations/{referral['id']}/transitions", data=hidden(html))
    session.expire_all()
    declined = session.get(Referral, referral["id"])
    assert declined.state is ReferralState.DECLINED
    assert declined.transitions[-1].reason == "non_eligible"


def test_a_missing_reason_is_refused_before_any_confirmation(
    client: FlaskClient, session: Session, bearer, world: World
) -> None:
    referral, form = decline_form(client, bearer, world)
    form["confirme"] = "1"
    assert client.post(f"/orientations/{referral['id']}/transitions", data=form).status_code == 422
    session.expire_all()
    assert session.get(Referral, referral["id"]).state is ReferralState.SUBMITTED  # nothing moved


def test_withdrawing_a_consent_asks_first(client: FlaskClient, session: Session, world: World) -> None:
    consent = session.query(Consent).filter_by(participant_id=world.person).order_by(Consent.id).first()
    login(client, DEMO["cip"])
    page = client.get(f"/salaries/{world.person}").get_data(as_text=True)
    url = f"/salaries/{world.person}/consentements/{consent.id}/retrait"
    asked = client.post(url, data={"csrf_token": csrf_token(page)})
    assert asked.status_code == 200
    assert "Retirer ce consentement ?" in asked.get_data(as_text=True)
    session.expire_all()
    assert session.get(Consent, consent.id).revoked_on is None
    done = client.post(url, data=hidden(asked.get_data(as_text=True)) | {"csrf_token": csrf_token(page)})
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Consent, consent.id).revoked_on is not None
