"""Flags: shown, never hiding the opportunity."""

from __future__ import annotations

from datetime import date

from referral.matching.proposals import FLAG_LABELS, FLAGS
from referral.matching.scoring import FACTOR_LABELS, FACTORS
from referral.matching.snapshot import ReferralHistory
from tests.matching.factories import match, opportunity, participant


def flags(snapshot, history=None):
    (proposal,) = match(participant(), snapshot, history=history).eligible()
    return proposal


def test_no_flag_on_an_ordinary_opportunity():
    assert flags(opportunity()).flags == ()


def test_already_referred():
    history = ReferralHistory(1, referred_opportunity_ids={100})
    proposal = flags(opportunity(), history)
    assert proposal.flags == ("already_referred",)
    assert "Déjà orienté·e vers cette offre" in proposal.reasons


def test_refused_recently_by_the_same_partner_within_six_months():
    recent = ReferralHistory(1, refusals=[(7, date(2026, 6, 1))])
    proposal = flags(opportunity(partner_id=7), recent)
    assert proposal.flags == ("refused_recently",)
    assert "Refusé·e par ce partenaire le 01/06/2026" in proposal.reasons
    # Six months ago to the day still counts; before, or another partner, does not.
    assert flags(opportunity(partner_id=7), ReferralHistory(1, refusals=[(7, date(2026, 5, 23))])).flags == (
        "refused_recently",
    )
    assert flags(opportunity(partner_id=7), ReferralHistory(1, refusals=[(7, date(2026, 5, 22))])).flags == ()
    assert flags(opportunity(partner_id=8), recent).flags == ()


def test_nearly_full_and_full():
    assert flags(opportunity(capacity=10, places_left=2)).flags == ("nearly_full",)
    assert flags(opportunity(capacity=10, places_left=3)).flags == ()
    assert flags(opportunity(capacity=1, places_left=1)).flags == ("nearly_full",)
    full = flags(opportunity(capacity=4, places_left=0))
    assert full.flags == ("full",)


def test_flags_do_not_change_the_ranking():
    opportunities = [opportunity(id=1), opportunity(id=2)]
    plain = match(participant(), *opportunities)
    flagged = match(participant(), *opportunities, history=ReferralHistory(1, referred_opportunity_ids={1}))
    assert plain.eligible_ids == flagged.eligible_ids == [1, 2]


def test_every_flag_and_factor_has_one_french_label():
    """One table each: the page's badges and the breakdown read the same labels as the reasons."""
    assert set(FLAG_LABELS) == set(FLAGS)
    assert set(FACTOR_LABELS) == set(FACTORS)
    assert all(label and "_" not in label for label in [*FLAG_LABELS.values(), *FACTOR_LABELS.values()])
