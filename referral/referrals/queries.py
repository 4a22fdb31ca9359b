"""Reads of referrals: no rules, no HTTP, no scope decisions (the services decide who may see them).

How partners answer the referrals sent to them (« taux de réponse »): per partner over all time
for the matching index, and per territory and period for the mutualisation meeting's agenda
(`referral.referrals.agenda`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral.access import offered_in_territory
from referral.partners import queries as partner_queries
from referral.partners.models import Opportunity
from referral.referrals.models import ACTIVE_STATES, Referral, ReferralState, ReferralTransition

# A partner's answer to a referral it received (DESIGN §7): a place, the waiting list, or no.
ANSWER_STATES = (ReferralState.ACCEPTED, ReferralState.WAITLISTED, ReferralState.REFUSED)


@dataclass(frozen=True)
class AnswerStats:
    """How a partner answers the referrals sent to it (« taux de réponse »)."""

    sent: int
    answered: int
    median_days: float | None

    @property
    def rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


def partner_answer_stats(
    session: Session, partner_ids: Iterable[int] | None = None, since: datetime | None = None
) -> dict[int, AnswerStats]:
    """From the transitions: referrals sent to each partner, those it answered, and the median
    days between sending and its first answer."""
    query = (
        select(
            Opportunity.partner_id,
            ReferralTransition.referral_id,
            ReferralTransition.to_state,
            ReferralTransition.at,
        )
        .join(Referral, Referral.id == ReferralTransition.referral_id)
        .join(Opportunity, Opportunity.id == Referral.opportunity_id)
        .where(ReferralTransition.to_state.in_([ReferralState.SENT, *ANSWER_STATES]))
        .order_by(ReferralTransition.referral_id, ReferralTransition.at, ReferralTransition.id)
    )
    if partner_ids is not None:
        query = query.where(Opportunity.partner_id.in_(list(partner_ids)))
    if since is not None:
        query = query.where(ReferralTransition.at >= since)
    sent_at: dict[int, datetime] = {}
    answered_after: dict[int, float] = {}
    partner_of: dict[int, int] = {}
    for partner_id, referral_id, to_state, at in session.execute(query):
        partner_of[referral_id] = partner_id
        if to_state is ReferralState.SENT:
            sent_at.setdefault(referral_id, at)
        elif referral_id in sent_at and referral_id not in answered_after:
            answered_after[referral_id] = (at - sent_at[referral_id]).total_seconds() / 86400
    stats: dict[int, AnswerStats] = {}
    for partner_id in sorted(set(partner_of.values())):
        sent = [r for r in sent_at if partner_of[r] == partner_id]
        delays = [answered_after[r] for r in sent if r in answered_after]
        stats[partner_id] = AnswerStats(len(sent), len(delays), statistics.median(delays) if delays else None)
    return stats


@dataclass(frozen=True)
class PartnerReferralStats:
    """Referrals to one partner's opportunities in a period (« taux de réponse »).

    `sent`: referrals transmitted to the partner in the period; `answered`: those of them the
    partner answered (a place, the waiting list or a refusal) before the end of the period.
    """

    partner_id: int
    partner_name: str
    created: int
    sent: int
    answered: int

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None


def referral_stats_by_partner(
    session: Session, territory_id: int, since: datetime, until: datetime
) -> list[PartnerReferralStats]:
    offered_here = select(Opportunity.id).where(offered_in_territory(territory_id))
    created_rows = session.execute(
        select(Opportunity.partner_id, func.count(Referral.id))
        .join(Referral.opportunity)
        .where(
            Referral.opportunity_id.in_(offered_here),
            Referral.created_at >= since,
            Referral.created_at < until,
        )
        .group_by(Opportunity.partner_id)
    ).all()
    sent_rows = session.execute(
        select(Opportunity.partner_id, ReferralTransition.referral_id)
        .join(ReferralTransition.referral)
        .join(Referral.opportunity)
        .where(
            Referral.opportunity_id.in_(offered_here),
            ReferralTransition.to_state == ReferralState.SENT,
            ReferralTransition.at >= since,
            ReferralTransition.at < until,
        )
        .distinct()
    ).all()
    sent_ids = {referral_id for _partner_id, referral_id in sent_rows}
    answered_ids: set[int] = set()
    if sent_ids:
        answered_ids = set(
            session.scalars(
                select(ReferralTransition.referral_id)
                .where(
                    ReferralTransition.referral_id.in_(sent_ids),
                    ReferralTransition.to_state.in_(ANSWER_STATES),
                    ReferralTransition.at < until,
                )
                .distinct()
            )
        )
    created: dict[int, int] = {int(partner_id): int(count) for partner_id, count in created_rows}
    sent: dict[int, int] = defaultdict(int)
    answered: dict[int, int] = defaultdict(int)
    for partner_id, referral_id in sent_rows:
        sent[partner_id] += 1
        if referral_id in answered_ids:
            answered[partner_id] += 1
    partner_ids = sorted(set(created) | set(sent))
    names = {
        partner.id: partner.name for partner in partner_queries.partners_by_ids(session, partner_ids).values()
    }
    stats = [
        PartnerReferralStats(
            partner_id=partner_id,
            partner_name=names[partner_id],
            created=created.get(partner_id, 0),
            sent=sent.get(partner_id, 0),
            answered=answered.get(partner_id, 0),
        )
        for partner_id in partner_ids
    ]
    return sorted(stats, key=lambda item: (-item.created - item.sent, item.partner_name, item.partner_id))


def under_way_count(session: Session, participant_id: int) -> int:
    """How many referrals of a person are still under way (for the summary of the record)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.participant_id == participant_id, Referral.state.in_(ACTIVE_STATES))
        )
        or 0
    )
