"""The quality part of `referral bench matching` (issue 15, point 4): the need first, measured.

On the generated national data (whose needs follow seeds/demo.toml, as the demo people's do):

- among the people with at least one eligible opportunity answering an open need, the share whose
  first proposal answers a need (target 100 %), and the same share under the score-only order the
  engine used before (what the change bought);
- the share of open needs that no eligible opportunity answers (the gap figure), per domain and per
  (domain, territory);
- a sample checked against the double loop: its first proposal must be the engine's.

« Answers a need » is decided here by the plain rule (`scoring.relevance` over the opportunity's
snapshot), not by the engine's own arrays, so the figure checks the engine rather than repeats it.

Pure module: no Flask, no session.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from referral.bench.baselines import DoubleLoop
from referral.matching.index import MatchingIndex
from referral.matching.scoring import NO_ANSWER, answer_kind, relevance
from referral.matching.snapshot import OpportunitySnapshot, ParticipantSnapshot, ReferralHistory

SAMPLE = 300


def _answers(person: ParticipantSnapshot, opportunity: OpportunitySnapshot) -> bool:
    return relevance(person.needs, opportunity)[0] < NO_ANSWER


def measure(
    index: MatchingIndex,
    participants: Sequence[ParticipantSnapshot],
    opportunities: Sequence[OpportunitySnapshot],
    today: date,
    *,
    histories: dict[int, ReferralHistory] | None = None,
    loop: DoubleLoop | None = None,
    sample: int = SAMPLE,
    seed: int = 7,
) -> dict[str, Any]:
    """The quality figures (see the module docstring), as a JSON-ready dict."""
    by_id = {opportunity.id: opportunity for opportunity in opportunities}
    with_answer = first_answers = score_only_answers = 0
    needs_total: dict[str, int] = defaultdict(int)
    needs_unanswered: dict[str, int] = defaultdict(int)
    by_territory: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    firsts: dict[int, int] = {}
    for person in participants:
        history = histories.get(person.id) if histories else None
        ranked = index.match(person, today, history)
        eligible = [by_id[i] for i in ranked.eligible_ids]
        for need in person.needs:
            answered = any(answer_kind(need, o.domain, o.subtypes) is not None for o in eligible)
            needs_total[need.domain] += 1
            cell = by_territory[(need.domain, person.territory_id)]
            cell[0] += 1
            if not answered:
                needs_unanswered[need.domain] += 1
                cell[1] += 1
        if not eligible:
            continue
        firsts[person.id] = eligible[0].id
        if not any(_answers(person, o) for o in eligible):
            continue
        with_answer += 1
        first_answers += _answers(person, eligible[0])
        # The order before the change: the best score first, ties by id.
        positions = ranked.eligible_positions
        scores = ranked.score[positions]
        best = positions[np.lexsort((ranked.index.ids[positions], -scores))[0]]
        score_only_answers += _answers(person, ranked.index.opportunities[int(best)])

    total = sum(needs_total.values())
    unanswered = sum(needs_unanswered.values())
    domains = {
        domain: {
            "needs": needs_total[domain],
            "unanswered": needs_unanswered[domain],
            "share_unanswered": needs_unanswered[domain] / needs_total[domain],
        }
        for domain in sorted(needs_total)
    }
    cells = sorted(
        ((u / n, n, d, t, u) for (d, t), (n, u) in by_territory.items() if n),
        key=lambda cell: (-cell[0], -cell[1], cell[2], cell[3]),
    )
    worst = [
        {"domain": d, "territory_id": t, "needs": n, "unanswered": u, "share_unanswered": share}
        for share, n, d, t, u in cells
    ]
    checked = agree = 0
    if loop is not None and firsts:
        rng = random.Random(seed)
        people = {person.id: person for person in participants}
        for pid in rng.sample(sorted(firsts), min(sample, len(firsts))):
            top, _, _ = loop.match(people[pid], today, k=1)
            checked += 1
            agree += bool(top) and top[0][0] == firsts[pid]
    return {
        "people": len(participants),
        "people_with_eligible_need_answer": with_answer,
        "first_proposal_answers_need": first_answers,
        "share_first_proposal_answers_need": first_answers / with_answer if with_answer else None,
        "score_only_first_proposal_answers_need": score_only_answers,
        "share_score_only": score_only_answers / with_answer if with_answer else None,
        "open_needs": total,
        "needs_without_eligible_answer": unanswered,
        "share_needs_without_eligible_answer": unanswered / total if total else None,
        "gaps_by_domain": domains,
        "largest_gaps_by_domain_and_territory": worst[:15],
        "first_proposal_vs_double_loop": {"checked": checked, "agree": agree},
    }


def quality_lines(quality: dict[str, Any]) -> list[str]:
    """The figures in French, for the bench's table."""
    share = quality["share_first_proposal_answers_need"]
    before = quality["share_score_only"]
    gaps = quality["share_needs_without_eligible_answer"]
    lines = [
        "",
        "Qualité (le frein d'abord) :",
        "  personnes avec une offre éligible répondant à un frein : "
        f"{quality['people_with_eligible_need_answer']}",
        f"  dont la 1re proposition répond à un frein : {quality['first_proposal_answers_need']}"
        + (f" ({share:.1%} ; ordre au seul score : {before:.1%})" if share is not None else ""),
        f"  freins ouverts sans réponse éligible : {quality['needs_without_eligible_answer']} "
        f"sur {quality['open_needs']}" + (f" ({gaps:.1%})" if gaps is not None else ""),
    ]
    for domain, row in sorted(
        quality["gaps_by_domain"].items(), key=lambda item: -item[1]["share_unanswered"]
    )[:5]:
        lines.append(
            f"    {domain:<16} {row['unanswered']:>7} / {row['needs']:<7} ({row['share_unanswered']:.1%})"
        )
    check = quality["first_proposal_vs_double_loop"]
    lines.append(f"  1re proposition identique à la double boucle : {check['agree']} / {check['checked']}")
    return lines
