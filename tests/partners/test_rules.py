"""The pure checks of an opportunity (`referral.partners.rules`), without a database: each rule
accepted, at its edge, and refused with its French message."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from referral.partners.rules import BLANK_OPPORTUNITY, KnownCodes, coded_errors, next_opportunity_state

KNOWN = KnownCodes(
    domains=frozenset({"logement", "sante"}),
    subtypes={"logement.social": "logement", "sante.acces_droits": "sante"},
    categories=frozenset({"situation", "resources", "health"}),
    criteria={"housing_status": frozenset({"chu", "rue"})},
    labels={"logement": "Logement", "sante": "Santé", "sante.acces_droits": "Accès aux droits de santé"},
)


def check(
    values: dict[str, Any], current: dict[str, Any] | None = None, places_taken: int = 0
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return next_opportunity_state(values, current, places_taken=places_taken, known=KNOWN)


def errors_of(values: dict[str, Any], **kwargs: Any) -> dict[str, list[str]]:
    return check({"title": "Logement accompagné", "domain": "logement"} | values, **kwargs)[1]


def test_a_complete_opportunity_is_accepted_and_normalised() -> None:
    state, errors = check(
        {
            "title": "  Logement accompagné  ",
            "domain": "logement",
            "subtypes": ["logement.social", "logement.social"],
            "description": " ",
            "valid_from": date(2027, 1, 1),
            "tags": ["Jeunes", "jeunes", " DALO "],
            "documents_required": ["Avis d'imposition", ""],
            "shared_categories": ["situation"],
            "criteria": [{"field": "housing_status", "op": "in", "value": ["chu"]}],
        }
    )
    assert errors == {}
    assert state["title"] == "Logement accompagné"
    assert state["description"] is None
    assert state["subtypes"] == ["logement.social"]
    assert state["valid_from"] == "2027-01-01"
    assert state["tags"] == ["Jeunes", "DALO"]
    assert state["documents_required"] == ["Avis d'imposition"]
    assert state["capacity"] == BLANK_OPPORTUNITY["capacity"]
    assert state["criteria"] == [
        {"field": "housing_status", "op": "in", "value": ["chu"], "hard": True, "weight": 1.0}
    ]


def test_only_the_given_fields_change_the_current_state() -> None:
    current = dict(BLANK_OPPORTUNITY, title="Ancien titre", domain="sante", capacity=4)
    state, errors = check({"capacity": 5}, current)
    assert errors == {}
    assert (state["title"], state["domain"], state["capacity"]) == ("Ancien titre", "sante", 5)


@pytest.mark.parametrize("title", [None, "", "   "])
def test_the_title_is_required(title: str | None) -> None:
    assert errors_of({"title": title})["title"] == ["Le titre de l'opportunité est obligatoire."]


def test_the_title_has_at_most_200_characters() -> None:
    assert "title" not in errors_of({"title": "x" * 200})
    assert errors_of({"title": "x" * 201})["title"] == ["Au plus 200 caractères."]


def test_the_domain_is_required_and_known() -> None:
    assert errors_of({"domain": None})["domain"] == ["Choisissez le domaine de l'opportunité."]
    assert errors_of({"domain": "cuisine"})["domain"] == ["« cuisine » n'est pas un domaine connu."]


@pytest.mark.parametrize("capacity", [-1, 2.5, True, "3"])
def test_the_capacity_is_a_whole_number_of_places(capacity: object) -> None:
    assert errors_of({"capacity": capacity})["capacity"] == [
        "Le nombre de places est un entier positif ou nul."
    ]


def test_the_capacity_may_be_zero_but_not_below_the_places_taken() -> None:
    assert "capacity" not in errors_of({"capacity": 0})
    assert "capacity" not in errors_of({"capacity": 3}, places_taken=3)
    assert errors_of({"capacity": 2}, places_taken=3)["capacity"] == [
        "3 place(s) sont déjà prises : la capacité ne peut pas descendre en dessous."
    ]


@pytest.mark.parametrize(("delay", "accepted"), [(1, True), (365, True), (0, False), (366, False)])
def test_the_answer_delay_is_between_1_and_365_days(delay: int, accepted: bool) -> None:
    errors = errors_of({"answer_delay_days": delay})
    if accepted:
        assert "answer_delay_days" not in errors
    else:
        assert errors["answer_delay_days"] == ["Le délai de réponse est compris entre 1 et 365 jours."]


def test_the_validity_may_not_end_before_it_starts() -> None:
    same_day = {"valid_from": date(2027, 3, 1), "valid_until": date(2027, 3, 1)}
    assert "valid_until" not in errors_of(same_day)
    assert errors_of({"valid_from": date(2027, 3, 1), "valid_until": date(2027, 2, 28)})["valid_until"] == [
        "La fin de validité ne peut pas précéder son début."
    ]


def test_subtypes_belong_to_the_domain() -> None:
    assert "subtypes" not in errors_of({"subtypes": ["logement.social"]})
    assert errors_of({"subtypes": ["sante.acces_droits", "inconnu"]})["subtypes"] == [
        "« inconnu » n'est pas un sous-thème du domaine « Logement ».",
        "« Accès aux droits de santé » n'est pas un sous-thème du domaine « Logement ».",
    ]


def test_shared_categories_are_known() -> None:
    assert "shared_categories" not in errors_of({"shared_categories": ["situation", "health"]})
    assert errors_of({"shared_categories": ["situation", "casier"]})["shared_categories"] == [
        "Catégorie de données inconnue : « casier »."
    ]


def test_a_criterion_has_a_field_an_operator_and_a_value() -> None:
    assert errors_of({"criteria": [{"field": "age", "op": "gte"}]})["criteria.0"] == [
        "Un critère a un champ, un opérateur et une valeur."
    ]


@pytest.mark.parametrize(("weight", "accepted"), [(0, True), (10, True), (10.5, False), (-1, False)])
def test_a_criterion_weight_is_between_0_and_10(weight: float, accepted: bool) -> None:
    errors = errors_of({"criteria": [{"field": "age", "op": "gte", "value": 18, "weight": weight}]})
    if accepted:
        assert errors == {}
    else:
        assert errors["criteria.0.weight"] == ["Le poids est compris entre 0 et 10."]


def test_a_criterion_names_known_codes_and_its_message_stays_on_its_row() -> None:
    errors = errors_of(
        {
            "criteria": [
                {"field": "age"},  # malformed: numbered 0, not checked against the registry
                {"field": "age", "op": "gte", "value": "dix-huit"},
                {"field": "housing_status", "op": "in", "value": ["chu", "palace"]},
            ]
        }
    )
    assert errors["criteria.0"] == ["Un critère a un champ, un opérateur et une valeur."]
    assert errors["criteria.1"] == ["« Âge » attend un nombre."]
    assert "palace" in errors["criteria.2"][0]


def test_coded_errors_check_the_codes_alone() -> None:
    assert (
        coded_errors(
            domain="sante",
            subtypes=["sante.acces_droits"],
            shared_categories=["health"],
            criteria=[{"field": "housing_status", "op": "in", "value": ["rue"]}],
            known=KNOWN,
        )
        == {}
    )
