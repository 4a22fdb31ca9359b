"""The score and its breakdown: need match, urgency, capacity, answer rate, freshness, fair share."""

from __future__ import annotations

import math
from datetime import date

import pytest

from referral.matching.scoring import FACTORS, WEIGHTS
from tests.matching.factories import match, opportunity, participant


def scores(person, *opportunities):
    result = match(person, *opportunities)
    return {p.opportunity_id: p for p in result.eligible()}


def test_weights_sum_to_one_and_the_breakdown_sums_to_the_score():
    assert math.isclose(sum(WEIGHTS.values()), 1.0)
    (proposal,) = match(participant(), opportunity()).eligible()
    assert list(proposal.breakdown) == list(FACTORS)
    assert math.isclose(sum(proposal.breakdown.values()), proposal.score, abs_tol=1e-12)
    assert 0.0 <= proposal.score <= 1.0


def test_need_match_prefers_the_exact_subtype_then_the_domain_then_another_subtype():
    person = participant(needs=[("logement", "logement.social", 1)])
    exact = opportunity(id=1, subtypes=("logement.social",))
    whole = opportunity(id=2, subtypes=())
    other = opportunity(id=3, subtypes=("logement.prive",))
    unrelated = opportunity(id=4, domain="emploi", subtypes=())
    result = scores(person, exact, whole, other, unrelated)
    needs = [result[i].breakdown["need_match"] for i in (1, 2, 3, 4)]
    assert needs[0] > needs[1] > needs[2] > needs[3] == 0.0
    assert match(person, exact, whole, other, unrelated).eligible_ids[:3] == [1, 2, 3]


def test_need_match_is_weighted_by_priority():
    social_housing = opportunity(subtypes=("logement.social",))
    urgent = scores(participant(needs=[("logement", "logement.social", 1)]), social_housing)[100]
    later = scores(participant(needs=[("logement", "logement.social", 3)]), social_housing)[100]
    assert urgent.breakdown["need_match"] > later.breakdown["need_match"] > 0
    # The best of several needs counts.
    both = scores(
        participant(needs=[("logement", "logement.social", 3), ("logement", None, 1)]), social_housing
    )[100]
    assert both.breakdown["need_match"] == pytest.approx(0.35 * 1.0 * 0.75)


def test_urgency_follows_housing_precarity_for_housing_opportunities():
    housing = opportunity()
    street = scores(participant(housing_status="rue"), housing)[100].breakdown["urgency"]
    shelter = scores(participant(housing_status="chu"), housing)[100].breakdown["urgency"]
    housed = scores(participant(housing_status="logement_prive"), housing)[100].breakdown["urgency"]
    assert street > shelter > housed == 0.0
    job = opportunity(domain="emploi", subtypes=())
    assert scores(participant(housing_status="rue"), job)[100].breakdown["urgency"] == 0.0


def test_urgency_for_rights_and_health_opportunities_without_coverage():
    health = opportunity(domain="sante", subtypes=())
    assert scores(participant(health_coverage="aucune"), health)[100].breakdown["urgency"] == pytest.approx(
        0.15
    )
    assert scores(participant(health_coverage="css"), health)[100].breakdown["urgency"] == 0.0


def test_urgency_for_residence_opportunities_when_the_permit_ends_soon():
    permit_help = opportunity(domain="acces_droits", subtypes=("acces_droits.titre_sejour",))
    covered = {"health_coverage": "css"}  # so that only the permit makes it urgent
    soon = participant(
        residence_status="titre_valide", residence_permit_expires_on=date(2026, 12, 23), **covered
    )
    far = participant(
        residence_status="titre_valide", residence_permit_expires_on=date(2028, 1, 1), **covered
    )
    expired = participant(
        residence_status="titre_expire", residence_permit_expires_on=date(2026, 6, 1), **covered
    )
    none = participant(residence_status="sans_titre", residence_permit_expires_on=None, **covered)
    values = [scores(p, permit_help)[100].breakdown["urgency"] for p in (soon, far, expired, none)]
    assert values[2] == values[3] == pytest.approx(0.15)
    assert 0 < values[0] < values[2]
    assert values[1] == 0.0


def test_capacity_answer_rate_and_freshness():
    person = participant()
    roomy = opportunity(id=1, capacity=4, places_left=4)
    tight = opportunity(id=2, capacity=4, places_left=1)
    assert scores(person, roomy)[1].breakdown["capacity"] > scores(person, tight)[2].breakdown["capacity"]
    known = scores(person, opportunity(partner_answer_rate=0.9))[100].breakdown["answer_rate"]
    unknown = scores(person, opportunity(partner_answer_rate=None))[100].breakdown["answer_rate"]
    poor = scores(person, opportunity(partner_answer_rate=0.2))[100].breakdown["answer_rate"]
    assert known > unknown > poor
    assert unknown == pytest.approx(WEIGHTS["answer_rate"] / 2)  # unknown is neutral
    fresh = scores(person, opportunity(published_on=date(2026, 11, 20)))[100].breakdown["freshness"]
    stale = scores(person, opportunity(published_on=date(2025, 1, 1)))[100].breakdown["freshness"]
    assert fresh > stale == 0.0


def test_fair_share_ranks_a_flooded_opportunity_below_an_equally_fitting_one():
    calm = opportunity(id=2, capacity=5, places_left=5, recent_referrals=1)
    flooded = opportunity(id=1, capacity=5, places_left=5, recent_referrals=25)
    result = match(participant(), flooded, calm)
    assert result.eligible_ids == [2, 1]
    by_id = {p.opportunity_id: p for p in result.eligible()}
    assert by_id[1].breakdown["fair_share"] < by_id[2].breakdown["fair_share"]
    # Everything else is equal.
    for factor in FACTORS:
        if factor != "fair_share":
            assert by_id[1].breakdown[factor] == by_id[2].breakdown[factor]
    assert any(
        reason.startswith("Offre très sollicitée : 25 orientations récentes") for reason in by_id[1].reasons
    )


def test_fair_share_is_relative_to_open_places():
    # Six recent referrals for 30 open places is not flooding; six for one place is.
    big = opportunity(id=1, capacity=30, places_left=30, recent_referrals=6)
    small = opportunity(id=2, capacity=30, places_left=1, recent_referrals=6)
    result = scores(participant(), big, small)
    assert result[1].breakdown["fair_share"] > result[2].breakdown["fair_share"]


def test_ties_are_broken_by_opportunity_id():
    twins = [opportunity(id=i) for i in (30, 10, 20)]
    result = match(participant(), *twins)
    assert result.eligible_ids == [10, 20, 30]
    assert len({p.score for p in result.eligible()}) == 1
