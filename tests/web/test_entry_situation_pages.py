"""The record page shows the situation at entry beside the current one where they differ, in
words, and offers its correction: a form with CSRF and a mandatory reason; a bad form comes back
open with its French message (422), nothing written (issue 17)."""

from __future__ import annotations

import html as html_lib

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditEntry
from referral.cases import entry_situation, services
from referral.cases.models import Participant
from referral.reference import queries as reference
from referral.territories.queries import user_by_email
from tests import factories
from tests.helpers import DEMO, csrf_token, login


@pytest.fixture
def person(session: Session) -> Participant:
    """Created at the CHU with no coverage and no treating doctor; housed, covered and with a
    doctor today."""
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    person = factories.participant(
        session, structure_id=cip.structure_id, housing_status="chu", health_coverage="aucune"
    )
    services.update_health(session, cip, person.id, {"has_treating_doctor": False})
    session.commit()
    services.update_participant(
        session, cip, person.id, {"housing_status": "logement_social", "health_coverage": "css"}
    )
    services.update_health(session, cip, person.id, {"has_treating_doctor": True})
    session.commit()
    return person


def page(client: FlaskClient, person: Participant) -> str:
    response = client.get(f"/salaries/{person.id}")
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


def section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end)]


def entry_of(session: Session, person: Participant) -> tuple[str, str, bool]:
    session.expire_all()
    again = session.get_one(Participant, person.id)
    health = again.health_record
    return (
        again.housing_status_at_entry,
        again.health_coverage_at_entry,
        bool(health and health.had_treating_doctor_first),
    )


def test_the_record_shows_the_entry_beside_the_current_situation_in_words(
    client: FlaskClient, session: Session, person: Participant
) -> None:
    housing = reference.labels(session, "housing_status")
    coverage = reference.labels(session, "health_coverage")
    login(client, DEMO["cip"])
    html = page(client, person)
    situation = section(html, 'id="h-situation"', "Modifier la situation")
    assert (
        f'{housing["logement_social"]}\n      <span class="at-entry">— à l\'entrée : {housing["chu"]}</span>'
        in (situation)
    )
    assert f"— à l'entrée : {coverage['aucune']}" in situation
    health = section(html, 'id="h-sante"', "Modifier les informations de santé")
    assert "Médecin traitant</dt>" in health
    assert "— à l'entrée : non" in health
    # Codes never reach the page: only their labels.
    assert "à l'entrée : chu" not in html
    assert "à l'entrée : aucune" not in html


def test_nothing_is_added_where_entry_and_current_agree(client: FlaskClient, session: Session) -> None:
    cip = user_by_email(session, DEMO["cip"])
    assert cip is not None
    person = factories.participant(session, structure_id=cip.structure_id, housing_status="chrs")
    session.commit()
    login(client, DEMO["cip"])
    html = page(client, person)
    assert 'class="at-entry"' not in html


def test_the_correction_form_is_offered_filled_with_the_entry_situation(
    client: FlaskClient, person: Participant
) -> None:
    login(client, DEMO["cip"])
    html = page(client, person)
    form = section(html, 'id="situation-entree"', 'id="referents"')
    assert "<summary>Corriger la situation à l'entrée</summary>" in form
    assert 'name="csrf_token"' in form
    assert f'action="/salaries/{person.id}/situation-entree"' in form
    assert '<option value="chu" selected>' in form
    assert '<option value="aucune" selected>' in form
    assert '<option value="false" selected>Non</option>' in form
    assert 'name="reason"' in form
    assert "Motif de la correction" in form


def test_a_correction_with_its_reason_is_saved_and_logged(
    client: FlaskClient, session: Session, person: Participant
) -> None:
    login(client, DEMO["cip"])
    token = csrf_token(page(client, person))
    answer = client.post(
        f"/salaries/{person.id}/situation-entree",
        data={
            "csrf_token": token,
            "housing_status_at_entry": "rue",
            "health_coverage_at_entry": "aucune",
            "had_treating_doctor_first": "false",
            "reason": "Elle dormait dehors à l'entrée.",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/salaries/{person.id}#situation-entree")
    assert entry_of(session, person) == ("rue", "aucune", False)
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.participant_id == person.id, AuditEntry.details["reason"].is_not(None))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert "housing_status_at_entry" in entry.details["fields"]
    assert "changes" not in entry.details
    assert entry.actor_email == DEMO["cip"]

    html = page(client, person)
    assert "Situation à l'entrée corrigée" in html
    rue = reference.labels(session, "housing_status")["rue"]
    assert f"— à l'entrée : {rue}" in section(html, 'id="h-situation"', "Modifier la situation")


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({"housing_status_at_entry": "rue", "reason": ""}, entry_situation.NO_REASON, "reason"),
        ({"housing_status_at_entry": "chateau", "reason": "Erreur."}, "Code inconnu : « chateau ».", None),
        (
            {"housing_status_at_entry": "chu", "health_coverage_at_entry": "aucune", "reason": "Erreur."},
            entry_situation.NOTHING_CHANGED,
            None,
        ),
    ],
)
def test_a_bad_correction_comes_back_open_with_its_message(
    client: FlaskClient, session: Session, person: Participant, data: dict, message: str, field: str | None
) -> None:
    login(client, DEMO["cip"])
    token = csrf_token(page(client, person))
    before = entry_of(session, person)
    answer = client.post(f"/salaries/{person.id}/situation-entree", data={"csrf_token": token, **data})
    assert answer.status_code == 422
    html = html_lib.unescape(answer.get_data(as_text=True))
    form = section(html, 'id="situation-entree"', 'id="referents"')
    assert 'id="situation-entree" open>' in form
    assert message in form
    if field == "reason":
        assert 'aria-describedby="reason-erreur"' in form
    # What was typed is kept.
    if data["reason"]:
        assert f">{data['reason']}</textarea>" in form
    if data["housing_status_at_entry"] != "chateau":
        assert f'<option value="{data["housing_status_at_entry"]}" selected>' in form
    assert entry_of(session, person) == before


def test_without_csrf_nothing_is_written(client: FlaskClient, session: Session, person: Participant) -> None:
    login(client, DEMO["cip"])
    before = entry_of(session, person)
    answer = client.post(
        f"/salaries/{person.id}/situation-entree",
        data={"housing_status_at_entry": "rue", "reason": "Erreur."},
    )
    assert answer.status_code == 400
    assert entry_of(session, person) == before


@pytest.mark.parametrize(("who", "status"), [("cip_other", 404), ("cp_emploi", 404), ("coordinator", 404)])
def test_who_may_not_change_the_record_cannot_correct_it(
    client: FlaskClient, session: Session, person: Participant, who: str, status: int
) -> None:
    login(client, DEMO[who])
    token = csrf_token(client.get("/").get_data(as_text=True))
    before = entry_of(session, person)
    answer = client.post(
        f"/salaries/{person.id}/situation-entree",
        data={"csrf_token": token, "housing_status_at_entry": "rue", "reason": "Erreur."},
    )
    assert answer.status_code == status
    assert entry_of(session, person) == before
