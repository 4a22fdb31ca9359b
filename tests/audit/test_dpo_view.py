"""The DPO's view of the audit log (issue 14, point 6), on both databases: the national team
lists, for a person or an account, who read or changed what and when, over a period, on the
page, through the API and as CSV; nobody else may; reading the log is itself logged."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from tests import factories
from tests.helpers import DEMO, login

# The log is filtered by Paris days (between midnight and 1–2 a.m. Paris time the UTC day is
# the day before); the one clock of issue 16 will give this.
TODAY = datetime.now(ZoneInfo("Europe/Paris")).date()


@pytest.fixture
def person(client: FlaskClient, session: Session, bearer) -> int:
    """A record the CIP opened, changed and read."""
    person = factories.participant(session, last_name="Journalisée")
    session.commit()
    cip = bearer("cip")
    assert client.get(f"/api/v1/participants/{person.id}", headers=cip).status_code == 200
    changed = client.patch(f"/api/v1/participants/{person.id}", json={"monthly_resources": 480}, headers=cip)
    assert changed.status_code == 200
    return person.id


def test_the_national_team_lists_who_read_or_changed_a_record(
    client: FlaskClient, bearer, person: int
) -> None:
    body = client.get(f"/api/v1/audit-log?participant_id={person}", headers=bearer("admin")).get_json()
    mine = [entry for entry in body["entries"] if entry["actor_email"] == DEMO["cip"]]
    actions = {(entry["action"], entry["entity"]) for entry in mine}
    assert ("read", "participants") in actions
    assert ("update", "participants") in actions
    update = next(entry for entry in mine if entry["action"] == "update")
    assert "monthly_resources" in update["detail"]
    assert "480" not in str(body)  # names of fields, never their values
    assert body["total"] == len(body["entries"])
    assert all(entry["participant_id"] == person for entry in body["entries"])


def test_an_account_and_a_period(client: FlaskClient, bearer, person: int) -> None:
    admin = bearer("admin")
    by_cip = client.get(f"/api/v1/audit-log?user_email={DEMO['cip']}", headers=admin).get_json()
    assert by_cip["entries"]
    assert {entry["actor_email"] for entry in by_cip["entries"]} == {DEMO["cip"]}
    today = client.get(
        f"/api/v1/audit-log?participant_id={person}&since={TODAY}&until={TODAY}", headers=admin
    ).get_json()
    assert today["total"] >= 2
    tomorrow = TODAY + timedelta(days=1)
    later = client.get(
        f"/api/v1/audit-log?participant_id={person}&since={tomorrow}", headers=admin
    ).get_json()
    assert later["total"] == 0
    before = client.get(
        f"/api/v1/audit-log?participant_id={person}&until={TODAY - timedelta(days=1)}", headers=admin
    ).get_json()
    assert before["total"] == 0


def test_the_csv_download(client: FlaskClient, bearer, person: int) -> None:
    response = client.get(f"/api/v1/audit-log.csv?participant_id={person}", headers=bearer("admin"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "date_heure",
        "compte",
        "role",
        "action",
        "objet",
        "objet_id",
        "personne_id",
        "detail",
        "adresse",
    ]
    assert any(row[1] == DEMO["cip"] and row[3] == "Modification" for row in rows[1:])
    login(client, DEMO["admin"])
    page_csv = client.get(f"/journal/export.csv?participant_id={person}")
    assert page_csv.status_code == 200
    assert page_csv.mimetype == "text/csv"


def test_reading_the_log_is_logged(client: FlaskClient, session: Session, bearer, person: int) -> None:
    client.get(f"/api/v1/audit-log?participant_id={person}", headers=bearer("admin"))
    session.expire_all()
    (read,) = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "audit_entries", AuditEntry.actor_email == DEMO["admin"]
        )
    ).all()
    assert read.action is AuditAction.READ
    assert read.participant_id == person
    assert f"personne n° {person}" in read.details["what"]
    # The DPO's next look finds their own reading.
    again = client.get(f"/api/v1/audit-log?participant_id={person}", headers=bearer("admin")).get_json()
    assert any(entry["entity"] == "audit_entries" for entry in again["entries"])


@pytest.mark.parametrize("who", ["cip", "cp_emploi", "coordinator"])
def test_nobody_else_reads_the_log(client: FlaskClient, bearer, person: int, who: str) -> None:
    for path in (
        f"/api/v1/audit-log?participant_id={person}",
        f"/api/v1/audit-log.csv?participant_id={person}",
    ):
        response = client.get(path, headers=bearer(who))
        assert response.status_code == 403, path
    login(client, DEMO[who])
    assert client.get(f"/journal/?participant_id={person}").status_code == 403
    assert client.get(f"/journal/export.csv?participant_id={person}").status_code == 403


def test_a_search_names_someone(client: FlaskClient, bearer) -> None:
    response = client.get("/api/v1/audit-log", headers=bearer("admin"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["participant_id"]
    unknown = client.get("/api/v1/audit-log?user_email=personne@nulle.part", headers=bearer("admin"))
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"]["user_email"]


def test_the_page(client: FlaskClient, person: int) -> None:
    login(client, DEMO["admin"])
    assert "Journal des accès" in client.get("/").get_data(as_text=True)  # in the navigation
    html = client.get(f"/journal/?participant_id={person}&since={TODAY}").get_data(as_text=True)
    assert DEMO["cip"] in html
    assert "Modification" in html
    assert "Télécharger en CSV" in html
    assert "Journalisée" not in html  # the log names accounts and ids, not the people
    refused = client.get("/journal/?participant_id=abc")
    assert refused.status_code == 422


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_period_beyond_any_log_is_refused_not_a_500(client: FlaskClient, bearer, day: str) -> None:
    """Found by the fuzzing: Paris midnight of year 1 (or the day after 9999-12-31) is no UTC time."""
    for path in ("/api/v1/audit-log", "/api/v1/audit-log.csv"):
        response = client.get(f"{path}?participant_id=1&since={day}&until={day}", headers=bearer("admin"))
        assert response.status_code == 422, path
        assert set(response.get_json()["errors"]) == {"since", "until"}


def test_a_correction_of_the_entry_situation_shows_its_fields_and_reason_not_values(
    client: FlaskClient, session: Session, bearer, person: int
) -> None:
    """A correction of the situation at entry (issue 17) names its fields and gives its reason;
    the log holds no value of the record, on the API as on the page."""
    corrected = client.patch(
        f"/api/v1/participants/{person}/entry-situation",
        json={
            "housing_status_at_entry": "rue",
            "had_treating_doctor_first": True,
            "reason": "Erreur de saisie.",
        },
        headers=bearer("cip"),
    )
    assert corrected.status_code == 200
    body = client.get(f"/api/v1/audit-log?participant_id={person}", headers=bearer("admin")).get_json()
    [entry] = [e for e in body["entries"] if "motif" in e["detail"]]
    assert "had_treating_doctor_first, housing_status_at_entry" in entry["detail"]
    assert "motif : Erreur de saisie." in entry["detail"]
    assert "chu" not in entry["detail"]
    assert "rue" not in entry["detail"]

    login(client, DEMO["admin"])
    html = client.get(f"/journal/?participant_id={person}&since={TODAY}").get_data(as_text=True)
    assert "motif : Erreur de saisie." in html
    assert "Centre d’hébergement d’urgence" not in html
    assert "À la rue" not in html
