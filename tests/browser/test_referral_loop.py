"""In Chromium: the demo CIP accepts a proposal and submits it; the demo CP (housing) validates it
and records the partner's acceptance; the CIP sees it accepted on the timeline."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, Need, Participant
from referral.partners.models import Opportunity, OpportunityStatus, Partner
from referral.territories.models import Structure, Territory
from tests.browser.conftest import LiveServer
from tests.browser.test_case_record import sign_in
from tests.helpers import DEMO

TITLE = "Logement accompagné (test navigateur)"


def prepare(server: LiveServer) -> int:
    """A person of the demo CIP's structure who agreed to share, and an opportunity for them."""
    with server.database.atomic() as session:
        lyon = session.scalar(select(Territory).where(Territory.slug == "lyon"))
        structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
        partner = Partner(name="Bailleur du test", kind="bailleur_social", town="Lyon")
        session.add(partner)
        session.flush()
        session.add(
            Opportunity(
                partner_id=partner.id,
                territory_id=lyon.id,
                title=TITLE,
                domain_code="logement",
                capacity=2,
                status=OpportunityStatus.PUBLISHED,
                requires_cp_validation=True,
                shared_categories=["situation"],
            )
        )
        person = Participant(
            structure_id=structure.id,
            first_name="Malik",
            last_name="Orienté",
            birth_date=date(1984, 5, 5),
            programme="CVG",
            entered_on=clock.today() - timedelta(days=300),
            housing_status="rue",
            health_coverage="puma",
            residence_status="francaise",
        )
        session.add(person)
        session.flush()
        session.add(
            Need(participant_id=person.id, domain_code="logement", priority=1, opened_on=person.entered_on)
        )
        for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER):
            session.add(
                Consent(
                    participant_id=person.id,
                    recipient=recipient,
                    data_category=DataCategory.SITUATION,
                    given_on=clock.today(),
                )
            )
        return person.id


def test_proposal_to_partner_acceptance(live_server: LiveServer, page) -> None:
    person_id = prepare(live_server)

    sign_in(page, live_server, DEMO["cip"])
    page.goto(f"{live_server.url}/salaries/{person_id}")
    page.get_by_role("link", name="Propositions d'orientation").click()
    proposal = page.locator("article.proposal", has_text=TITLE)
    proposal.get_by_text("Pourquoi cette proposition ?").click()
    assert proposal.get_by_text("Réponse à un frein").is_visible()
    proposal.get_by_role("button", name="Orienter").click()
    page.get_by_text("Proposition acceptée").wait_for()
    page.get_by_role("button", name="Soumettre").click()
    assert page.locator("#etat").inner_text() == "Soumise au CP"
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_server, DEMO["cp_logement"])
    page.get_by_role("link", name="Orientations").click()
    page.locator("section", has_text="À valider").get_by_role("link", name="Malik Orienté").click()
    assert "Malik Orienté" in page.locator(".dossier").inner_text()
    page.get_by_role("button", name="Valider et transmettre au partenaire").click()
    assert page.locator("#etat").inner_text() == "Transmise au partenaire"
    page.get_by_role("button", name="Réponse du partenaire : acceptée").click()
    assert page.locator("#etat").inner_text() == "Acceptée par le partenaire"
    page.get_by_role("button", name="Se déconnecter").click()

    sign_in(page, live_server, DEMO["cip"])
    page.goto(f"{live_server.url}/salaries/{person_id}/chronologie")
    timeline = page.locator("#chronologie").inner_text()
    assert f"Orientation « {TITLE} » : Acceptée par le partenaire" in timeline
