"""In Chromium: a health referral is under way; the CIP withdraws the health consent on the
record page; the health CP is told on their home page (no data in the notice) and, on the
referral's page and the printable dossier, finds « retiré par la personne le … » instead of the
health details (issue 14, point 1)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, HealthRecord, Participant
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.referrals import services as referrals
from referral.territories.models import Programme, Structure, Territory, User
from tests.browser.conftest import LiveServer
from tests.browser.test_case_record import sign_in
from tests.helpers import DEMO

TITLE = "Bilan de santé (test navigateur)"


def prepare(server: LiveServer) -> tuple[int, int]:
    """A person who agreed to share everything, and their health referral, submitted."""
    with server.database.atomic() as session:
        lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
        structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
        cip = session.scalar(select(User).where(User.email == DEMO["cip"]))
        partner = Partner(name="Centre de santé du test", kind="centre_sante", town="Lyon")
        session.add(partner)
        session.flush()
        opportunity = Opportunity(
            partner_id=partner.id,
            territory_id=lyon.id,
            title=TITLE,
            domain_code="sante",
            capacity=2,
            status=OpportunityStatus.PUBLISHED,
            requires_cp_validation=True,
            shared_categories=["situation", "health"],
        )
        person = Participant(
            structure_id=structure.id,
            first_name="Noémie",
            last_name="Retirée",
            birth_date=date(1981, 2, 3),
            programme=Programme.CVG,
            entered_on=clock.today() - timedelta(days=200),
            housing_status="chu",
            health_coverage="puma",
            residence_status="francaise",
        )
        session.add_all([opportunity, person])
        session.flush()
        session.add(HealthRecord(participant_id=person.id, has_treating_doctor=True, rqth=True, css=False))
        for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
            for category in (DataCategory.SITUATION, DataCategory.HEALTH):
                session.add(
                    Consent(
                        participant_id=person.id,
                        recipient=recipient,
                        data_category=category,
                        given_on=clock.today() - timedelta(days=5),
                    )
                )
        session.flush()
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
