"""The need first (DESIGN §6, issue 15): proposals grouped by open need in priority order, relevance
before fairness, each proposal naming the need it answers, and one sentence when nothing eligible
answers a need. No database."""

from __future__ import annotations

import numpy as np

from referral.bench.baselines import DoubleLoop
from referral.matching.snapshot import OpenNeed
from tests.matching.factories import TODAY, criterion, match, opportunity, participant, reference

HOUSING = OpenNeed("logement", "logement.social", 1, 11)
HEALTH = OpenNeed("sante", None, 2, 12)


def flooded(**overrides):
    """An opportunity that every factor but the need favours (places, fresh, no pressure)."""
    values = {"capacity": 20, "places_left": 20, "recent_referrals": 0, "partner_answer_rate": 1.0}
    values.update(overrides)
    return opportunity(**values)


def test_an_offer_answering_no_need_never_outranks_one_that_does() -> None:
    person = participant(needs=(HOUSING,))
    # The CPAM-like offer: every fairness factor at its best, but no open need of its domain.
    cpam = flooded(
        id=1,
        domain="acces_droits",
        subtypes=(),
        title="CPAM",
        criteria=(criterion("programme", "eq", "CVG", hard=False),),
    )
    # The housing offer: nearly full, flooded with recent referrals, its preference unmet.
    housing = opportunity(
        id=2,
        capacity=10,
        places_left=1,
        recent_referrals=30,
        partner_answer_rate=0.1,
        criteria=(criterion("driving_licence", "eq", True, hard=False),),
    )
    ranked = match(person, cpam, housing)
    assert ranked.eligible_ids == [2, 1]
    assert ranked.scores()[1] > ranked.scores()[2]  # by score alone the CPAM would come first
    first = ranked.eligible(1)[0]
    assert first.answers_need == HOUSING
    assert first.answers_need_text == "Répond au frein : Logement social, priorité 1"
    assert first.to_dict()["answers_need"] == {
        "id": 11,
        "domain": "logement",
        "subtype": "logement.social",
        "priority": 1,
        "label": "Logement social",
    }
    assert ranked.eligible()[1].to_dict()["answers_need"] is None


def test_an_exact_subtype_answer_comes_before_a_whole_domain_one_and_another_subtype_answers_nothing() -> (
    None
):
    person = participant(needs=(HOUSING,))
    whole = flooded(id=1, subtypes=())  # covers the whole domain
    exact = opportunity(id=2, subtypes=("logement.social",), places_left=1, recent_referrals=9)
    other = flooded(id=3, subtypes=("logement.intermediaire",))
    ranked = match(person, whole, exact, other)
    assert ranked.eligible_ids == [2, 1, 3]
    proposals = {p.opportunity_id: p for p in ranked.eligible()}
    assert proposals[3].answers_need is None
    assert [p.opportunity_id for p in ranked.others()] == [3]


def test_needs_come_in_priority_order_and_equal_relevance_falls_back_to_the_score() -> None:
    person = participant(needs=(HOUSING, HEALTH))
    health = flooded(id=1, domain="sante", subtypes=())
    housing_low = opportunity(id=2, places_left=1, recent_referrals=10)
    housing_high = flooded(id=3)
    ranked = match(person, health, housing_low, housing_high)
    # Both housing offers answer the priority-1 need: the score orders them; health comes after.
    assert ranked.eligible_ids == [3, 2, 1]
    groups = ranked.by_need()
    assert [group.need for group in groups] == [HOUSING, HEALTH]
    assert [p.opportunity_id for p in groups[0].eligible] == [3, 2]
    assert [p.opportunity_id for p in groups[1].eligible] == [1]
    assert all(group.gap is None for group in groups)
    # The breakdown is kept: the CIP still sees each factor.
    first = groups[0].eligible[0]
    assert abs(sum(first.breakdown.values()) - first.score) < 1e-12


