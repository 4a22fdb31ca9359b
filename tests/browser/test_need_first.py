"""In Chromium (issue 15, « Done when »): the CIP goes from the record to a proposal that names the
need it answers, records the two missing consents on the draft — with the person's agreement —
and submits in the same step; the CP then sees the person, the sender and the need in « À valider »."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory, Participant
from tests.browser import worlds
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO

TITLE = "Résidence passerelle (test du frein d'abord)"
PARTNER = "CHRS Horizon Saône (test)"


def prepare(server: LiveServer) -> int:
    """A person with a housing need who agreed to share with the CPs only; an opportunity of a
    named partner asking for identity and situation, and resources."""
    today = clock.today()
    with server.database.atomic() as session:
        worlds.lyon_opportunity(
            session,
            partner=PARTNER,
            kind="association",
            title=TITLE,
            domain="logement",
            shared=["situation", "resources"],
            capacity=3,
        )
        person = worlds.demo_person(
            session,
            first_name="Inès",
            last_name="Passerelle",
            birth_date=today.replace(year=today.year - 33) - timedelta(days=40),
            in_programme_days=200,
            housing_status="chu",
            need_domain="logement",
        )
        worlds.consents(
            session,
            person,
            [(ConsentRecipient.CP, DataCategory.SITUATION), (ConsentRecipient.CP, DataCategory.RESOURCES)],
        )
        return person.id


def test_record_to_submission_with_the_missing_consents(live_server: LiveServer, page) -> None:
    person_id = prepare(live_server)
    sign_in(page, live_server, DEMO["cip"])
    page.goto(f"{live_server.url}/salaries/{person_id}")
    page.get_by_role("link", name="Propositions d'orientation").click()
    proposal = page.locator("article.proposal", has_text=TITLE)
    assert "Répond au frein : Logement, priorité 1" in proposal.inner_text()
    assert f"Ressources → {PARTNER}" in proposal.inner_text()
    proposal.get_by_role("button", name="Orienter").click()
    page.get_by_text("Proposition acceptée").wait_for()

    consents = page.locator("#consentements")
    # The two missing ones, to the partner by name, come ticked; the CPs' two are already given.
    assert "Ressources → chargé·es de partenariats — déjà donné" in consents.inner_text()
    assert consents.get_by_label(f"Identité et situation → {PARTNER}").is_checked()
    assert consents.get_by_label(f"Ressources → {PARTNER}").is_checked()
    consents.get_by_label("La personne a donné son accord pour ces partages").check()
    consents.get_by_role("button", name="Enregistrer et soumettre").click()
    assert page.locator("#etat").inner_text() == "Soumise au CP"

    # The record lists it under way.
    page.goto(f"{live_server.url}/salaries/{person_id}")
    under_way = page.locator("#orientations-en-cours")
    assert TITLE in under_way.inner_text()
    assert "Validation par le CP" in under_way.inner_text()

    page.context.clear_cookies()
    sign_in(page, live_server, DEMO["cp_logement"])
    page.goto(f"{live_server.url}/orientations/")
    row = page.locator("table.referral-queue tr", has_text=TITLE)
    text = row.inner_text()
    assert "Inès Passerelle" in text
    assert "(CIP)" in text
    assert "Logement, priorité 1" in text
    with live_server.database.atomic() as session:
        given = session.scalars(
            select(Consent).where(Consent.participant_id == person_id).order_by(Consent.id)
        ).all()
        assert len(given) == 4
        assert session.get(Participant, person_id) is not None
