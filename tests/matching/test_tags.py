"""Free text against offers, with accents and case folded (rapidfuzz), never exact equality alone."""

from __future__ import annotations

from referral.matching.tags import fold, matches
from tests.matching.factories import match, opportunity, participant


def test_fold_removes_accents_case_and_punctuation():
    assert fold("Hébergement d'Urgence — ÉTÉ") == "hebergement d urgence ete"


def test_a_query_matches_title_tags_or_partner_name_despite_accents_and_typos():
    offer = opportunity(title="Hébergement d'urgence", partner_name="Les Bureaux du Cœur", tags=("Sans CV",))
    assert matches("hebergement", offer)
    assert matches("HEBERGMENT", offer)  # a typo
    assert matches("sans cv", offer)
    assert matches("bureaux du coeur", offer)
    assert not matches("permis de conduire", offer)
    assert not matches("", offer)


def test_search_keeps_the_ranking_and_only_eligible_offers():
    offers = [
        opportunity(id=1, title="Logement social", tags=("bail glissant",)),
        opportunity(id=2, title="Logement intermédiaire", recent_referrals=30),
        opportunity(id=3, title="Permis de conduire", domain="mobilite", subtypes=()),
    ]
    result = match(participant(), *offers)
    assert [p.opportunity_id for p in result.search("logement")] == [1, 2]
    assert [p.opportunity_id for p in result.search("bail glissant")] == [1]
    assert [p.opportunity_id for p in result.search("logement", limit=1)] == [1]
    assert result.search("formation") == []
