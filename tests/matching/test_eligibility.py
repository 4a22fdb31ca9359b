"""Eligibility, near misses and the day they become eligible, opportunities that are not open."""

from __future__ import annotations

from datetime import date

from tests.matching.factories import (
    criterion,
    match,
    only,
    opportunity,
    participant,
)

SIX_MONTHS = criterion("months_in_programme", "gte", 6)
ADULT = criterion("age", "gte", 18)
MAY_WORK = criterion("residence_status", "in", ["francaise", "ue", "titre_valide", "recepisse"])


def test_all_hard_criteria_must_hold():
    strict = opportunity(criteria=[SIX_MONTHS, ADULT, MAY_WORK])
    assert match(participant(), strict).eligible_ids == [100]
    proposal = only(participant(residence_status="sans_titre"), strict)
    assert not proposal.eligible
    assert proposal.blocking == (
        "Titre de séjour valide ou équivalent requis (situation actuelle : Sans titre de séjour)",
    )


def test_near_misses_fail_one_or_two_hard_conditions_and_are_shown_apart():
    person = participant(residence_status="sans_titre", language_level="a1", household_size=4)
    one = opportunity(id=1, criteria=[MAY_WORK])
    two = opportunity(id=2, criteria=[MAY_WORK, criterion("language_level", "gte", "a2")])
    three = opportunity(
        id=3,
        criteria=[MAY_WORK, criterion("language_level", "gte", "a2"), criterion("household_size", "eq", 1)],
    )
    fine = opportunity(id=4)
    result = match(person, one, two, three, fine)
    assert result.eligible_ids == [4]
    # Fewest blockers first; three blockers is not a near miss.
    assert result.near_miss_ids == [1, 2]
    assert [len(p.blocking) for p in result.near_misses()] == [1, 2]


def test_a_near_miss_on_months_in_programme_knows_its_day():
    person = participant(entered_on=date(2026, 7, 10))
    proposal = only(person, opportunity(criteria=[SIX_MONTHS]))
    assert proposal.eligible_on == date(2027, 1, 10)
    # And on that day it is indeed eligible.
    assert match(person, opportunity(criteria=[SIX_MONTHS]), today=date(2027, 1, 10)).eligible_ids == [100]
    assert match(person, opportunity(criteria=[SIX_MONTHS]), today=date(2027, 1, 9)).eligible_ids == []


def test_a_near_miss_on_age_knows_its_day():
    young = participant(birth_date=date(2009, 3, 1))
    proposal = only(young, opportunity(criteria=[ADULT]))
    assert proposal.eligible_on == date(2027, 3, 1)


def test_two_date_blockers_give_the_later_day():
    person = participant(entered_on=date(2026, 7, 10), birth_date=date(2009, 3, 1))
    proposal = only(person, opportunity(criteria=[SIX_MONTHS, ADULT]))
    assert len(proposal.blocking) == 2
    assert proposal.eligible_on == date(2027, 3, 1)


def test_no_day_when_a_blocker_is_not_a_matter_of_time():
    person = participant(entered_on=date(2026, 7, 10), residence_status="sans_titre")
    proposal = only(person, opportunity(criteria=[SIX_MONTHS, MAY_WORK]))
    assert proposal.eligible_on is None


def test_no_day_when_an_upper_bound_will_be_passed_by_then():
    # 24 in 2026, 25 in March 2027; needs 12 months in programme (reached in 2027-07) but at most 25.
    person = participant(birth_date=date(2002, 3, 1), entered_on=date(2026, 7, 10))
    for_the_young = opportunity(
        criteria=[criterion("months_in_programme", "gte", 12), criterion("age", "lte", 24)]
    )
    proposal = only(person, for_the_young)
    assert proposal.eligible_on is None
    # Too old is never going to change either.
    older = only(participant(), opportunity(criteria=[criterion("age", "lte", 30)]))
    assert older.eligible_on is None


def test_an_opportunity_not_open_yet_is_a_near_miss_until_its_first_day():
    not_open_yet = opportunity(valid_from=date(2026, 12, 1))
    proposal = only(participant(), not_open_yet)
    assert not proposal.eligible
    assert proposal.blocking == ("Offre ouverte à partir du 01/12/2026",)
    assert proposal.eligible_on == date(2026, 12, 1)


def test_opportunities_that_are_not_open_are_never_proposed():
    for not_open in (
        opportunity(status="draft"),
        opportunity(status="paused"),
        opportunity(status="closed"),
        opportunity(valid_until=date(2026, 11, 1)),
    ):
        result = match(participant(), not_open)
        assert result.eligible_ids == []
        assert result.near_miss_ids == []


def test_a_full_opportunity_is_still_proposed_flagged_when_it_has_a_waiting_list():
    result = match(participant(), opportunity(places_left=0, waitlist=True))
    (proposal,) = result.eligible()
    assert "full" in proposal.flags
    assert "Complet : orientation en liste d'attente" in proposal.reasons


def test_a_full_opportunity_without_waiting_list_is_a_near_miss_with_no_day():
    proposal = only(participant(), opportunity(places_left=0, waitlist=False))
    assert not proposal.eligible
    assert proposal.blocking == ("Plus aucune place et pas de liste d'attente",)
    assert proposal.eligible_on is None
