"""Duplicate detection: a partner that probably exists already, a person already followed.

No database: partners are `SearchRecord`s in a `SearchIndex`, people `PersonRecord`s.
"""

from __future__ import annotations

from datetime import date

import pytest

from referral.search import (
    PartnerCandidate,
    PersonRecord,
    SearchIndex,
    SearchRecord,
    partner_duplicates,
    person_duplicates,
)


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex(
        [
            SearchRecord(1, "Les Compagnons Bâtisseurs", "Lyon", siret="44224589000046"),
            SearchRecord(2, "Emmaüs Défi", "Paris", siret="50189346400021"),
            SearchRecord(3, "Tremplin", "Bourg-en-Bresse"),
            SearchRecord(4, "Tremplin Emploi", "Villeurbanne"),
            SearchRecord(5, "Régie de Quartier – Carton Plein", "Paris"),
            SearchRecord(6, "Franprix", ""),
            SearchRecord(7, "CPAM du Rhône", "Lyon"),
            SearchRecord(8, "Emmaüs Défi", "Marseille"),
        ]
    )


def found(duplicates: list) -> list[int]:
    return [duplicate.id for duplicate in duplicates]


def test_same_siret_is_certain_whatever_the_name(index: SearchIndex) -> None:
    duplicates = partner_duplicates(PartnerCandidate("CBA Rhône", "Vénissieux", "442 245 890 00046"), index)
    assert found(duplicates) == [1]
    assert duplicates[0].score == 100
    assert duplicates[0].reason == "Même SIRET (442 245 890 00046)."


def test_same_siren_in_the_same_town_is_very_likely(index: SearchIndex) -> None:
    duplicates = partner_duplicates(PartnerCandidate("CB Lyon 7e", "Lyon", "44224589000099"), index)
    assert found(duplicates) == [1]
    assert duplicates[0].score == 95
    assert "Même entreprise (SIREN 442 245 890)" in duplicates[0].reason
    # Another establishment of the same company elsewhere is not a duplicate.
    assert partner_duplicates(PartnerCandidate("CB Grenoble", "Grenoble", "44224589000099"), index) == []


@pytest.mark.parametrize(
    ("name", "town", "expected"),
    [
        ("Les Compagnons Bâtisseurs", "Lyon", 1),  # the same
        ("les compagnons batisseurs", "LYON", 1),  # case and accents
        ("EMMAUS DEFI", "paris", 2),
        ("Bâtisseurs (Les Compagnons)", "Lyon", 1),  # word order
        ("Compagnons Batiseurs", "Lyon", 1),  # one typo, « Les » left out
        ("Emmaus Défit", "Paris", 2),
        ("Association Tremplin", "Bourg-en-Bresse", 3),  # « Association » prefix
        ("Association Les Compagnons Bâtisseurs", "Lyon", 1),
        ("Régie de quartier Carton-Plein", "Paris", 5),  # punctuation, hyphen
        ("Franprix", "", 6),  # no town on both sides: a national network
    ],
)
def test_a_close_name_in_the_same_town_is_a_likely_duplicate(
    index: SearchIndex, name: str, town: str, expected: int
) -> None:
    duplicates = partner_duplicates(PartnerCandidate(name, town), index)
    assert found(duplicates) == [expected]
    assert duplicates[0].score >= 88


def test_the_reason_says_what_was_compared(index: SearchIndex) -> None:
    same = partner_duplicates(PartnerCandidate("emmaus defi", "Paris"), index)[0]
    assert same.reason == "Même nom, à Paris : « Emmaüs Défi »."
    close = partner_duplicates(PartnerCandidate("Compagnons Batiseurs", "Lyon"), index)[0]
    assert close.reason == "Nom très proche, à Lyon : « Les Compagnons Bâtisseurs »."
    national = partner_duplicates(PartnerCandidate("Franprix", ""), index)[0]
    assert national.reason == "Même nom, sans commune : « Franprix »."


@pytest.mark.parametrize(
    ("name", "town"),
    [
        ("Les Compagnons Bâtisseurs", "Grenoble"),  # same name, another town: a branch
        ("Tremplin", "Villeurbanne"),  # « Tremplin Emploi » is there, a different name
        ("Tremplin Insertion", "Bourg-en-Bresse"),
        ("CPAM de l’Isère", "Lyon"),
        ("Franprix", "Lyon"),  # the national network has no town
    ],
)
def test_not_a_duplicate(index: SearchIndex, name: str, town: str) -> None:
    assert partner_duplicates(PartnerCandidate(name, town), index) == []


def test_same_name_in_two_towns_finds_only_the_right_one(index: SearchIndex) -> None:
    assert found(partner_duplicates(PartnerCandidate("Emmaüs Défi", "Marseille"), index)) == [8]


