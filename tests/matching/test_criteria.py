"""Each operator on each kind of field, hard vs soft, missing values, dates computed from `today`."""

from __future__ import annotations

from datetime import date

import pytest

from referral.matching.criteria import compile_criterion, evaluate, facts_for, holds
from referral.matching.dates import add_months, whole_months, whole_years
from tests.matching.factories import (
    PARIS,
    TODAY,
    criterion,
    match,
    only,
    opportunity,
    participant,
    reference,
)


def eligible_for(person, *criteria_, today: date = TODAY) -> bool:
    result = match(person, opportunity(criteria=criteria_), today=today)
    return bool(result.eligible_ids)


@pytest.mark.parametrize(
    ("crit", "expected"),
    [
        # eq on a number, a code, a yes/no value
        (criterion("household_size", "eq", 1), True),
        (criterion("household_size", "eq", 2), False),
        (criterion("programme", "eq", "CVG"), True),
        (criterion("programme", "eq", "PHC"), False),
        (criterion("driving_licence", "eq", False), True),
        (criterion("driving_licence", "eq", True), False),
        (criterion("rqth", "eq", True), False),
        # in / not_in on codes and numbers
        (criterion("housing_status", "in", ["rue", "squat"]), True),
        (criterion("housing_status", "in", ["chu", "squat"]), False),
        (criterion("housing_status", "not_in", ["logement_social"]), True),
        (criterion("housing_status", "not_in", ["rue"]), False),
        (criterion("children", "in", [0, 1]), True),
        (criterion("children", "not_in", [0]), False),
        # gte / lte / between on numbers (bounds included)
        (criterion("monthly_resources", "lte", 610), True),
        (criterion("monthly_resources", "lte", 609), False),
        (criterion("monthly_resources", "gte", 610), True),
        (criterion("monthly_resources", "gte", 611), False),
        (criterion("monthly_resources", "between", [600, 610]), True),
        (criterion("monthly_resources", "between", [611, 2000]), False),
        (criterion("weekly_hours", "gte", 26), True),
        (criterion("weekly_hours", "between", [4, 20]), False),
        # territory by slug
        (criterion("territory", "eq", "lyon"), True),
        (criterion("territory", "in", ["paris", "nantes"]), False),
    ],
)
def test_each_operator_on_each_kind_of_field(crit, expected):
    assert eligible_for(participant(), crit) is expected


def test_months_in_programme_and_age_are_computed_from_today():
    person = participant(entered_on=date(2026, 5, 24), birth_date=date(2000, 11, 24))
    # 23 November 2026: 5 whole months (the 6th is reached on 24 November), 25 years old (26 tomorrow).
    assert eligible_for(person, criterion("months_in_programme", "eq", 5))
    assert eligible_for(person, criterion("age", "eq", 25))
    tomorrow = date(2026, 11, 24)
    assert eligible_for(person, criterion("months_in_programme", "gte", 6), today=tomorrow)
    assert eligible_for(person, criterion("age", "gte", 26), today=tomorrow)
    assert not eligible_for(person, criterion("age", "gte", 26))