def test_a_need_nothing_eligible_answers_gets_its_sentence_with_the_near_misses_causes() -> None:
    person = participant(needs=(HOUSING,), programme="PHC", monthly_resources=300)
    blocked = [
        opportunity(
            id=10 + i,
            criteria=(criterion("programme", "eq", "CVG"), criterion("monthly_resources", "gte", 500)),
        )
        for i in range(3)
    ] + [opportunity(id=20, criteria=(criterion("programme", "eq", "CVG"),))]
    ranked = match(person, *blocked, flooded(id=1, domain="sante", subtypes=()))
    (group,) = ranked.by_need()
    assert group.eligible == []
    assert len(group.near_misses) == 4
    assert group.gap is not None
    assert group.gap.sentence == (
        "Aucune opportunité de logement social ouverte à cette personne sur le territoire : "
        "4 presque éligibles, bloquées par le programme (Convergence seulement) et les ressources minimales."
    )
    answer = ranked.to_dict()
    assert answer["gaps"][0]["sentence"] == group.gap.sentence
    assert answer["gaps"][0]["causes"] == ["programme", "monthly_resources"]
    assert answer["by_need"][0]["gap"] == group.gap.sentence
    assert [p["opportunity_id"] for p in answer["others"]] == [1]


def test_the_gap_says_when_the_territory_offers_nothing_or_only_another_subtype() -> None:
    person = participant(needs=(HOUSING, OpenNeed("famille", None, 2, 13)))
    other = flooded(id=1, subtypes=("logement.intermediaire",))
    groups = match(person, other).by_need()
    assert groups[0].gap is not None
    assert groups[0].gap.sentence.endswith("seules des offres d'un autre type (Logement) existent.")
    assert groups[1].gap is not None
    assert groups[1].gap.sentence == (
        "Aucune opportunité de famille ouverte à cette personne sur le territoire : "
        "aucun partenaire ne propose cela aujourd'hui."
    )


def test_the_double_loop_follows_the_same_rule() -> None:
    person = participant(needs=(HOUSING, HEALTH))
    offers = [
        flooded(id=1, domain="acces_droits", subtypes=()),
        opportunity(id=2, places_left=1, recent_referrals=10),
        flooded(id=3, domain="sante", subtypes=()),
        flooded(id=4, subtypes=()),
    ]
    engine = match(person, *offers).eligible_ids
    loop, _, _ = DoubleLoop(offers, reference()).match(person, TODAY)
    assert [oid for oid, _ in loop] == engine == [2, 4, 3, 1]


def test_an_opportunity_listed_twice_is_explained_once_and_the_same_each_time() -> None:
    """The answer lists an opportunity in `eligible` and in its need's group (a near miss in
    `near_misses`, its group and the gap's causes): it is explained once, and each place shows
    what a set that never explained it before would show."""
    person = participant(needs=(HOUSING, HEALTH), programme="PHC", monthly_resources=300)
    offers = [
        opportunity(id=1, criteria=(criterion("driving_licence", "eq", True, hard=False),)),
        opportunity(id=2, criteria=(criterion("programme", "eq", "CVG"),)),
        flooded(id=3, domain="sante", subtypes=(), criteria=(criterion("monthly_resources", "gte", 500),)),
        flooded(id=4, domain="emploi", subtypes=()),
    ]
    ranked = match(person, *offers)
    answer = ranked.to_dict()
    assert len(ranked._explained) == len(offers)  # every offer shows, each explained once
    for section in ("eligible", "near_misses", "others"):
        for shown in answer[section]:
            fresh = match(person, *offers)
            position = int(np.searchsorted(fresh.index.ids, shown["opportunity_id"]))
            assert shown == fresh.proposal(position).to_dict()
    by_id = {p["opportunity_id"]: p for p in answer["eligible"] + answer["near_misses"]}
    for group in answer["by_need"]:
        for shown in group["eligible"] + group["near_misses"]:
            assert shown == by_id[shown["opportunity_id"]]
