"""In Chromium: the demo CIP accepts a proposal and submits it; the demo CP (housing) validates it
and records the partner's acceptance; the CIP sees it accepted on the timeline."""

from __future__ import annotations

from datetime import date

from referral.cases.models import ConsentRecipient, DataCategory
from tests.browser import worlds
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO

TITLE = "Logement accompagné (test navigateur)"


def prepare(server: LiveServer) -> int:
    """A person of the demo CIP's structure who agreed to share, and an opportunity for them."""
    with server.database.atomic() as session:
        worlds.lyon_opportunity(
            session,
            partner="Bailleur du test",
            kind="bailleur_social",
            title=TITLE,
            domain="logement",
            shared=["situation"],
        )
        person = worlds.demo_person(
            session,
            first_name="Malik",
            last_name="Orienté",
            birth_date=date(1984, 5, 5),
            in_programme_days=300,
            housing_status="rue",
            need_domain="logement",
        )
        worlds.consents(
            session,
            person,
            [
                (recipient, DataCategory.SITUATION)
                for recipient in (ConsentRecipient.CP, ConsentRecipient.PARTNER)
            ],
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
