"""What the reporting benchmark adds to the generated national dataset (`synthetic.generate`):
the path of each person — exits with their situation, follow-ups, Premières Heures hours going
up, renewals, referrals with their moves — as rows ready for Core inserts.

Codes come from `seeds/reference/lists.toml` (exit types, follow-up outcomes, reasons); the shares
are plausible orders of magnitude (about half the paths older than a year have ended; two thirds
of due follow-ups are done; a partner answers three referrals in four). The same (dataset, seed)
always gives the same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from referral.bench import synthetic
from referral.cases.rules import add_months

HOUR = timedelta(hours=1)


@dataclass
class PathRows:
    exits: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    renewals: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(9), UTC) + rng.randint(0, 8) * HOUR


def generate_paths(dataset: synthetic.Dataset, seed: int) -> PathRows:
    rng = random.Random(seed + 17)
    today = dataset.today
    lists = synthetic.read_seeds().lists
    exit_types = [row["code"] for row in lists["exit_type"]]
    outcomes = [row["code"] for row in lists["followup_outcome"]]
    refusals = [row["code"] for row in lists["referral_refusal_reason"]]
    abandons = [row["code"] for row in lists["referral_abandon_reason"]]
    housing = [row["code"] for row in lists["housing_status"]]
    offers = {offer.id: offer for offer in dataset.opportunities}
    rows = PathRows()
    referral_id = 0
    for person in dataset.participants:
        days_in = (today - person.entered_on).days
        exited: date | None = None
        if days_in > 90 and rng.random() < min(0.85, days_in / 1500):
            exited = person.entered_on + timedelta(days=rng.randint(60, days_in))
            exit_id = len(rows.exits) + 1
            rows.exits.append(
                {
                    "id": exit_id,
                    "participant_id": person.id,
                    "exited_on": exited,
                    "exit_type": rng.choice(exit_types),
                    "housing_status": None if rng.random() < 0.1 else rng.choice(housing),
                    "health_coverage": None
                    if rng.random() < 0.1
                    else rng.choice(("puma", "css", "ame", "aucune")),
                    "has_treating_doctor": None if rng.random() < 0.2 else rng.random() < 0.6,
                    "rights_opened": ["css"] if rng.random() < 0.4 else [],
                    "continued_accompaniment": rng.random() < 0.3,
                }
            )
            for kind, months in (("six_months", 6), ("twelve_months", 12)):
                due = add_months(exited, months)
                done = due < today and rng.random() < 0.65
                done_on = min(today, due + timedelta(days=rng.randint(0, 20))) if done else None
                rows.follow_ups.append(
                    {
                        "participant_id": person.id,
                        "exit_id": exit_id,
                        "kind": kind,
                        "due_on": due,
                        "done_on": done_on,
                        "outcome": rng.choice(outcomes) if done else None,
                    }
                )
        end = exited or today
        # Premières Heures: the hours go up (the first contract is written by the base loader).
        if person.programme == "PHC" and person.weekly_hours:
            day = person.entered_on + timedelta(weeks=rng.randint(6, 20))
            if rng.random() < 0.6 and day <= end:
                rows.contracts.append(
                    {
                        "participant_id": person.id,
                        "kind": "cddi_phc",
                        "weekly_hours": float(rng.choice((8, 10, 12))),
                        "starts_on": day,
                    }
                )
                day += timedelta(weeks=rng.randint(10, 40))
                if rng.random() < 0.55 and day <= end:
                    cddi = rng.random() < 0.4
                    rows.contracts.append(
                        {
                            "participant_id": person.id,
                            "kind": "cddi" if cddi else "cddi_phc",
                            "weekly_hours": 26.0 if cddi else 20.0,
                            "starts_on": day,
                        }
                    )
        # Convergence paths past two years ask the commission.
        if (
            person.programme == "CVG"
            and days_in > 700
            and (exited is None or (exited - person.entered_on).days > 700)
        ):
            requested = person.entered_on + timedelta(days=700)
            decided = requested + timedelta(days=30)
            if decided <= today:
                granted = rng.random() < 0.85
                rows.renewals.append(
                    {
                        "participant_id": person.id,
                        "requested_on": requested,
                        "motivation": "Parcours à consolider.",
                        "outcome": "granted" if granted else "refused",
                        "decided_on": decided,
                        "decided_by": "Commission",
                        "valid_until": decided + timedelta(days=365) if granted else None,
                    }
                )
        history = dataset.histories.get(person.id)
        if history is None:
            continue
        for opportunity_id in sorted(history.referred_opportunity_ids):
            if opportunity_id not in offers:
                continue
            referral_id += 1
            span = max(0, (end - person.entered_on).days)
            created = _at(person.entered_on + timedelta(days=rng.randint(0, span)), rng)
            moves: list[tuple[str, str, datetime, str | None]] = [("submit", "submitted", created, None)]
            state = "submitted"
            moment = created
            if rng.random() < 0.85:
                moment += timedelta(days=rng.randint(1, 5))
                moves.append(("validate", "sent", moment, None))
                state = "sent"
                if rng.random() < 0.75:
                    moment += timedelta(days=rng.randint(2, 40), hours=rng.randint(0, 8))
                    roll = rng.random()
                    if roll < 0.55:
                        moves.append(("partner_accept", "accepted", moment, None))
                        state = "accepted"
                        if rng.random() < 0.5:
                            moment += timedelta(days=rng.randint(3, 20))
                            moves.append(("start", "started", moment, None))
                            state = "started"
                    elif roll < 0.9:
                        moves.append(("partner_refuse", "refused", moment, rng.choice(refusals)))
                        state = "refused"
                    else:
                        moves.append(("partner_waitlist", "waitlisted", moment, None))
                        state = "waitlisted"
                        if rng.random() < 0.3:
                            moment += timedelta(days=rng.randint(5, 30))
                            moves.append(("abandon", "abandoned", moment, rng.choice(abandons)))
                            state = "abandoned"
            rows.referrals.append(
                {
                    "id": referral_id,
                    "participant_id": person.id,
                    "opportunity_id": opportunity_id,
                    "state": state,
                    "created_at": created,
                    "updated_at": moment,
                }
            )
            previous: str | None = "draft"
            for action, to_state, at, reason in moves:
                rows.transitions.append(
                    {
                        "referral_id": referral_id,
                        "action": action,
                        "from_state": previous,
                        "to_state": to_state,
                        "at": at,
                        "reason": reason,
                    }
                )
                previous = to_state
    return rows
