"""Reverse matching (who fits one opportunity, counts per structure) and the national batch."""

from __future__ import annotations

from datetime import date

import numpy as np

from referral.bench.synthetic import generate
from referral.matching.batch import match_batch, top_k
from referral.matching.index import MatchingIndex
from referral.matching.reverse import reverse_match
from referral.matching.table import ParticipantTable
from tests.matching.factories import LYON, PARIS, TODAY, criterion, opportunity, participant, reference

OPPORTUNITY = opportunity(
    criteria=[criterion("months_in_programme", "gte", 6), criterion("housing_status", "in", ["rue"])]
)


def people():
    return [
        participant(id=1, structure_id=10),
        participant(id=2, structure_id=10, housing_status="chu"),  # one blocker
        participant(id=3, structure_id=11),
        participant(id=4, structure_id=11, entered_on=date(2026, 10, 1), housing_status="chu"),  # two
        participant(id=5, structure_id=12),
        participant(id=6, structure_id=20, territory_id=PARIS),  # another territory
        participant(id=7, structure_id=10, housing_status=None),  # missing: a blocker
    ]


def test_reverse_matching_counts_per_structure():
    table = ParticipantTable(people(), reference(), TODAY)
    result = reverse_match(OPPORTUNITY, table)
    assert result.participant_ids == (1, 3, 5)
    assert dict(result.counts_by_structure) == {10: 1, 11: 1, 12: 1}
    assert dict(result.near_miss_counts_by_structure) == {10: 2, 11: 1}
    assert result.total == 3


def test_a_cip_only_gets_their_own_structure():
    result = reverse_match(OPPORTUNITY, ParticipantTable(people(), reference(), TODAY))
    assert result.for_structure(10) == (1,)
    assert result.for_structure(11) == (3,)
    assert result.for_structure(20) == ()


def test_a_national_opportunity_looks_in_every_territory_it_is_offered_in():
    national = opportunity(territory_ids={LYON, PARIS})
    result = reverse_match(national, ParticipantTable(people(), reference(), TODAY))
    assert result.participant_ids == (1, 2, 3, 4, 5, 6, 7)
    assert result.counts_by_structure[20] == 1


def test_reverse_matching_agrees_with_each_participants_proposals():
    data = generate(0.004, seed=7)
    table = ParticipantTable(data.participants, data.reference, data.today)
    index = MatchingIndex(data.opportunities, data.reference)
    for snapshot in data.opportunities[:40]:
        fits = set(reverse_match(snapshot, table).participant_ids)
        for person in data.participants:
            if person.territory_id not in snapshot.territory_ids:
                assert person.id not in fits
                continue
            result = index.match(person, data.today)
            position = int(np.searchsorted(index.territory(person.territory_id).ids, snapshot.id))
            assert (person.id in fits) == (result.blockers[position] - result.statics.blockers[position] == 0)


def test_the_batch_gives_what_each_participant_gets():
    data = generate(0.005, seed=11)
    index = MatchingIndex(data.opportunities, data.reference)
    table = ParticipantTable(data.participants, data.reference, data.today)
    batch = match_batch(index, table, k=10, block=64)
    for row, person in enumerate(data.participants):
        single = index.match(person, data.today)
        ranked = single.scores()
        assert batch.top(person.id) == [(oid, ranked[oid]) for oid in single.eligible_ids[:10]]
        assert batch.eligible_counts[row] == len(single.eligible_ids)
        assert batch.near_miss_counts[row] == len(single.near_miss_ids)


def test_top_k_breaks_ties_by_position_like_a_stable_sort():
    rng = np.random.default_rng(3)
    key = rng.integers(0, 4, size=(200, 30)).astype(np.float64)
    key[rng.random((200, 30)) < 0.3] = np.inf
    for k in (1, 5, 10, 30):
        expected = np.argsort(key, axis=1, kind="stable")[:, :k]
        assert (top_k(key, k) == expected).all()


def test_the_participant_table_computes_dates_like_the_scalar_path():
    from referral.matching.criteria import facts_for

    data = generate(0.003, seed=5)
    for day in (date(2026, 2, 28), date(2026, 3, 31), date(2024, 2, 29), TODAY):
        table = ParticipantTable(data.participants, data.reference, day)
        for row, person in enumerate(data.participants):
            facts = facts_for(person, data.reference, day)
            assert table.numeric["months_in_programme"][row] == facts.months_in_programme
            assert table.numeric["age"][row] == facts.age


def test_nobody_and_nothing_are_ordinary_cases():
    empty_table = ParticipantTable([], reference(), TODAY)
    assert reverse_match(OPPORTUNITY, empty_table).participant_ids == ()
    assert match_batch(MatchingIndex([OPPORTUNITY], reference()), empty_table).top_ids.shape == (0, 10)
    nothing = MatchingIndex([], reference())
    answer = nothing.match(participant(), TODAY).to_dict()
    assert (answer["eligible"], answer["near_misses"], answer["others"]) == ([], [], [])
    assert [group["eligible"] for group in answer["by_need"]] == [[] for _ in answer["by_need"]]
    assert all("aucun partenaire ne propose cela" in gap["sentence"] for gap in answer["gaps"])
    one = ParticipantTable([participant()], reference(), TODAY)
    assert match_batch(nothing, one).top(1) == []
    assert reverse_match(opportunity(criteria=()), one).participant_ids == (1,)
