"""Properties that hold for any participant and any opportunities (hypothesis), and the top-10 check."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral.bench.baselines import DoubleLoop, NumpyReference
from referral.bench.synthetic import generate
from referral.matching.criteria import compile_criteria, evaluate, facts_for
from referral.matching.index import NEAR_MISS_MAX, MatchingIndex, opportunity_blockers
from referral.matching.registry import FIELDS, ValueKind, operators_for
from referral.matching.scoring import relevance
from referral.matching.snapshot import CriterionSnapshot, OpenNeed, ReferralHistory
from referral.matching.table import ParticipantTable
from tests.matching.factories import LYON, PARIS, TODAY, opportunity, participant, reference

REF = reference()
CODES = {
    "territory": ["lyon", "paris"],
    "programme": ["CVG", "PHC"],
    "residence_status": sorted(REF.may_work),
    "housing_status": sorted(REF.precarity),
    "health_coverage": sorted(REF.covered),
    "language_level": sorted(REF.language_rank),
}
NUMBERS = {
    "months_in_programme": st.integers(0, 30),
    "weekly_hours": st.sampled_from([4, 8, 12.5, 20, 26, 35]),
    "age": st.integers(15, 70),
    "household_size": st.integers(1, 6),
    "children": st.integers(0, 5),
    "monthly_resources": st.integers(0, 40).map(lambda n: n * 50),
}
NEEDS = [
    ("logement", "logement.social"),
    ("logement", None),
    ("hebergement", "hebergement.urgence"),
    ("sante", "sante.medecin_traitant"),
    ("acces_droits", "acces_droits.titre_sejour"),
    ("acces_droits", "acces_droits.css"),
    ("emploi", None),
]
NEED_CODES = sorted({d for d, _ in NEEDS} | {s for _, s in NEEDS if s})
DOMAINS = ["logement", "hebergement", "sante", "acces_droits", "emploi"]
SUBTYPES = {d: [s for dd, s in NEEDS if dd == d and s] + [f"{d}.autre"] for d in DOMAINS}


def single_value(field: str) -> st.SearchStrategy:
    kind = FIELDS[field].kind
    if kind is ValueKind.NUMBER:
        return NUMBERS[field]
    if kind is ValueKind.BOOLEAN:
        return st.booleans()
    if kind is ValueKind.NEED:
        return st.sampled_from(NEED_CODES)
    return st.sampled_from(CODES[field])


@st.composite
def criteria(draw: st.DrawFn) -> CriterionSnapshot:
    field = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(sorted(operators_for(field))))
    if op == "between":
        low, high = draw(single_value(field)), draw(single_value(field))
        if field == "language_level":
            low, high = sorted((low, high), key=REF.language_rank.__getitem__)
        else:
            low, high = sorted((low, high))
        value = [low, high]
    elif op in ("in", "not_in"):
        value = draw(st.lists(single_value(field), min_size=1, max_size=3, unique=True))
    else:
        value = draw(single_value(field))
    hard = draw(st.booleans())
    weight = draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, 2.5, 10.0]))
    return CriterionSnapshot.of(field, op, value, hard, weight)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


people = st.builds(
    participant,
    id=st.integers(1, 10_000),
    territory_id=st.sampled_from([LYON, PARIS]),
    programme=st.sampled_from(["CVG", "PHC"]),
    entered_on=st.dates(date(2022, 1, 1), date(2026, 11, 23)),
    birth_date=st.dates(date(1955, 1, 1), date(2010, 12, 31)),
    weekly_hours=maybe(NUMBERS["weekly_hours"]),
    residence_status=maybe(st.sampled_from(CODES["residence_status"])),
    residence_permit_expires_on=maybe(st.dates(date(2025, 1, 1), date(2028, 12, 31))),
    housing_status=maybe(st.sampled_from(CODES["housing_status"])),
    health_coverage=maybe(st.sampled_from(CODES["health_coverage"])),
    household_size=maybe(NUMBERS["household_size"]),
    children=maybe(NUMBERS["children"]),
    monthly_resources=maybe(NUMBERS["monthly_resources"]),
    language_level=maybe(st.sampled_from(CODES["language_level"])),
    driving_licence=maybe(st.booleans()),
    rqth=maybe(st.booleans()),
    needs=st.lists(
        st.tuples(st.sampled_from(NEEDS), st.integers(1, 3)).map(lambda t: OpenNeed(*t[0], t[1])), max_size=4
    ),
)


@st.composite
def opportunity_lists(draw: st.DrawFn) -> list:
    ids = draw(st.lists(st.integers(1, 500), min_size=1, max_size=10, unique=True))
    opportunities = []
    for oid in ids:
        domain = draw(st.sampled_from(DOMAINS))
        capacity = draw(st.integers(0, 10))
        opportunities.append(
            opportunity(
                id=oid,
                partner_id=draw(st.integers(1, 4)),
                territory_ids=draw(st.sampled_from([{LYON}, {PARIS}, {LYON, PARIS}])),
                domain=domain,
                subtypes=tuple(draw(st.lists(st.sampled_from(SUBTYPES[domain]), max_size=2, unique=True))),
                criteria=tuple(draw(st.lists(criteria(), max_size=5))),
                capacity=capacity,
                places_left=draw(st.integers(0, capacity)),
                published_on=draw(maybe(st.dates(date(2025, 1, 1), date(2026, 11, 30)))),
                status=draw(st.sampled_from(["published", "published", "published", "paused", "draft"])),
                recent_referrals=draw(st.integers(0, 30)),
                partner_answer_rate=draw(maybe(st.floats(0.0, 1.0))),
                waitlist=draw(st.booleans()),
                valid_from=draw(maybe(st.dates(date(2026, 10, 1), date(2027, 1, 31)))),
                valid_until=draw(maybe(st.dates(date(2026, 10, 1), date(2027, 12, 31)))),
            )
        )
    return opportunities


def scalar_blockers(person, snapshot, today=TODAY) -> int:
    """The number of hard conditions that fail, the straightforward way."""
    facts = facts_for(person, REF, today)
    compiled = compile_criteria(snapshot.criteria, REF)
    return opportunity_blockers(snapshot, today) + sum(
        1 for c in compiled if c.hard and not evaluate(c, facts)
    )


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(person=people, opportunities=opportunity_lists())
def test_an_ineligible_opportunity_never_appears_in_eligible(person, opportunities):
    result = MatchingIndex(opportunities, REF).match(person, TODAY)
    local = [o for o in opportunities if person.territory_id in o.territory_ids]
    expected_eligible = {o.id for o in local if scalar_blockers(person, o) == 0}
    expected_near = {o.id for o in local if 1 <= scalar_blockers(person, o) <= NEAR_MISS_MAX}
    assert set(result.eligible_ids) == expected_eligible
    assert set(result.near_miss_ids) == expected_near
    for proposal in result.eligible():
        assert proposal.eligible
        assert proposal.blocking == ()
        assert all(outcome.met for outcome in proposal.criteria if outcome.hard)
    for proposal in result.near_misses():
        assert not proposal.eligible
        assert 1 <= len(proposal.blocking) <= NEAR_MISS_MAX


@PROPERTY
@given(person=people, opportunities=opportunity_lists())
def test_scores_stay_in_0_1_and_the_breakdown_sums_to_the_score(person, opportunities):
    result = MatchingIndex(opportunities, REF).match(person, TODAY)
    for proposal in result.eligible() + result.near_misses():
        assert 0.0 <= proposal.score <= 1.0
        assert all(0.0 <= value <= 1.0 for value in proposal.breakdown.values())
        assert math.isclose(sum(proposal.breakdown.values()), proposal.score, rel_tol=0.0, abs_tol=1e-12)


@PROPERTY
@given(person=people, opportunities=opportunity_lists(), seed=st.integers(0, 1000))
def test_ranking_is_deterministic_whatever_the_order_of_the_opportunities(person, opportunities, seed):
    history = ReferralHistory(
        person.id, {opportunities[0].id}, ((opportunities[0].partner_id, TODAY - timedelta(days=30)),)
    )
    first = MatchingIndex(opportunities, REF).match(person, TODAY, history).to_dict()
    shuffled = list(opportunities)
    random.Random(seed).shuffle(shuffled)
    second = MatchingIndex(shuffled, REF).match(person, TODAY, history).to_dict()
    assert first == second
    # Need first: relevance to the open needs, then score, then id (DESIGN §6).
    by_id = {opportunity.id: opportunity for opportunity in opportunities}
    keys = [
        (relevance(person.needs, by_id[p["opportunity_id"]])[0], -p["score"], p["opportunity_id"])
        for p in first["eligible"]
    ]
    assert keys == sorted(keys)


@PROPERTY
@given(
    persons=st.lists(people, min_size=1, max_size=6, unique_by=lambda p: p.id),
    opportunities=opportunity_lists(),
)
def test_the_engine_agrees_with_both_baselines(persons, opportunities):
    index = MatchingIndex(opportunities, REF)
    loop = DoubleLoop(opportunities, REF)
    reference_numpy = NumpyReference(opportunities, REF, TODAY)
    table = ParticipantTable(persons, REF, TODAY)
    columns = reference_numpy.participant_columns(table)
    for row, person in enumerate(persons):
        result = index.match(person, TODAY)
        ranked = result.scores()
        engine_top = [(oid, ranked[oid]) for oid in result.eligible_ids[:10]]
        loop_top, eligible_count, near_count = loop.match(person, TODAY)
        assert engine_top == loop_top
        assert (len(result.eligible_ids), len(result.near_miss_ids)) == (eligible_count, near_count)
        numpy_top, numpy_near = reference_numpy.match_one(table, columns, row)
        assert numpy_top == engine_top
        assert numpy_near == result.near_miss_ids


def test_top_10_identical_to_the_double_loop_on_1000_generated_participants():
    data = generate(0.02, seed=20261123)
    index = MatchingIndex(data.opportunities, data.reference)
    loop = DoubleLoop(data.opportunities, data.reference)
    sample = random.Random(1).sample(data.participants, 1000)
    for person in sample:
        result = index.match(person, data.today, data.histories.get(person.id))
        ranked = result.scores()
        assert [(oid, ranked[oid]) for oid in result.eligible_ids[:10]] == loop.match(person, data.today)[0]
