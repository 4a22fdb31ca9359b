"""A withdrawn consent stops the sharing at once (issue 14, point 1), on both databases.

The dossier frozen at submission is shown again — API, referral page, printable dossier, the
CP's list — only as far as a consent covers it on the day; a withdrawn category says so, dated;
the CPs following the referral are told, without any data about the person.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Consent, ConsentRecipient, DataCategory
from referral.tasks.models import Notification
from referral.territories.queries import user_by_email
from tests.helpers import DEMO, login
from tests.referrals.sharing_world import Shared, submitted_health_referral


@pytest.fixture
def shared(client: FlaskClient, session: Session, bearer) -> Shared:
    return submitted_health_referral(client, session, bearer)


def withdraw(client: FlaskClient, bearer, shared: Shared, recipient: str, category: str) -> None:
    consent_id = shared.consents[(recipient, category)]
    response = client.post(
        f"/api/v1/participants/{shared.person}/consents/{consent_id}/revoke", json={}, headers=bearer("cip")
    )
    assert response.status_code == 200, response.get_json()


def test_before_any_withdrawal_the_cp_sees_what_was_shared(
    client: FlaskClient, bearer, shared: Shared
) -> None:
    body = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_sante")).get_json()
    assert body["shared_dossier"]["health"] == {"has_treating_doctor": True, "rqth": True, "css": True}
    assert body["shared_dossier"]["identity"]["last_name"] == "Partagée"
    assert body["withdrawn"] == []


@pytest.mark.parametrize("recipient", ["cp", "partner"])
def test_a_withdrawn_health_consent_hides_health_from_the_api_at_once(
    client: FlaskClient, bearer, shared: Shared, recipient: str
) -> None:
    withdraw(client, bearer, shared, recipient, "health")
    cp = bearer("cp_sante")
    one = client.get(f"/api/v1/referrals/{shared.referral}", headers=cp).get_json()
    assert "health" not in one["shared_dossier"]
    assert one["shared_dossier"]["resources"]["household_size"] == 1  # the rest is still shared
    today = clock.today()
    assert one["withdrawn"] == [
        {
            "category": "health",
            "label": "Santé",
            "withdrawn_on": today.isoformat(),
            "message": f"Santé : retiré par la personne le {today:%d/%m/%Y}.",
        }
    ]
    listed = client.get("/api/v1/referrals", headers=cp).get_json()
    mine = next(item for item in listed if item["id"] == shared.referral)
    assert "health" not in mine["shared_dossier"]
    assert "rqth" not in str(listed)


def test_the_pages_and_the_print_show_the_withdrawal_not_the_data(
    client: FlaskClient, bearer, shared: Shared
) -> None:
    withdraw(client, bearer, shared, "cp", "health")
    login(client, DEMO["cp_sante"])
    today = f"{clock.today():%d/%m/%Y}"
    for path in (f"/orientations/{shared.referral}", f"/orientations/{shared.referral}/dossier"):
        html = client.get(path).get_data(as_text=True)
        assert f"Santé : retiré par la personne le {today}" in html, path
        assert "RQTH" not in html, path
        assert "Médecin traitant" not in html, path
        assert "Léonie Partagée" in html, path  # identity is still covered


def test_a_withdrawn_situation_consent_takes_the_name_away_everywhere(
    client: FlaskClient, bearer, shared: Shared
) -> None:
    withdraw(client, bearer, shared, "partner", "situation")
    body = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_sante")).get_json()
    assert "identity" not in body["shared_dossier"]
    assert "situation" not in body["shared_dossier"]
    login(client, DEMO["cp_sante"])
    for path in (
        "/orientations/",
        f"/orientations/{shared.referral}",
        f"/orientations/{shared.referral}/dossier",
    ):
        html = client.get(path).get_data(as_text=True)
        assert "Partagée" not in html, path
    assert f"Personne n° {shared.person}" in client.get("/orientations/").get_data(as_text=True)


def test_the_cps_are_told_without_any_data(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    withdraw(client, bearer, shared, "cp", "health")
    cp = user_by_email(session, DEMO["cp_sante"])
    notes = session.scalars(
        select(Notification).where(
            Notification.user_id == cp.id, Notification.kind == "referral_consent_withdrawn"
        )
    ).all()
    assert len(notes) == 1
    assert notes[0].link == f"/orientations/{shared.referral}"
    for secret in ("Léonie", "Partagée", "1985", "RQTH", "médecin"):
        assert secret not in notes[0].message
    # The housing CP does not follow this health referral: not told.
    housing = user_by_email(session, DEMO["cp_logement"])
    assert not session.scalars(
        select(Notification).where(
            Notification.user_id == housing.id, Notification.kind == "referral_consent_withdrawn"
        )
    ).all()


def test_a_withdrawal_nothing_was_shared_under_tells_nobody(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    """A consent to external referents shares nothing with a referral."""
    consent = Consent(
        participant_id=shared.person,
        recipient=ConsentRecipient.EXTERNAL_REFERENT,
        data_category=DataCategory.HEALTH,
        given_on=clock.today() - timedelta(days=3),
    )
    session.add(consent)
    session.commit()
    shared.consents[("external_referent", "health")] = consent.id
    withdraw(client, bearer, shared, "external_referent", "health")
    assert not session.scalars(
        select(Notification).where(Notification.kind == "referral_consent_withdrawn")
    ).all()
    body = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_sante")).get_json()
    assert body["shared_dossier"]["health"]["rqth"] is True


def test_a_second_consent_still_covering_keeps_the_sharing(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    session.add(
        Consent(
            participant_id=shared.person,
            recipient=ConsentRecipient.CP,
            data_category=DataCategory.HEALTH,
            given_on=clock.today() - timedelta(days=2),
        )
    )
    session.commit()
    withdraw(client, bearer, shared, "cp", "health")
    body = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_sante")).get_json()
    assert body["shared_dossier"]["health"]["rqth"] is True
    assert body["withdrawn"] == []
    assert not session.scalars(
        select(Notification).where(Notification.kind == "referral_consent_withdrawn")
    ).all()


def test_an_expired_consent_hides_the_category_without_a_withdrawal_date(
    client: FlaskClient, session: Session, bearer, shared: Shared
) -> None:
    consent = session.get(Consent, shared.consents[("partner", "resources")])
    consent.expires_on = clock.today()
    session.commit()
    body = client.get(f"/api/v1/referrals/{shared.referral}", headers=bearer("cp_sante")).get_json()
    assert "resources" not in body["shared_dossier"]
    assert body["withdrawn"][0]["withdrawn_on"] is None
    assert body["withdrawn"][0]["message"] == "Ressources : le consentement de la personne ne le couvre plus."