def test_month_ends_are_clamped_consistently():
    # 31 January + 1 month = 28 February: one whole month on that day, not before.
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert whole_months(date(2026, 1, 31), date(2026, 2, 27)) == 0
    assert whole_months(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert whole_years(date(2000, 2, 29), date(2026, 2, 28)) == 26
    assert whole_months(date(2027, 1, 1), TODAY) == 0


def test_language_level_is_compared_by_rank():
    person = participant(language_level="a2")
    assert eligible_for(person, criterion("language_level", "gte", "a1"))
    assert eligible_for(person, criterion("language_level", "gte", "a2"))
    assert not eligible_for(person, criterion("language_level", "gte", "b1"))
    assert eligible_for(person, criterion("language_level", "lte", "a2"))
    assert not eligible_for(person, criterion("language_level", "lte", "a1"))
    assert eligible_for(person, criterion("language_level", "between", ["a1", "b1"]))
    assert eligible_for(person, criterion("language_level", "in", ["a2", "b2"]))
    assert not eligible_for(person, criterion("language_level", "not_in", ["a2"]))


def test_has_need_matches_a_domain_or_a_subtype_among_open_needs():
    person = participant(needs=[("logement", "logement.social", 1), ("sante", None, 2)])
    assert eligible_for(person, criterion("has_need", "has", "logement"))
    assert eligible_for(person, criterion("has_need", "has", "logement.social"))
    assert eligible_for(person, criterion("has_need", "has", "sante"))
    assert not eligible_for(person, criterion("has_need", "has", "logement.dalo"))
    assert not eligible_for(person, criterion("has_need", "has", "sante.medecin_traitant"))
    assert not eligible_for(participant(needs=()), criterion("has_need", "has", "logement"))


@pytest.mark.parametrize(
    ("field", "op", "value", "label"),
    [
        ("language_level", "gte", "a2", "niveau de français"),
        ("monthly_resources", "lte", 900, "ressources mensuelles"),
        ("housing_status", "not_in", ["logement_social"], "situation de logement"),
        ("driving_licence", "eq", False, "permis de conduire"),
    ],
)
def test_a_missing_value_fails_a_hard_criterion_with_a_clear_reason(field, op, value, label):
    person = participant(**{field: None})
    proposal = only(person, opportunity(criteria=[criterion(field, op, value)]))
    assert not proposal.eligible
    assert proposal.blocking[0].endswith(f"(information manquante : {label})")
    assert proposal.criteria[0].met is None


def test_a_participant_whose_territory_is_unknown_fails_a_territory_criterion():
    person = participant(territory_id=99)
    lyon_only = opportunity(territory_ids={99}, criteria=[criterion("territory", "eq", "lyon")])
    proposal = only(person, lyon_only)
    assert proposal.blocking == ("Territoire « Lyon » (information manquante : territoire)",)


def test_soft_criteria_never_block_they_only_score():
    hard = opportunity(id=1, criteria=[criterion("language_level", "gte", "b1")])
    soft = opportunity(id=2, criteria=[criterion("language_level", "gte", "b1", hard=False)])
    result = match(participant(language_level="a1"), hard, soft)
    assert result.eligible_ids == [2]
    assert result.near_miss_ids == [1]
    (proposal,) = result.eligible()
    assert proposal.breakdown["soft_criteria"] == 0.0


def test_soft_weights_decide_the_share_met():
    weighted = opportunity(
        criteria=[
            criterion("language_level", "gte", "b1", hard=False, weight=3.0),  # met (c2)
            criterion("driving_licence", "eq", True, hard=False, weight=1.0),  # not met
        ]
    )
    (proposal,) = match(participant(), weighted).eligible()
    assert proposal.breakdown["soft_criteria"] == pytest.approx(0.15 * 0.75)
    assert "Critères souhaités remplis : 1 sur 2" in proposal.reasons


def test_an_opportunity_only_for_another_territory_is_not_proposed():
    result = match(participant(), opportunity(territory_ids={PARIS}))
    assert result.eligible_ids == []
    assert result.near_miss_ids == []


def test_the_scalar_semantics_of_each_operator():
    assert holds("eq", 3, 3) is True
    assert holds("in", frozenset({"a"}), "a") is True
    assert holds("not_in", frozenset({"a"}), "b") is True
    assert holds("gte", 3, 2) is False
    assert holds("lte", 3, 3) is True
    assert holds("between", (1, 3), 3) is True
    assert holds("has", "logement", frozenset({"logement"})) is True
    assert holds("eq", 3, None) is None
    with pytest.raises(ValueError, match="unknown operator"):
        holds("like", 1, 1)


def test_compiling_refuses_what_the_registry_does_not_know():
    with pytest.raises(ValueError, match="unknown criterion field"):
        criterion("shoe_size", "eq", 42)
    with pytest.raises(ValueError, match="does not apply"):
        criterion("driving_licence", "gte", True)
    bad_level = criterion("language_level", "gte", "a2")._replace(value="z9")
    with pytest.raises(ValueError, match="unknown language_level"):
        compile_criterion(bad_level, reference())


def test_facts_hold_what_the_criteria_compare():
    facts = facts_for(participant(language_level="b1"), reference(), TODAY)
    assert facts.values["language_level"] == 3
    assert facts.values["territory"] == "lyon"
    assert facts.months_in_programme == 8
    assert facts.age == 36
    assert facts.precarity == 3
    assert facts.covered is False
    assert evaluate(compile_criterion(criterion("age", "gte", 36), reference()), facts) is True


def test_a_weight_outside_0_10_is_refused():
    with pytest.raises(ValueError, match="weight"):
        compile_criterion(criterion("age", "gte", 18, hard=False, weight=11.0), reference())
    with pytest.raises(ValueError, match="weight"):
        compile_criterion(criterion("age", "gte", 18, hard=False, weight=-1.0), reference())
