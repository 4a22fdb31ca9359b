"""In Chromium: the demo housing CP creates a partner (warned first about an existing one),
writes and publishes an opportunity, and finds it on the next meeting's agenda; the network
search answers as you type."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from referral.partners.models import Opportunity, OpportunityStatus, Partner
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO


def test_cp_creates_a_partner_publishes_an_opportunity_and_finds_it_on_the_agenda(
    live_server: LiveServer, page
) -> None:
    sign_in(page, live_server, DEMO["cp_logement"])

    # A partner that already exists: the CP is warned, sees it, and confirms theirs is another one.
    page.get_by_role("link", name="Réseau", exact=True).click()
    page.get_by_role("link", name="Ajouter un partenaire").click()
    page.locator("#name").fill("Habitat Rhone Solidaire (demo)")
    page.locator("#kind").select_option("bailleur_social")
    page.locator("#town").fill("lyon")
    page.get_by_role("button", name="Enregistrer").click()
    warning = page.locator("#doublon-probable")
    warning.wait_for()
    assert "Ce partenaire existe peut-être déjà" in warning.inner_text()
    assert "Habitat Rhône Solidaire (démo)" in warning.inner_text()
    assert warning.get_by_role("link", name="Ouvrir la fiche existante").is_visible()

    page.locator("#name").fill("Habitat Rhône Solidaire — agence Gerland (essai navigateur)")
    page.get_by_label("Je confirme qu'il s'agit d'une autre structure").check()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("heading", name="Habitat Rhône Solidaire — agence Gerland (essai navigateur)").wait_for()
    assert "ajouté au réseau" in page.content()

    # An opportunity of that partner, with one criterion, then published.
    page.get_by_role("link", name="Nouvelle opportunité").click()
    page.locator("#title").fill("Studio meublé en sortie de CHRS (essai navigateur)")
    page.locator("#domain").select_option("logement")
    page.locator("#capacity").fill("2")
    page.locator("#criterion-0-field").select_option("housing_status")
    page.locator("#criterion-0-op").select_option("in")
    page.locator("#criterion-0-value").fill("chrs, chu")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("button", name="Publier").wait_for()
    criteria = page.locator("#liste-criteres").inner_text()
    assert "Situation de logement parmi Centre d’hébergement et de réinsertion sociale (CHRS)" in criteria
    page.get_by_role("button", name="Publier").click()
    page.get_by_role("button", name="Suspendre").wait_for()
    assert "Publiée" in page.locator("h1").inner_text()

    # The next meeting: its agenda is built from what changed, the new opportunity included.
    page.get_by_role("link", name="Réunions", exact=True).click()
    page.locator("#title").fill("Réunion de mutualisation (essai navigateur)")
    page.locator("#held_at").fill((datetime.now() + timedelta(days=7)).strftime("%Y-%m-%dT14:00"))
    page.get_by_role("button", name="Programmer la réunion").click()
    agenda = page.locator("#ordre-du-jour")
    agenda.wait_for()
    assert "Nouvelle opportunité : Studio meublé en sortie de CHRS (essai navigateur)" in agenda.inner_text()
    assert (
        "Habitat Rhône Solidaire — agence Gerland (essai navigateur)" in agenda.inner_text()
    )  # new partners

    with live_server.database.session() as session:
        opportunity = session.scalar(
            select(Opportunity).where(
                Opportunity.title == "Studio meublé en sortie de CHRS (essai navigateur)"
            )
        )
        assert opportunity.status is OpportunityStatus.PUBLISHED
        assert opportunity.criteria[0].value == ["chrs", "chu"]
        partner = session.scalar(select(Partner).where(Partner.id == opportunity.partner_id))
        assert partner.name == "Habitat Rhône Solidaire — agence Gerland (essai navigateur)"


def test_network_search_answers_as_you_type(live_server: LiveServer, page) -> None:
    sign_in(page, live_server, DEMO["cip"])
    page.get_by_role("link", name="Réseau", exact=True).click()
    page.locator("#recherche-reseau").press_sequentially("habitat rhone solid", delay=30)
    found = page.locator("#resultats-partenaires").get_by_role("link", name="Habitat Rhône Solidaire (démo)")
    found.wait_for()
    assert page.url.endswith("/reseau/")  # no page load: the script asked the API
    found.click()
    page.get_by_role("heading", name="Habitat Rhône Solidaire (démo)").wait_for()
