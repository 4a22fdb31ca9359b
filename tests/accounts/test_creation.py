"""New territories and structures from the pages and the API (issue 19, point 4): the national
team only; name, slug, départements; name, SIRET, town, programmes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.exceptions import Conflict, InvalidInput, PermissionDenied
from referral.territories import creation
from referral.territories.models import Structure, Territory
from tests.accounts.conftest import demo
from tests.helpers import DEMO, csrf_token, login


def test_the_national_team_creates_a_territory_and_its_structure(session: Session) -> None:
    admin = demo(session, "admin")
    territory = creation.create_territory(
        session, admin, name="Le Havre", slug="le-havre", region="Normandie", departments=["76", " 27 "]
    )
    assert territory.departments == ["76", "27"]
    structure = creation.create_structure(
        session, admin, territory_id=territory.id, name="Atelier Océane", town="Le Havre",
        siret="123 456 789 00012", programmes=["CVG", "PHC"],
    )  # fmt: skip
    assert (structure.key, structure.siret, structure.region) == (
        "atelier-oceane-le-havre",
        "12345678900012",
        "Normandie",
    )
    assert structure.programmes
    assert structure.territory_id == territory.id


@pytest.mark.parametrize("who", ["coordinator", "cp_emploi", "cip"])
def test_nobody_else_creates_them(session: Session, who: str) -> None:
    with pytest.raises(PermissionDenied):
        creation.create_territory(
            session, demo(session, who), name="X", slug="x", region="R", departments=["01"]
        )


def test_bad_input_is_refused_field_by_field(session: Session) -> None:
    admin = demo(session, "admin")
    with pytest.raises(InvalidInput) as refusal:
        creation.create_territory(session, admin, name=" ", slug="Le Havre", region="", departments=["760"])
    assert set(refusal.value.errors) == {"name", "slug", "region", "departments"}
    with pytest.raises(Conflict):
        creation.create_territory(
            session, admin, name="Lyon bis", slug="lyon", region="R", departments=["69"]
        )
    lyon = session.scalar(select(Territory.id).where(Territory.slug == "lyon"))
    with pytest.raises(InvalidInput) as refusal:
        creation.create_structure(
            session, admin, territory_id=lyon, name="A", town="Lyon", siret="123", programmes=[]
        )
    assert set(refusal.value.errors) == {"siret", "programmes"}


def test_pages_create_a_territory_then_a_structure(client: FlaskClient, session: Session) -> None:
    login(client, DEMO["cip"])
    assert client.get("/territoires/nouveau").status_code == 403
    admin = client.application.test_client()
    login(admin, DEMO["admin"])
    page = admin.get("/territoires/nouveau").get_data(as_text=True)
    bad = admin.post(
        "/territoires/nouveau",
        data={
            "name": "Le Havre",
            "slug": "Le Havre",
            "region": "Normandie",
            "departments": "76",
            "csrf_token": csrf_token(page),
        },
    )
    assert bad.status_code == 422
    assert "Lettres minuscules sans accent" in bad.get_data(as_text=True)
    created = admin.post(
        "/territoires/nouveau",
        data={
            "name": "Le Havre",
            "slug": "le-havre",
            "region": "Normandie",
            "departments": "76, 27",
            "csrf_token": csrf_token(page),
        },
    )
    assert created.status_code == 302
    assert created.headers["Location"].endswith("/territoires/le-havre/structures/nouvelle")
    form = admin.get("/territoires/le-havre/structures/nouvelle").get_data(as_text=True)
    done = admin.post(
        "/territoires/le-havre/structures/nouvelle",
        data={
            "name": "Atelier Océane",
            "town": "Le Havre",
            "siret": "",
            "programmes": ["PHC"],
            "csrf_token": csrf_token(form),
        },
    )
    assert done.status_code == 302
    structure = session.scalar(select(Structure).where(Structure.name == "Atelier Océane"))
    assert structure is not None
    assert (structure.carries_cvg, structure.carries_phc, structure.siret) == (False, True, None)
    assert "Atelier Océane" in admin.get("/comptes").get_data(as_text=True)  # ready to invite its CIP


def test_api_creates_them_for_the_national_team_only(client: FlaskClient, bearer) -> None:
    body = {"name": "Le Havre", "slug": "le-havre", "region": "Normandie", "departments": ["76"]}
    assert client.post("/api/v1/territories", json=body, headers=bearer("coordinator")).status_code == 403
    created = client.post("/api/v1/territories", json=body, headers=bearer("admin"))
    assert created.status_code == 201
    assert created.get_json()["departments"] == ["76"]
    structure = {
        "territory": "le-havre",
        "name": "Atelier",
        "town": "Le Havre",
        "siret": "12345678900012",
        "programmes": ["CVG"],
    }
    made = client.post("/api/v1/structures", json=structure, headers=bearer("admin"))
    assert made.status_code == 201
    assert made.get_json()["programmes"] == ["CVG"]
    unknown = client.post(
        "/api/v1/structures", json={**structure, "territory": "atlantide"}, headers=bearer("admin")
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {"territory": ["Territoire inconnu."]}
    bad = client.post(
        "/api/v1/structures", json={**structure, "programmes": ["XYZ"]}, headers=bearer("admin")
    )
    assert bad.status_code == 422
