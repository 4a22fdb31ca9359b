"""In Chromium: the demo CIP signs in, sees only their structure's people, signs out; a wrong
password is refused with a French message."""

from __future__ import annotations

from sqlalchemy import select

from referral.cases.models import Participant
from referral.territories.models import Structure
from tests.browser.conftest import LiveServer
from tests.helpers import DEMO, DEMO_PASSWORD


def people_by_structure(server: LiveServer) -> tuple[set[str], set[str]]:
    with server.database.session() as session:
        rows = session.execute(
            select(Structure.key, Participant.last_name, Participant.first_name).join(Participant.structure)
        ).all()
    own = {f"{last} {first}" for key, last, first in rows if key == "fndsa-lyon"}
    others = {f"{last} {first}" for key, last, first in rows if key != "fndsa-lyon"} - own
    return own, others


def test_cip_signs_in_sees_own_people_and_signs_out(live_server: LiveServer, page) -> None:
    own, others = people_by_structure(live_server)
    assert own
    assert others

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(DEMO["cip"])
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_selector("#liste-salaries")
    listed = set(page.locator("#liste-salaries tbody tr td:first-child").all_inner_texts())
    assert listed == own
    assert not (listed & others)

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{live_server.url}/connexion")
    assert "Vous êtes déconnecté·e." in page.content()
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/connexion")


def test_wrong_password_is_refused_in_french(live_server: LiveServer, page) -> None:
    page.goto(f"{live_server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(DEMO["cip_other"])
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    message = page.locator("#erreur-connexion")
    assert message.inner_text() == "Adresse e-mail ou mot de passe incorrect."
    assert page.get_by_role("button", name="Se connecter").is_visible()
