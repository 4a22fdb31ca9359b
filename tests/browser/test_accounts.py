"""In Chromium (issue 19): the coordinator invites a CIP; the CIP opens the link of the e-mail the
local SMTP server received, chooses a password, signs in and sees their structure's people; the
coordinator closes the account, and the CIP's open page is refused at the next click."""

from __future__ import annotations

from sqlalchemy import select

from referral.territories.models import Structure, User
from tests.browser.conftest import LiveServer
from tests.browser.test_login import people_by_structure
from tests.helpers import DEMO, DEMO_PASSWORD
from tests.mailbox import Mailbox, link_in, mailbox  # noqa: F401 - the fixture

NEWCOMER = "lea.martin.navigateur@example.org"
PASSWORD = "girafe parapluie cornichon lanterne"


def test_invite_sign_in_and_cut_off(live_server: LiveServer, browser, mailbox: Mailbox) -> None:  # noqa: F811
    with live_server.database.session() as session:
        fndsa = session.scalar(select(Structure.id).where(Structure.key == "fndsa-lyon"))
    own, _others = people_by_structure(live_server)

    coordinator_context = browser.new_context(locale="fr-FR")
    coordinator = coordinator_context.new_page()
    coordinator.goto(f"{live_server.url}/connexion")
    coordinator.get_by_label("Adresse e-mail").fill(DEMO["coordinator"])
    coordinator.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    coordinator.get_by_role("button", name="Se connecter").click()
    coordinator.get_by_role("link", name="Comptes").click()
    form = coordinator.locator("#inviter")
    form.get_by_label("Nom et prénom").fill("Léa Martin")
    form.get_by_label("Adresse e-mail").fill(NEWCOMER)
    form.get_by_label("Rôle").select_option("cip")
    form.get_by_label("Structure (pour un·e CIP)").select_option(str(fndsa))
    form.get_by_role("button", name="Envoyer l'invitation").click()
    assert f"Invitation envoyée à {NEWCOMER}." in coordinator.locator("main").inner_text()

    link = link_in(mailbox.wait_for(NEWCOMER))
    assert link.startswith(live_server.url)

    newcomer_context = browser.new_context(locale="fr-FR")
    newcomer = newcomer_context.new_page()
    newcomer.goto(link)
    assert "Bienvenue, Léa Martin" in newcomer.locator("h1").inner_text()
    newcomer.get_by_label("Choisissez votre mot de passe").fill(PASSWORD)
    newcomer.get_by_role("button", name="Ouvrir mon compte").click()
    newcomer.wait_for_url(f"{live_server.url}/connexion")
    newcomer.get_by_label("Adresse e-mail").fill(NEWCOMER)
    newcomer.get_by_label("Mot de passe").fill(PASSWORD)
    newcomer.get_by_role("button", name="Se connecter").click()
    newcomer.wait_for_selector("#liste-salaries")
    listed = set(newcomer.locator("#liste-salaries tbody tr td:first-child").all_inner_texts())
    assert listed == own

    coordinator.get_by_role("link", name="Comptes").click()
    coordinator.get_by_role("link", name="Fermer le compte de Léa Martin").click()
    coordinator.get_by_role("button", name="Fermer le compte").click()
    assert "Compte de Léa Martin fermé" in coordinator.locator("main").inner_text()
    with live_server.database.session() as session:
        assert session.scalar(select(User.is_active).where(User.email == NEWCOMER)) is False

    newcomer.get_by_role("link", name="Mes salarié·es").click()
    newcomer.wait_for_url(f"{live_server.url}/connexion**")
    assert newcomer.get_by_role("button", name="Se connecter").is_visible()
    assert newcomer.locator("#liste-salaries").count() == 0

    coordinator_context.close()
    newcomer_context.close()
