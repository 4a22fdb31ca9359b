"""Accounts, territories and structures: the database holds the scope rules of DESIGN §8."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from referral.territories.models import Role, Structure, Territory, User
from tests import factories
from tests.helpers import accepted_by_database, refused_by_database


@pytest.mark.parametrize(
    ("role", "with_structure", "with_territory", "accepted"),
    [
        (Role.CIP, True, False, True),
        (Role.CIP, False, True, False),  # a CIP belongs to a structure
        (Role.CIP, True, True, False),
        (Role.CP, False, True, True),
        (Role.CP, True, False, False),
        (Role.COORDINATOR, False, True, True),
        (Role.COORDINATOR, False, False, False),
        (Role.ADMIN, False, False, True),
        (Role.ADMIN, False, True, False),  # the national team has no single territory
    ],
)
def test_user_scope_matches_role(
    session: Session, role: Role, with_structure: bool, with_territory: bool, accepted: bool
) -> None:
    structure = factories.structure(session)
    territory = factories.territory(session)

    def add() -> None:
        session.add(
            User(
                email=f"{role.value}.scope@example.org",
                full_name="Personne Test",
                role=role,
                structure_id=structure.id if with_structure else None,
                territory_id=territory.id if with_territory else None,
            )
        )

    (accepted_by_database if accepted else refused_by_database)(session, add)


@pytest.mark.parametrize("email", ["Majuscule@example.org", "sans-arobase.example.org"])
def test_user_email_is_stored_normalised(session: Session, email: str) -> None:
    refused_by_database(session, lambda: session.add(User(email=email, full_name="X", role=Role.ADMIN)))


def test_user_email_is_unique(session: Session) -> None:
    accepted_by_database(
        session, lambda: session.add(User(email="a@example.org", full_name="A", role=Role.ADMIN))
    )
    refused_by_database(
        session, lambda: session.add(User(email="a@example.org", full_name="B", role=Role.ADMIN))
    )


def test_territory_slug_is_lowercase_and_unique(session: Session) -> None:
    refused_by_database(session, lambda: session.add(Territory(slug="Lyon2", name="X", region="Y")))
    refused_by_database(session, lambda: session.add(Territory(slug="lyon", name="Doublon", region="Y")))
    accepted_by_database(
        session, lambda: session.add(Territory(slug="grenoble", name="Grenoble", region="ARA"))
    )


def test_structure_carries_a_programme_and_is_unique_in_its_town(session: Session) -> None:
    def structure(key: str, name: str, **programmes: bool) -> None:
        session.add(Structure(key=key, name=name, town="Lyon", region="Auvergne-Rhône-Alpes", **programmes))

    refused_by_database(
        session, lambda: structure("aucun", "Sans programme", carries_cvg=False, carries_phc=False)
    )
    accepted_by_database(session, lambda: structure("nouvel-aci", "Nouvel ACI", carries_phc=True))
    refused_by_database(session, lambda: structure("nouvel-aci-bis", "Nouvel ACI", carries_cvg=True))
