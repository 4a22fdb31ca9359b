"""Explanations in French: one sentence per criterion, the breakdown in words, the API shape."""

from __future__ import annotations

from datetime import date

from referral.matching.explain import french_number, with_unit
from referral.matching.registry import FIELDS, OPERATORS, explanation_for, operators_for, validate_criterion
from referral.matching.scoring import FACTORS
from tests.matching.factories import (
    TODAY,
    criterion,
    match,
    only,
    opportunity,
    participant,
    reference,
)

MAY_WORK = ["francaise", "ue", "titre_valide", "recepisse"]


def sentence(person, crit):
    proposal = only(person, opportunity(criteria=[crit]))
    return proposal.criteria[0].text


def test_the_sentences_of_the_design():
    expired = participant(residence_status="titre_expire")
    assert (
        sentence(expired, criterion("residence_status", "in", MAY_WORK))
        == "Titre de séjour valide ou équivalent requis (situation actuelle : Titre de séjour expiré)"
    )
    four_months = participant(entered_on=date(2026, 7, 10))
    assert (
        sentence(four_months, criterion("months_in_programme", "gte", 6))
        == "6 mois d'ancienneté requis, 4 mois aujourd'hui"
    )
    assert (
        sentence(participant(monthly_resources=610), criterion("monthly_resources", "lte", 900))
        == "Ressources mensuelles au plus 900 € : 610 € ✓"
    )
    assert (
        sentence(participant(language_level=None), criterion("language_level", "gte", "a2"))
        == "Niveau de français au moins A2 (intermédiaire, « de survie ») "
        "(information manquante : niveau de français)"
    )


def test_sentences_for_codes_numbers_and_yes_no_values():
    person = participant(monthly_resources=1500, household_size=3, children=2)
    assert (
        sentence(person, criterion("housing_status", "not_in", ["logement_social"]))
        == "Situation de logement autre que « Logement social » : À la rue (sans abri) ✓"
    )
    assert (
        sentence(person, criterion("monthly_resources", "between", [600, 1400]))
        == "Ressources mensuelles entre 600 € et 1 400 € (situation actuelle : 1 500 €)"
    )
    assert sentence(person, criterion("household_size", "lte", 2)) == (
        "Taille du foyer au plus 2 personnes (situation actuelle : 3 personnes)"
    )
    assert (
        sentence(person, criterion("children", "eq", 0))
        == "Enfants à charge : 0 enfant (situation actuelle : 2 enfants)"
    )
    assert sentence(person, criterion("driving_licence", "eq", True)) == (
        "Permis de conduire requis (situation actuelle : non)"
    )
    assert sentence(person, criterion("age", "gte", 40)) == "Avoir au moins 40 ans (36 ans aujourd'hui)"
    assert sentence(person, criterion("programme", "eq", "CVG")) == (
        "Programme « Convergence (CVG) » requis : Convergence (CVG) ✓"
    )
    assert sentence(person, criterion("health_coverage", "in", ["puma", "css", "ame"])) == (
        "Couverture maladie ouverte requise (situation actuelle : Aucune)"
    )
    assert (
        sentence(person, criterion("has_need", "has", "logement.social"))
        == "Frein ouvert : « Logement social » ✓"
    )
    assert sentence(person, criterion("has_need", "has", "sante")) == (
        "Frein ouvert : « Santé » (aucun frein ouvert de ce type)"
    )


def test_every_field_and_operator_has_a_sentence():
    known = {name: frozenset(codes) for name, codes in reference().labels.items()}
    samples = {
        "territory": "lyon",
        "programme": "CVG",
        "residence_status": "ue",
        "housing_status": "rue",
        "health_coverage": "css",
        "language_level": "b1",
        "has_need": "logement",
    }
    for field, spec in FIELDS.items():
        for op in operators_for(field):
            value = samples.get(field, True if spec.kind.value == "boolean" else 3)
            if op == "between":
                value = [value, value] if field != "language_level" else ["a1", "b1"]
            elif op in ("in", "not_in"):
                value = [value]
            problems = validate_criterion(field, op, value, known)
            assert problems == [], (field, op, problems)
            text = sentence(participant(), criterion(field, op, value))
            assert text, (field, op)
            assert "{" not in text, (field, op, text)
            assert explanation_for(field, op, value)[1]
    assert set(OPERATORS) >= {"eq", "in", "not_in", "gte", "lte", "between", "has"}


def test_numbers_are_written_the_french_way():
    assert french_number(1500) == "1 500"
    assert french_number(20.5) == "20,5"
    assert with_unit("age", 1) == "1 an"
    assert with_unit("weekly_hours", 26) == "26 h"


