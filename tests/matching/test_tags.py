"""Free text against opportunities, with accents and case folded (rapidfuzz), never exact equality alone."""

from __future__ import annotations

from referral.matching.tags import fold, matches
from tests.matching.factories import match, opportunity, participant


def test_fold_removes_accents_case_and_punctuation():
    assert fold("Hébergement d'Urgence — ÉTÉ") == "hebergement d urgence ete"


def test_a_query_matches_title_tags_or_partner_name_despite_accents_and_typos():
    shelter = opportunity(
        title="Hébergement d'urgence", partner_name="Les Bureaux du Cœur", tags=("Sans CV",)
    )
    assert matches("hebergement", shelter)
    assert matches("HEBERGMENT", shelter)  # a typo
    assert matches("sans cv", shelter)
    assert matches("bureaux du coeur", shelter)
    assert not matches("permis de conduire", shelter)
    assert not matches("", shelter)


def test_search_keeps_the_ranking_and_only_eligible_opportunities():
    opportunities = [
        opportunity(id=1, title="Logement social", tags=("bail glissant",)),
        opportunity(id=2, title="Logement intermédiaire", recent_referrals=30),
        opportunity(id=3, title="Permis de conduire", domain="mobilite", subtypes=()),
    ]
    result = match(participant(), *opportunities)
    assert [p.opportunity_id for p in result.search("logement")] == [1, 2]
    assert [p.opportunity_id for p in result.search("bail glissant")] == [1]
    assert [p.opportunity_id for p in result.search("logement", limit=1)] == [1]
    assert result.search("formation") == []
