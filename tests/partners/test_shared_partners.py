"""A territory's CP edits only what belongs to their territory (issue 14, point 11), on both
databases: the identity of a partner several territories share (name, SIRET, national network,
contacts…) is the national team's; a CP edits their territory's deployment — status, local
contacts, local notes — through the API and the pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral import clock
from referral.partners.models import DeploymentStatus, Partner, PartnerContact, PartnerTerritory
from tests import factories
from tests.helpers import DEMO, csrf_token, login


@pytest.fixture
def shared(session: Session) -> int:
    """A partner deployed in Lyon and Paris, with a contact every territory sees."""
    partner = factories.partner(session, name="Bailleur partagé", siret=None)
    for slug in ("lyon", "paris"):
        session.add(
            PartnerTerritory(
                partner_id=partner.id, territory_id=factories.territory(session, slug).id, since=clock.today()
            )
        )
    session.add(PartnerContact(partner_id=partner.id, name="Claire Commune", email="claire@exemple.org"))
    session.commit()
    return partner.id


@pytest.fixture
def local(session: Session) -> int:
    partner = factories.partner(session, name="Association lyonnaise")
    session.add(PartnerTerritory(partner_id=partner.id, territory_id=factories.territory(session, "lyon").id))
    session.commit()
    return partner.id


def reload(session: Session, partner_id: int) -> Partner:
    session.expire_all()
    return session.get(Partner, partner_id)


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Renommé par Lyon"},
        {"siret": "13003013300016"},
        {"national_network": "franprix"},
        {"contacts": [{"name": "Remplaçant lyonnais"}]},
        {"description": "Texte lyonnais"},
    ],
)
def test_a_cp_cannot_change_a_shared_identity(
    client: FlaskClient, session: Session, bearer, shared: int, change: dict
) -> None:
    response = client.patch(f"/api/v1/partners/{shared}", json=change, headers=bearer("cp_logement"))
    assert response.status_code == 403
    assert "équipe nationale" in response.get_json()["detail"]
    assert set(response.get_json()["errors"]) == set(change)
    partner = reload(session, shared)
    assert partner.name == "Bailleur partagé"
    assert [contact.name for contact in partner.contacts] == ["Claire Commune"]
    assert partner.national_network_code is None


def test_nor_remove_a_national_network(client: FlaskClient, session: Session, bearer) -> None:
    cpam = session.scalar(select(Partner).where(Partner.key == "cpam-lyon"))
    assert cpam.national_network_code is not None
    response = client.patch(
        f"/api/v1/partners/{cpam.id}", json={"national_network": None}, headers=bearer("cp_sante")
    )
    assert response.status_code == 403
    assert reload(session, cpam.id).national_network_code is not None


def test_values_sent_unchanged_are_no_change(client: FlaskClient, bearer, shared: int) -> None:
    response = client.patch(
        f"/api/v1/partners/{shared}",
        json={"name": "Bailleur partagé", "territories": [{"slug": "lyon", "status": "in_discussion"}]},
        headers=bearer("cp_logement"),
    )
    assert response.status_code == 200, response.get_json()


def test_the_national_team_edits_the_identity(
    client: FlaskClient, session: Session, bearer, shared: int
) -> None:
    response = client.patch(
        f"/api/v1/partners/{shared}", json={"name": "Bailleur national"}, headers=bearer("admin")
    )
    assert response.status_code == 200
    assert reload(session, shared).name == "Bailleur national"


def test_a_partner_of_one_territory_stays_its_cps(
    client: FlaskClient, session: Session, bearer, local: int
) -> None:
    response = client.patch(
        f"/api/v1/partners/{local}", json={"name": "Renommée"}, headers=bearer("cp_logement")
    )
    assert response.status_code == 200
    assert reload(session, local).name == "Renommée"


def test_a_cp_edits_their_deployment(client: FlaskClient, session: Session, bearer, shared: int) -> None:
    response = client.patch(
        f"/api/v1/partners/{shared}/deployments/lyon",
        json={
            "status": "in_discussion",
            "contacts": [{"name": "Louis Local", "email": "louis@exemple.org"}],
            "notes": "Rencontre prévue en mars.",
        },
        headers=bearer("cp_logement"),
    )
    assert response.status_code == 200, response.get_json()
    by_territory = {link["territory_id"]: link for link in response.get_json()["territories"]}
    lyon, paris = factories.territory(session, "lyon").id, factories.territory(session, "paris").id
    assert by_territory[lyon]["status"] == "in_discussion"
    assert by_territory[lyon]["contacts"][0]["name"] == "Louis Local"
    assert by_territory[lyon]["notes"] == "Rencontre prévue en mars."
    assert (by_territory[paris]["status"], by_territory[paris]["contacts"], by_territory[paris]["notes"]) == (
        "deployed",
        [],
        None,
    )
    partner = reload(session, shared)
    assert [contact.name for contact in partner.contacts] == ["Claire Commune"]  # the shared ones stay
    link = next(link for link in partner.territory_links if link.territory_id == lyon)
    assert link.status is DeploymentStatus.IN_DISCUSSION


def test_a_cp_cannot_edit_another_territorys_deployment(client: FlaskClient, bearer, shared: int) -> None:
    response = client.patch(
        f"/api/v1/partners/{shared}/deployments/paris", json={"notes": "x"}, headers=bearer("cp_logement")
    )
    assert response.status_code == 404
    coordinator = client.patch(
        f"/api/v1/partners/{shared}/deployments/lyon", json={"notes": "x"}, headers=bearer("coordinator")
    )
    assert coordinator.status_code == 403
    bad = client.patch(
        f"/api/v1/partners/{shared}/deployments/lyon",
        json={"contacts": [{"name": ""}]},
        headers=bearer("cp_logement"),
    )
    assert bad.status_code == 422


def test_the_pages(client: FlaskClient, session: Session, shared: int) -> None:
    login(client, DEMO["cp_logement"])
    page = client.get(f"/reseau/partenaires/{shared}").get_data(as_text=True)
    assert "Déploiement sur notre territoire" in page
    assert f"/reseau/partenaires/{shared}/modifier" not in page
    edit = client.get(f"/reseau/partenaires/{shared}/modifier")
    assert edit.status_code == 302
    assert edit.headers["Location"].endswith(f"/reseau/partenaires/{shared}/deploiement")
    form = client.get(f"/reseau/partenaires/{shared}/deploiement").get_data(as_text=True)
    saved = client.post(
        f"/reseau/partenaires/{shared}/deploiement",
        data={
            "csrf_token": csrf_token(form),
            "status": "deployed",
            "contact-0-name": "Louise Locale",
            "contact-0-role": "Chargée de gestion locative",
            "notes": "Accueil le mardi matin.",
        },
    )
    assert saved.status_code == 302
    page = client.get(f"/reseau/partenaires/{shared}").get_data(as_text=True)
    assert "Louise Locale" in page
    assert "Accueil le mardi matin." in page
    # The whole partner form posted with another name is refused, nothing written.
    refused = client.post(
        f"/reseau/partenaires/{shared}/modifier",
        data={
            "csrf_token": csrf_token(form),
            "name": "Renommé",
            "kind": "association",
            "deployment_status": "deployed",
        },
    )
    assert refused.status_code == 403
    assert "équipe nationale" in refused.get_data(as_text=True)
    assert reload(session, shared).name == "Bailleur partagé"
