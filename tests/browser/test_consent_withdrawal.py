"""In Chromium: a health referral is under way; the CIP withdraws the health consent on the
record page; the health CP is told on their home page (no data in the notice) and, on the
referral's page and the printable dossier, finds « retiré par la personne le … » instead of the
health details (issue 14, point 1)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from referral import clock
from referral.cases.models import ConsentRecipient, DataCategory, HealthRecord
from referral.referrals import services as referrals
from referral.territories.models import User
from tests.browser import worlds
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO

TITLE = "Bilan de santé (test navigateur)"


def prepare(server: LiveServer) -> tuple[int, int]:
    """A person who agreed to share everything, and their health referral, submitted."""
    with server.database.atomic() as session:
        cip = session.scalar(select(User).where(User.email == DEMO["cip"]))
        opportunity = worlds.lyon_opportunity(
            session,
            partner="Centre de santé du test",
            kind="centre_sante",
            title=TITLE,
            domain="sante",
            shared=["situation", "health"],
        )
        person = worlds.demo_person(
            session,
            first_name="Noémie",
            last_name="Retirée",
            birth_date=date(1981, 2, 3),
            in_programme_days=200,
            housing_status="chu",
        )
        session.add(HealthRecord(participant_id=person.id, has_treating_doctor=True, rqth=True, css=False))
        worlds.consents(
            session,
            person,
            [
                (recipient, category)
                for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER)
                for category in (DataCategory.SITUATION, DataCategory.HEALTH)
            ],
            on=clock.today() - timedelta(days=5),
        )
        referral = referrals.create_referral(
            session, cip, participant_id=person.id, opportunity_id=opportunity.id
        )
        referrals.transition(session, cip, referral.id, action="submit", version=referral.version)
        return person.id, referral.id


def test_the_cp_sees_the_withdrawal_at_once(live_server: LiveServer, page) -> None:
    person_id, referral_id = prepare(live_server)

    sign_in(page, live_server, DEMO["cp_sante"])
    page.goto(f"{live_server.url}/orientations/{referral_id}")
    dossier = page.locator(".dossier").inner_text()
    assert "Noémie Retirée" in dossier
    assert "RQTH : oui" in dossier
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_server, DEMO["cip"])
    page.goto(f"{live_server.url}/salaries/{person_id}")
    consent = page.locator("#consentements li", has_text="Santé → Chargé·es de partenariats")
    consent.get_by_role("button", name="Retirer").click()
    page.get_by_role("button", name="Confirmer le retrait").click()  # the confirmation step
    page.get_by_text("Consentement retiré.").wait_for()
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_server, DEMO["cp_sante"])
    notice = page.locator("#notifications li", has_text=f"orientation n° {referral_id}")
    assert "Consentement retiré" in notice.inner_text()
    assert "Retirée" not in notice.inner_text()
    notice.get_by_role("link").click()
    today = f"{clock.today():%d/%m/%Y}"
    assert f"Santé : retiré par la personne le {today}." in page.locator(".withdrawn").inner_text()
    shown = page.locator("#dossier").locator("xpath=..").inner_text()
    assert "RQTH" not in shown
    assert "Noémie Retirée" in shown  # identity and situation are still covered
    page.get_by_role("link", name="Version imprimable").click()
    printed = page.inner_text("body")
    assert f"Santé : retiré par la personne le {today}." in printed
    assert "RQTH" not in printed