def test_reasons_put_the_breakdown_in_words_largest_first():
    person = participant(needs=[("logement", "logement.social", 1)])
    housing = opportunity(capacity=4, places_left=3, recent_referrals=2, partner_answer_rate=None)
    (proposal,) = match(person, housing).eligible()
    assert proposal.reasons[0] == "Répond au frein « Logement social » (priorité 1)"
    assert proposal.reasons[1] == "Urgence logement : À la rue (sans abri)"
    assert "3 places libres sur 4" in proposal.reasons
    assert "2 orientations récentes pour 3 places libres" in proposal.reasons
    assert "Réactivité du partenaire encore inconnue (sans effet sur le classement)" in proposal.reasons
    assert "Offre publiée il y a 31 jours" in proposal.reasons


def test_reasons_for_coverage_and_permit_urgencies():
    uncovered = participant(needs=[("acces_droits", "acces_droits.css", 2)])
    (rights,) = match(
        uncovered, opportunity(domain="acces_droits", subtypes=("acces_droits.css",))
    ).eligible()
    assert "Urgence : aucune couverture maladie" in rights.reasons
    ending = participant(
        residence_status="titre_valide", residence_permit_expires_on=date(2027, 1, 15), health_coverage="css"
    )
    permit_help = opportunity(domain="acces_droits", subtypes=("acces_droits.titre_sejour",))
    (permit,) = match(ending, permit_help).eligible()
    assert "Urgence : titre de séjour à renouveler avant le 15/01/2027" in permit.reasons
    assert permit.breakdown["urgency"] > 0


def test_the_api_shape_of_a_proposal():
    result = match(
        participant(entered_on=date(2026, 7, 10)),
        opportunity(criteria=[criterion("months_in_programme", "gte", 6)]),
    )
    data = result.to_dict()
    assert data["eligible"] == []
    (near,) = data["near_misses"]
    for key in (
        "opportunity_id",
        "opportunity_title",
        "partner_id",
        "partner_name",
        "domain",
        "score",
        "breakdown",
        "reasons",
        "flags",
        "eligible_on",
    ):
        assert key in near
    assert list(near["breakdown"]) == list(FACTORS)
    assert near["eligible_on"] == "2027-01-10"
    assert near["blocking"] == ["6 mois d'ancienneté requis, 4 mois aujourd'hui"]
    assert all(isinstance(reason, str) for reason in near["reasons"])
    eligible = match(participant(), opportunity()).to_dict()["eligible"][0]
    assert "eligible_on" not in eligible
    assert TODAY  # the day is always given explicitly


def test_the_sentence_helper_says_what_the_proposal_says():
    from referral.matching.criteria import compile_criterion, evaluate, facts_for
    from referral.matching.explain import criterion_sentence

    person = participant(entered_on=date(2026, 7, 10))
    crit = criterion("months_in_programme", "gte", 6)
    compiled = compile_criterion(crit, reference())
    facts = facts_for(person, reference(), TODAY)
    assert criterion_sentence(compiled, facts, evaluate(compiled, facts), reference()) == sentence(
        person, crit
    )


def test_a_prepared_index_says_exactly_what_a_lazy_one_says():
    """`prepare` computes the day's figures and sentences at build time; the words must not
    depend on whether they were made then or at the first request, nor on which territory or
    opportunity first asked for a criterion's sentence (they are shared)."""
    from referral.matching.index import MatchingIndex
    from tests.matching.factories import LYON, PARIS

    requirement = criterion("months_in_programme", "gte", 6)
    opportunities = [
        opportunity(
            id=100,
            territory_ids=frozenset({LYON, PARIS}),
            criteria=[requirement, criterion("driving_licence", "eq", True, hard=False)],
        ),
        opportunity(id=101, criteria=[requirement], valid_from=date(2026, 12, 1)),
        opportunity(id=102, territory_ids=frozenset({PARIS}), criteria=[requirement], places_left=0),
    ]
    people = [
        participant(entered_on=date(2026, 7, 10)),
        participant(id=2, territory_id=PARIS, driving_licence=True),
        participant(id=3, territory_id=PARIS, entered_on=date(2026, 10, 1), driving_licence=None),
    ]

    lazy = MatchingIndex(opportunities, reference())
    prepared = MatchingIndex(opportunities, reference()).prepare(TODAY)

    for person in people:
        assert prepared.match(person, TODAY).to_dict() == lazy.match(person, TODAY).to_dict()
    # One sentence object per criterion, whichever territory or opportunity carries it.
    lyon, paris = prepared.territory(LYON), prepared.territory(PARIS)
    assert lyon.wordings(0)[0] is lyon.wordings(1)[0] is paris.wordings(0)[0] is paris.wordings(1)[0]
    assert len(prepared.criterion_wordings) == 2
    # A territory index built later by `updated` keeps sharing them.
    changed = prepared.updated([opportunity(id=103, criteria=[requirement])])
    assert changed.territory(LYON).wordings(2)[0] is lyon.wordings(0)[0]