def test_the_partner_being_edited_is_not_its_own_duplicate(index: SearchIndex) -> None:
    edited = SearchRecord(1, "Les Compagnons Bâtisseurs Rhône", "Lyon", siret="44224589000046")
    assert partner_duplicates(edited, index, exclude_id=1) == []


def test_siret_and_name_together_give_one_entry_with_the_best_reason(index: SearchIndex) -> None:
    duplicates = partner_duplicates(PartnerCandidate("Emmaüs Défi", "Paris", "50189346400021"), index)
    assert found(duplicates) == [2]
    assert duplicates[0].reason.startswith("Même SIRET")


def test_duplicates_follow_the_index_updates(index: SearchIndex) -> None:
    index.update(SearchRecord(3, "Tremplin", "Oyonnax"))
    assert partner_duplicates(PartnerCandidate("Tremplin", "Bourg-en-Bresse"), index) == []
    assert found(partner_duplicates(PartnerCandidate("Tremplin", "Oyonnax"), index)) == [3]
    index.remove(1)
    assert partner_duplicates(PartnerCandidate("x", "Lyon", "44224589000046"), index) == []


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------

BORN = date(1984, 3, 1)


@pytest.fixture
def people() -> list[PersonRecord]:
    return [
        PersonRecord(1, "Éloïse", "Lefèvre", BORN),
        PersonRecord(2, "Mohammed", "Benali", BORN),
        PersonRecord(3, "Jean-Pierre", "Dupont", BORN),
        PersonRecord(4, "Marie-Claire", "Martin-Diallo", BORN),
        PersonRecord(5, "Éloïse", "Lefèvre", date(1984, 3, 2)),
        PersonRecord(6, "Paul", "Durand", BORN),
        PersonRecord(7, "Amadou", "Traoré", None),
    ]


@pytest.mark.parametrize(
    ("first", "last", "expected", "reason"),
    [
        ("Éloïse", "Lefèvre", 1, "même nom"),
        ("ELOISE", "lefevre", 1, "même nom"),  # accents and case
        ("Lefèvre", "Éloïse", 1, "prénom et nom inversés"),  # swapped
        ("Mohamed", "Benali", 2, "nom très proche (faute de frappe probable)"),  # one typo
        ("Mohammed", "Ben Ali", 2, "même nom"),  # compound written in two words
        ("Benali", "Mohamed", 2, "prénom et nom inversés, à une faute près"),
        ("Jean Pierre", "Dupont", 3, "même nom"),  # hyphen or space
        ("Jean-Pierre", "Dupond", 3, "nom très proche (faute de frappe probable)"),
        ("Marie", "Martin-Diallo", 4, "nom composé en partie seulement"),
        ("Marie-Claire", "Diallo", 4, "nom composé en partie seulement"),
        ("Marie", "Diallo", 4, "nom composé en partie seulement"),
        ("Marie", "Martin", 4, "nom composé en partie seulement"),
        ("Diallo", "Claire", 4, "nom composé en partie seulement"),  # and swapped
        ("Pierre Jean", "Dupont", 3, "mêmes noms dans un autre ordre"),
    ],
)
def test_a_person_with_the_same_birth_date_and_a_close_name(
    people: list[PersonRecord], first: str, last: str, expected: int, reason: str
) -> None:
    duplicates = person_duplicates(first, last, BORN, people)
    assert found(duplicates) == [expected]
    assert duplicates[0].reason == f"Même date de naissance (1er mars 1984) et {reason}."
    assert 85 <= duplicates[0].score <= 100


def test_the_exact_name_scores_highest(people: list[PersonRecord]) -> None:
    assert person_duplicates("Éloïse", "Lefèvre", BORN, people)[0].score == 100
    assert person_duplicates("Lefèvre", "Éloïse", BORN, people)[0].score < 100


@pytest.mark.parametrize(
    ("first", "last", "born"),
    [
        ("Éloïse", "Lefèvre", date(1990, 3, 1)),  # another birth date
        ("Paula", "Dupuis", BORN),  # another person born the same day
        ("Claire", "Lefèvre", BORN),  # same last name, another first name
        ("Amadou", "Traoré", BORN),  # the record has no birth date
        ("Amadou", "Traoré", None),  # nor the new person
        ("Pauline", "Durand", BORN),  # Paul's twin sister: the first names differ too much
        ("", "", BORN),
    ],
)
def test_not_the_same_person(people: list[PersonRecord], first: str, last: str, born: date | None) -> None:
    assert person_duplicates(first, last, born, people) == []


def test_several_candidates_are_ordered_by_score_then_id() -> None:
    people = [
        PersonRecord(9, "Paul", "Durant", BORN),
        PersonRecord(4, "Paul", "Durand", BORN),
        PersonRecord(2, "Paul", "Durand", BORN),
    ]
    assert found(person_duplicates("Paul", "Durand", BORN, people)) == [2, 4, 9]
