"""The fuzzy search index: folding, tolerance, territories, incremental updates, determinism.

No database: records are plain `SearchRecord`s named like the partners of seeds/partners.toml.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.search import (
    DUPLICATE_STOP_WORDS,
    SearchHit,
    SearchIndex,
    SearchRecord,
    fold,
    significant_words,
)
from referral.search.text import fold_many

LYON, MARSEILLE, PARIS, NANTES = 1, 2, 3, 4


def partners() -> list[SearchRecord]:
    return [
        SearchRecord(1, "CPAM du Rhône", "Lyon", ("santé", "droits"), {LYON}, "cpam"),
        SearchRecord(2, "CPAM des Bouches-du-Rhône", "Marseille", ("santé",), {MARSEILLE}, "cpam"),
        SearchRecord(3, "Lyon Métropole Habitat", "Lyon", ("logement",), {LYON}, "bailleur social"),
        SearchRecord(4, "CDC Habitat — Lyon", "Lyon", ("logement",), {LYON}, "bailleur social"),
        SearchRecord(5, "Passerelles & Compétences", "Paris", ("bénévolat",), {PARIS, LYON}, "association"),
        SearchRecord(6, "Franprix — Lyon", "Lyon", ("emploi",), {LYON}, "entreprise"),
        SearchRecord(7, "Franprix — Marseille", "Marseille", ("emploi",), {MARSEILLE}, "entreprise"),
        SearchRecord(8, "Les Compagnons Bâtisseurs", "Lyon", ("logement",), {LYON}, "association"),
        SearchRecord(9, "L’Escale Saint-Jean", "Villeurbanne", ("hébergement",), {LYON}, "hébergement"),
        SearchRecord(10, "Tremplin", "Bourg-en-Bresse", (), {LYON}, "insertion"),
        SearchRecord(11, "Tremplin Emploi", "Villeurbanne", (), {LYON}, "insertion"),
        SearchRecord(12, "Jardins de Cocagne", "Nantes", ("maraîchage",), {NANTES}, "insertion"),
        SearchRecord(13, "Orspere-Samdarra", "Lyon", ("santé mentale",), None, "soutien psychologique"),
        SearchRecord(14, "Bureaux du Cœur — Nantes", "Nantes", ("logement",), {NANTES}, "association"),
    ]


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex(partners())


def top(index: SearchIndex, query: str, **options: object) -> int | None:
    hits = index.search(query, **options)  # type: ignore[arg-type]
    return hits[0].id if hits else None


def ids(hits: list[SearchHit]) -> list[int]:
    return [hit.id for hit in hits]


# --------------------------------------------------------------------------------------------------
# fold
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("L’Escale — Saint-Jean", "l escale saint jean"),
        ("l'escale saint jean", "l escale saint jean"),
        ("  CPAM   du  RHÔNE ", "cpam du rhone"),
        ("Bureaux du Cœur", "bureaux du coeur"),
        ("Passerelles & Compétences", "passerelles competences"),
        ("C.C.A.S. de Vénissieux", "ccas de venissieux"),
        ("Régie Activ'cités", "regie activ cites"),
        ("Emergence(s)", "emergence s"),
        ("Vandœuvre-lès-Nancy", "vandoeuvre les nancy"),
        ("ÉLOÏSE Lefèvre", "eloise lefevre"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_letters_of_other_scripts() -> None:
    assert fold("محمد Ben-Ali") == "محمد ben ali"


@given(st.lists(st.text(max_size=30), max_size=8))
def test_fold_is_idempotent_and_folding_many_is_folding_each(texts: list[str]) -> None:
    for text in texts:
        assert fold(fold(text)) == fold(text)
    assert [" ".join(line.split()) for line in fold_many(texts)] == [fold(text) for text in texts]


def test_significant_words_drop_grammatical_words_and_duplicates_drop_association_too() -> None:
    assert significant_words("Association de la Boussole") == ["association", "boussole"]
    assert significant_words("Association de la Boussole", DUPLICATE_STOP_WORDS) == ["boussole"]
    assert significant_words("St-Priest") == ["saint", "priest"]
    # A name made only of stop words keeps them, or it could not be found.
    assert significant_words("Les Uns et les Autres") == ["uns", "autres"]
    assert significant_words("De la") == ["de", "la"]


# --------------------------------------------------------------------------------------------------
# Tolerance
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("CPAM du Rhône", 1),
        ("cpam du rhone", 1),  # accents and case
        ("CPAM DU RHONE", 1),
        ("rhône cpam", 1),  # word order
        ("cpam rhone bouches", 2),
        ("Passereles et Competences", 5),  # typos, « & » written « et »
        ("competences passerelles", 5),
        ("compagnons batisseurs", 8),
        ("batisseurs compangons", 8),  # swapped letters
        ("l escale st jean", 9),  # apostrophe, abbreviation
        ("escale saint-jean", 9),
        ("lyon metropole habitat", 3),
        ("bureaux du coeur", 14),
        ("orspere samdara", 13),
    ],
)
def test_search_tolerates_accents_case_order_and_typos(index: SearchIndex, query: str, expected: int) -> None:
    assert top(index, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fran lyo", 6),
        ("lyo metro hab", 3),
        ("pass comp", 5),
        ("comp bat", 8),
        ("cdc hab lyo", 4),
        ("jard coca", 12),
        ("bur coeur", 14),
    ],
)
def test_search_works_as_you_type(index: SearchIndex, query: str, expected: int) -> None:
    assert top(index, query) == expected


def test_every_prefix_of_a_name_keeps_it_on_the_first_screen(index: SearchIndex) -> None:
    name = "compagnons batisseurs"
    for end in range(4, len(name) + 1):
        assert 8 in ids(index.search(name[:end], limit=5)), name[:end]


def test_a_typo_while_typing_is_tolerated(index: SearchIndex) -> None:
    assert top(index, "compagnnons bat") == 8
    assert top(index, "cmopa bati") == 8


def test_town_tags_and_kind_are_searched_too(index: SearchIndex) -> None:
    assert top(index, "tremplin villeurbanne") == 11
    assert top(index, "tremplin bourg") == 10
    assert top(index, "maraichage") == 12
    assert set(ids(index.search("bailleur social lyon")[:2])) == {3, 4}


def test_the_exact_name_scores_100_and_a_shorter_name_ranks_first(index: SearchIndex) -> None:
    hits = index.search("tremplin")
    assert hits[0] == SearchHit(10, 100.0)
    assert hits[1].id == 11
    assert 0 < hits[1].score < 100


def test_a_word_in_the_name_counts_more_than_in_the_town() -> None:
    index = SearchIndex(
        [SearchRecord(1, "Tremplin", "Lyon"), SearchRecord(2, "Tremplin Lyon", "Villeurbanne")]
    )
    assert ids(index.search("tremplin lyon")) == [2, 1]


def test_the_exact_name_is_kept_among_many_longer_names_covering_the_query() -> None:
    """Hundreds of « … Arc-en-Ciel » cover « arc en ciel » whole; the short list keeps the exact one."""
    records = [SearchRecord(number, f"Atelier {number} Arc-en-Ciel", "Lyon") for number in range(1, 400)]
    index = SearchIndex([*records, SearchRecord(999, "Arc-en-Ciel", "Orange")])
    assert top(index, "arc-en-ciel") == 999
    assert top(index, "ARC EN CIEL") == 999


def test_a_typo_in_a_short_word_among_many_similar_names() -> None:
    towns = ["Rodez", "Roanne", "Rouen", "Rome", "Romans", "Rennes", "Reims", "Riom", "Royan", "Rosny"]
    trades = ["Bâtiment", "Plomberie", "Peinture", "Garage", "Boulangerie"]
    records = [
        SearchRecord(number, f"{trade} {town}", town)
        for number, (trade, town) in enumerate(((t, w) for t in trades for w in towns), start=1)
    ]
    index = SearchIndex(records)
    riom = next(record.id for record in records if record.name == "Bâtiment Riom")
    assert riom in ids(index.search("rom batiment", limit=3))
    assert top(index, "batiment riim") == riom


def test_scores_stay_between_0_and_100(index: SearchIndex) -> None:
    for query in ("cpam", "lyon", "zzz qqq", "franprix lyon", "a"):
        for hit in index.search(query, limit=50):
            assert 0 < hit.score <= 100


def test_nothing_to_search_gives_nothing(index: SearchIndex) -> None:
    assert index.search("") == []
    assert index.search(" — ' ") == []
    assert index.search("cpam", limit=0) == []
    assert index.search("xyzzy qwfp") == []
    assert SearchIndex().search("cpam") == []


def test_limit_and_min_score(index: SearchIndex) -> None:
    assert len(index.search("lyon", limit=3)) == 3
    assert all(hit.score >= 90 for hit in index.search("tremplin", min_score=90))
    assert ids(index.search("tremplin", min_score=90)) == [10]


def test_a_pasted_paragraph_is_searched_by_its_first_words(index: SearchIndex) -> None:
    query = "compagnons bâtisseurs " + " ".join(f"mot{number}" for number in range(40))
    assert top(index, query) == 8


def test_opportunities_are_found_by_title_partner_and_tags() -> None:
    opportunities = SearchIndex(
        [
            SearchRecord(
                101,
                "Atelier CV et simulation d’entretien",
                "Paris",
                ("emploi",),
                {PARIS},
                aliases=("Passerelles & Compétences",),
            ),
            SearchRecord(
                102,
                "Mise à l’abri hivernale",
                "Lyon",
                ("hébergement", "urgence"),
                {LYON},
                aliases=("L’Escale Saint-Jean",),
            ),
            SearchRecord(103, "Bilan de santé", "Lyon", ("santé",), {LYON}, aliases=("CPAM du Rhône",)),
        ]
    )
    assert top(opportunities, "atelier cv") == 101
    assert top(opportunities, "passerelles entretien") == 101
    assert top(opportunities, "escale abri") == 102
    assert top(opportunities, "urgence") == 102
    assert top(opportunities, "bilan sante cpam") == 103


# --------------------------------------------------------------------------------------------------
# Territories
# --------------------------------------------------------------------------------------------------


def test_territory_filter(index: SearchIndex) -> None:
    assert ids(index.search("cpam", territory=MARSEILLE)) == [2]
    assert ids(index.search("franprix", territory=LYON)) == [6]
    assert set(ids(index.search("franprix"))) == {6, 7}
    assert index.search("cpam", territory=999) == []


def test_a_national_partner_matches_every_territory_it_serves(index: SearchIndex) -> None:
    assert top(index, "passerelles competences", territory=PARIS) == 5
    assert top(index, "passerelles competences", territory=LYON) == 5
    assert index.search("passerelles competences", territory=NANTES) == []


def test_a_record_serving_every_territory_is_found_in_any(index: SearchIndex) -> None:
    for territory in (LYON, MARSEILLE, PARIS, NANTES, 999):
        assert top(index, "orspere", territory=territory) == 13


def test_a_record_serving_no_territory_is_found_nationally_only() -> None:
    index = SearchIndex([SearchRecord(1, "Partenaire en attente", "Lyon", territory_ids=frozenset())])
    assert top(index, "partenaire attente") == 1
    assert index.search("partenaire attente", territory=LYON) == []


# --------------------------------------------------------------------------------------------------
# Incremental updates
# --------------------------------------------------------------------------------------------------


def test_add_update_remove(index: SearchIndex) -> None:
    index.add(SearchRecord(20, "Emmaüs Défi", "Paris", ("recyclerie",), {PARIS}, "insertion"))
    assert top(index, "emmaus defi") == 20
    assert 20 in index
    assert len(index) == 15

    index.update(SearchRecord(20, "Emmaüs Connect", "Marseille", (), {MARSEILLE}, "insertion"))
    assert top(index, "emmaus connect", territory=MARSEILLE) == 20
    assert index.search("emmaus defi", territory=PARIS) == []
    assert 20 not in ids(index.search("defi"))
    record = index.get(20)
    assert record is not None
    assert record.name == "Emmaüs Connect"

    assert index.remove(20) is True
    assert index.remove(20) is False
    assert index.search("emmaus") == []
    assert 20 not in index
    assert len(index) == 14


def test_adding_an_indexed_id_is_refused_and_update_adds(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="already indexed"):
        index.add(SearchRecord(1, "Autre CPAM", "Lyon"))
    index.update(SearchRecord(30, "Restos du Cœur — Lyon", "Lyon", (), {LYON}))
    assert top(index, "restos coeur") == 30


def test_records_given_twice_are_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        SearchIndex([SearchRecord(1, "A"), SearchRecord(1, "B")])


def test_an_index_kept_up_to_date_answers_like_a_rebuilt_one() -> None:
    """Many random changes, then every query answered as by an index built from the final state."""
    rng = random.Random(3)
    words = ["tremplin", "escale", "habitat", "cœur", "santé", "régie", "saint-jean", "lyon", "atelier"]
    towns = ["Lyon", "Villeurbanne", "Marseille", "Nantes"]
    live: dict[int, SearchRecord] = {}
    kept = SearchIndex()
    for step in range(400):
        record_id = rng.randint(1, 60)
        if record_id in live and rng.random() < 0.3:
            kept.remove(record_id)
            del live[record_id]
            continue
        name = " ".join(rng.sample(words, rng.randint(1, 3))) + f" {step}"
        territories = frozenset(rng.sample([LYON, MARSEILLE, NANTES], rng.randint(1, 2)))
        record = SearchRecord(record_id, name, rng.choice(towns), ("t",), territories)
        kept.update(record)
        live[record_id] = record
    rebuilt = SearchIndex(list(live.values()))
    assert len(kept) == len(rebuilt) == len(live)
    for query in ("tremplin", "escale lyon", "coeur sante", "regie st jean", "hab", "atel", "1"):
        for territory in (None, LYON, NANTES):
            assert kept.search(query, territory=territory, limit=20) == rebuilt.search(
                query, territory=territory, limit=20
            )


def test_many_additions_grow_the_index() -> None:
    index = SearchIndex()
    for number in range(1, 200):
        index.add(SearchRecord(number, f"Partenaire {number} Tremplin", "Lyon", (), {number % 5}))
    assert len(index) == 199
    assert top(index, "partenaire 150 tremplin") == 150
    assert top(index, "partenaire 150 tremplin", territory=0) == 150


# --------------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------------


def test_results_do_not_depend_on_insertion_order() -> None:
    records = partners()
    shuffled = records[:]
    random.Random(11).shuffle(shuffled)
    first, second = SearchIndex(records), SearchIndex(shuffled)
    for query in ("lyon", "cpam", "habitat", "tremplin", "fran", "logement", "coeur"):
        assert first.search(query, limit=20) == second.search(query, limit=20)


def test_equal_scores_are_ordered_by_id() -> None:
    index = SearchIndex(
        [
            SearchRecord(9, "Restos du Cœur", "Lyon"),
            SearchRecord(3, "Restos du Cœur", "Marseille"),
            SearchRecord(5, "Restos du Cœur", "Nantes"),
        ]
    )
    hits = index.search("restos du coeur")
    assert ids(hits) == [3, 5, 9]
    assert len({hit.score for hit in hits}) == 1


def test_ties_cut_by_the_shortlist_keep_the_smallest_ids() -> None:
    index = SearchIndex([SearchRecord(number, "Mission locale", "Lyon") for number in range(500, 0, -1)])
    assert ids(index.search("mission locale", limit=5)) == [1, 2, 3, 4, 5]
