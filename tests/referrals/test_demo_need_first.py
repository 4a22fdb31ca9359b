"""The product's core promise on the demo territory (issue 15, « Done when »): on
`referral seed --demo-participants 300 --random-seed 7`, for every person with an eligible
opportunity answering one of their open needs, the first proposal answers a need.

« Answers a need » is the plain rule (`scoring.relevance` over the opportunity's snapshot), not the
engine's own arrays. The index and the people are loaded the way the service loads them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from referral import clock
from referral.db import Database
from referral.matching.scoring import NO_ANSWER, relevance
from referral.referrals import matching_index
from referral.schema import upgrade
from referral.seeding import seed_all
from referral.territories.models import Territory
from tests.conftest import fresh_engine

PEOPLE = 300


@pytest.fixture(scope="module")
def demo300(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = fresh_engine(backend, "demo300", tmp_path_factory)
    upgrade(engine)
    with Database(engine).atomic() as session:
        seed_all(session, demo_participants=PEOPLE, random_seed=7)
    yield engine
    engine.dispose()


def test_the_first_proposal_answers_a_need_for_every_demo_person(demo300: Engine) -> None:
    matching_index.forget_index()
    today = clock.today()
    with Session(demo300) as session:
        territories = list(session.scalars(select(Territory.id).order_by(Territory.id)))
        people = matching_index.participant_snapshots(session, today, territories)
        index = matching_index.matching_index(session, today)
        with_answer = score_only_misses = 0
        misses = []
        for person in people:
            ranked = index.match(person, today, matching_index.referral_history(session, person.id))
            territory = ranked.index
            eligible = [territory.opportunities[p] for p in ranked.eligible_positions.tolist()]
            answering = [o for o in eligible if relevance(person.needs, o)[0] < NO_ANSWER]
            if not answering:
                continue
            with_answer += 1
            if relevance(person.needs, eligible[0])[0] >= NO_ANSWER:
                misses.append(person.id)
            # What the score alone would have put first (the order before issue 15).
            positions = ranked.eligible_positions
            best = positions[np.lexsort((territory.ids[positions], -ranked.score[positions]))[0]]
            score_only_misses += relevance(person.needs, territory.opportunities[int(best)])[0] >= NO_ANSWER
    matching_index.forget_index()
    assert len(people) >= PEOPLE
    assert with_answer > PEOPLE // 5
    assert misses == []
    # Recorded, not asserted (the demo seed may change): how many the score alone got wrong.
    print(f"{with_answer} personnes ; ordre au seul score : {score_only_misses} premières sans frein")
