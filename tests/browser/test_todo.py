"""In Chromium: the demo CIP sees a due follow-up in « À faire », records it, and it disappears."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from referral import clock
from referral.cases.models import Exit, FollowUp, FollowUpKind, Participant
from referral.scheduling import services
from referral.territories.models import Structure, User
from tests.browser.conftest import LiveServer
from tests.browser.worlds import sign_in
from tests.helpers import DEMO


def test_due_follow_up_is_done_from_the_todo_list(live_server: LiveServer, page) -> None:
    exited = clock.today() - timedelta(days=180)
    with live_server.database.atomic() as session:
        structure = session.scalar(select(Structure).where(Structure.key == "fndsa-lyon"))
        cip = session.scalar(select(User).where(User.email == DEMO["cip"]))
        person = Participant(
            structure_id=structure.id,
            referent_id=cip.id,
            first_name="Sortie",
            last_name="Suivie",
            birth_date=date(1975, 2, 2),
            programme="CVG",
            entered_on=exited - timedelta(days=500),
            housing_status="logement_social",
            health_coverage="puma",
            residence_status="francaise",
        )
        session.add(person)
        session.flush()
        person.exit = Exit(exited_on=exited, exit_type="cdi")
        session.flush()
        session.add(
            FollowUp(
                participant_id=person.id,
                exit_id=person.exit.id,
                kind=FollowUpKind.SIX_MONTHS,
                due_on=clock.today() + timedelta(days=2),
            )
        )
        session.flush()
        services.follow_ups_due(session, clock.today())
        person_id = person.id

    sign_in(page, live_server, DEMO["cip"])
    todo = page.locator("#taches")
    assert "Suivi à 6 mois de Sortie Suivie" in todo.inner_text()
    todo.get_by_role("link", name="Ouvrir : Suivi à 6 mois de Sortie Suivie").click()
    page.wait_for_url(f"{live_server.url}/salaries/{person_id}#sortie")
    page.get_by_label("Résultat").select_option("emploi_meme_employeur")
    page.get_by_role("button", name="Enregistrer le suivi").click()
    page.get_by_text("Suivi enregistré.").wait_for()
    page.goto(f"{live_server.url}/")
    todo_text = page.locator("#todo").inner_text()
    assert (
        "Pour le" not in todo_text or "Sortie Suivie" not in page.locator("#todo ul.list-group").inner_text()
    )
    assert "Fait récemment" in todo_text
