"""Creating and editing partners through the services: duplicates, SIRET, roles and scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.exceptions import InvalidInput, NotFound, PermissionDenied
from referral.partners import search, services
from referral.partners.exceptions import LikelyDuplicatePartner, SiretAlreadyUsed
from referral.partners.models import DeploymentStatus, Partner
from tests.partners.conftest import make_siret

SIRET_A = make_siret("4123456789012")
SIRET_B = make_siret("5123456789012")


def count_partners(session: Session) -> int:
    return session.scalar(select(func.count(Partner.id))) or 0


def test_siret_check_digit() -> None:
    assert services.siret_problem(SIRET_A) is None
    wrong = SIRET_A[:-1] + str((int(SIRET_A[-1]) + 1) % 10)
    assert "clé de contrôle" in services.siret_problem(wrong)
    assert services.siret_problem("1234") == "Le SIRET compte exactement 14 chiffres."
    assert services.normalise_siret(" 412 345 678 90128 ") == "41234567890128"


def test_a_cp_creates_a_partner_of_their_territory(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    partner = services.create_partner(
        session,
        cp,
        {
            "name": "Foyer Notre-Dame des Sans-Abri",
            "kind": "hebergement",
            "siret": "412 345 678 901" + SIRET_A[-2:],
            "address": "3 rue Père Chevrier",
            "postcode": "69007",
            "town": "Lyon",
            "contacts": [
                {"name": "Sophie Martin", "role": "Cheffe de service", "email": "s.martin@exemple.org"}
            ],
            "tags": ["CHRS", "chrs", "urgence"],
        },
    )
    assert partner.siret == SIRET_A
    assert partner.created_by_id == cp.id
    assert [(link.territory_id, link.status) for link in partner.territory_links] == [
        (cp.territory_id, DeploymentStatus.DEPLOYED)
    ]
    assert [contact.name for contact in partner.contacts] == ["Sophie Martin"]
    assert partner.tags == ["CHRS", "urgence"]  # the same tag twice, whatever its case, is kept once
    assert partner in services.list_partners(session, cp)


@pytest.mark.parametrize(
    ("name", "town"),
    [
        ("Habitat Rhone Solidaire (demo)", "Lyon"),  # accents
        ("HABITAT RHÔNE SOLIDAIRE (DÉMO)", "LYON"),  # case
        ("Solidaire Habitat Rhône (démo)", "Lyon"),  # word order
        ("Habitat Rhône Solidiare (démo)", "Lyon"),  # typo
        ("Association Habitat Rhône Solidaire (démo)", "lyon"),  # « association » is no identity
    ],
)
def test_a_close_name_in_the_same_town_is_a_likely_duplicate(
    session: Session, demo_user, name: str, town: str
) -> None:
    existing = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    before = count_partners(session)
    with pytest.raises(LikelyDuplicatePartner) as refusal:
        services.create_partner(
            session, demo_user("cp_logement"), {"name": name, "kind": "bailleur_social", "town": town}
        )
    assert refusal.value.status == 409
    assert [candidate["id"] for candidate in refusal.value.extra["candidates"]] == [existing.id]
    candidate = refusal.value.extra["candidates"][0]
    assert candidate["name"] == existing.name
    assert candidate["town"] == "Lyon"
    assert "Lyon" in candidate["reason"]
    assert count_partners(session) == before


def test_the_cp_may_confirm_it_is_another_organisation(session: Session, demo_user) -> None:
    partner = services.create_partner(
        session,
        demo_user("cp_logement"),
        {"name": "Habitat Rhône Solidaire (démo)", "kind": "bailleur_social", "town": "Lyon"},
        confirm_new=True,
    )
    assert partner.id is not None


def test_the_same_name_elsewhere_is_not_a_duplicate(session: Session, demo_user) -> None:
    partner = services.create_partner(
        session,
        demo_user("cp_logement"),
        {"name": "Habitat Rhône Solidaire (démo)", "kind": "bailleur_social", "town": "Villeurbanne"},
    )
    assert partner.town == "Villeurbanne"


def test_the_same_siret_cannot_be_confirmed_away(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    first = services.create_partner(
        session,
        cp,
        {"name": "Résidence sociale Les Tilleuls", "kind": "hebergement", "town": "Lyon", "siret": SIRET_B},
    )
    with pytest.raises(LikelyDuplicatePartner) as refusal:
        services.create_partner(
            session,
            cp,
            {"name": "Tout autre nom", "kind": "association", "town": "Vénissieux", "siret": SIRET_B},
            confirm_new=True,
        )
    assert refusal.value.same_siret
    assert refusal.value.extra["candidates"][0]["id"] == first.id
    assert "SIRET" in refusal.value.extra["candidates"][0]["reason"]


def test_bad_input_names_each_field_in_french(session: Session, demo_user) -> None:
    before = count_partners(session)
    with pytest.raises(InvalidInput) as refusal:
        services.create_partner(
            session,
            demo_user("cp_logement"),
            {
                "name": " ",
                "kind": "boulangerie",
                "siret": "12345",
                "postcode": "6900",
                "convention_signed_on": date(2025, 6, 1),
                "convention_ends_on": date(2025, 1, 1),
                "territories": [{"slug": "paris"}],
                "contacts": [{"name": ""}],
            },
        )
    errors = refusal.value.errors
    assert errors["name"] == ["Le nom du partenaire est obligatoire."]
    assert errors["kind"] == ["« boulangerie » n'est pas un type de partenaire connu."]
    assert errors["siret"] == ["Le SIRET compte exactement 14 chiffres."]
    assert errors["postcode"] == ["Le code postal compte 5 chiffres."]
    assert errors["convention_ends_on"] == ["La convention ne peut pas finir avant d'être signée."]
    assert errors["territories.0.slug"] == [
        "Un·e CP rattache un partenaire à son propre territoire seulement."
    ]
    assert errors["contacts.0.name"] == ["Le nom du contact est obligatoire."]
    assert count_partners(session) == before


@pytest.mark.parametrize("who", ["coordinator", "cip"])
def test_only_cps_build_the_network(session: Session, demo_user, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_partner(
            session, demo_user(who), {"name": "Nouveau", "kind": "association", "town": "Lyon"}
        )


def test_a_cp_edits_only_partners_of_their_territory(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    paris = session.scalar(select(Partner).where(Partner.key == "cpam-paris"))
    with pytest.raises(NotFound):
        services.update_partner(session, cp, paris.id, {"town": "Lyon"})
    lyon = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    edited = services.update_partner(
        session,
        cp,
        lyon.id,
        {"address": "12 quai Perrache", "territories": [{"slug": "lyon", "status": "in_discussion"}]},
    )
    assert edited.address == "12 quai Perrache"
    assert edited.territory_links[0].status is DeploymentStatus.IN_DISCUSSION


def test_a_siret_already_used_is_refused_on_edit(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    services.create_partner(
        session, cp, {"name": "Les Tilleuls", "kind": "hebergement", "town": "Lyon", "siret": SIRET_B}
    )
    other = session.scalar(select(Partner).where(Partner.key == "habitat-rhone-solidaire-demo"))
    with pytest.raises(SiretAlreadyUsed):
        services.update_partner(session, cp, other.id, {"siret": SIRET_B})


def test_search_tolerates_typos_and_stays_in_scope(session: Session, demo_user) -> None:
    cip = demo_user("cip")
    hits = search.search_partners(session, cip, "habitat rhone solidiare")
    assert hits
    assert hits[0].name == "Habitat Rhône Solidaire (démo)"
    # The CPAM of Paris is not in a Lyon CIP's network, whatever the query.
    assert all(hit.name != "CPAM de Paris" for hit in search.search_partners(session, cip, "cpam paris"))


def test_search_sees_a_new_partner_at_once(session: Session, demo_user) -> None:
    cp = demo_user("cp_logement")
    assert not [
        hit for hit in search.search_partners(session, cp, "Tremplin Gerland") if "Gerland" in hit.name
    ]
    services.create_partner(
        session, cp, {"name": "Association Tremplin Gerland", "kind": "association", "town": "Lyon"}
    )
    assert search.search_partners(session, cp, "tremplin gerlan")[0].name == "Association Tremplin Gerland"
    services.update_partner(
        session, cp, search.search_partners(session, cp, "tremplin")[0].id, {"name": "Tremplin Confluence"}
    )
    assert search.search_partners(session, cp, "tremplin")[0].name == "Tremplin Confluence"
