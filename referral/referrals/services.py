"""Referral actions and the lists each role works from (the lifecycle comes with its issue)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session, joinedload

from referral.access import opportunity_filter
from referral.cases.models import Participant
from referral.partners.models import Opportunity
from referral.referrals.models import Referral, ReferralState
from referral.territories.models import Role, User

# What each role has to act on, by state (DESIGN §7).
CIP_TO_ACT_ON = (ReferralState.DRAFT, ReferralState.NEEDS_INFO, ReferralState.ACCEPTED)
CP_TO_ACT_ON = (ReferralState.SUBMITTED,)
CP_WAITING_ON_PARTNER = (ReferralState.SENT, ReferralState.WAITLISTED)


def referral_filter(actor: User) -> ColumnElement[bool]:
    """Referrals the actor may follow: a CIP their structure's, a CP those of their territory's
    opportunities in their domains, a coordinator their territory's, the national team all."""
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.CIP:
        return Referral.participant_id.in_(
            select(Participant.id).where(Participant.structure_id == actor.structure_id)
        )
    in_territory = Referral.opportunity_id.in_(select(Opportunity.id).where(opportunity_filter(actor)))
    if actor.role is Role.CP:
        domains = actor.domain_codes
        if not domains:
            return false()
        in_domains = Referral.opportunity_id.in_(
            select(Opportunity.id).where(Opportunity.domain_code.in_(domains))
        )
        return in_territory & in_domains
    return in_territory


def list_referrals(session: Session, actor: User, *, states: Iterable[ReferralState] = ()) -> list[Referral]:
    query = (
        select(Referral)
        .where(referral_filter(actor))
        .options(joinedload(Referral.opportunity).joinedload(Opportunity.partner))
    )
    wanted = list(states)
    if wanted:
        query = query.where(Referral.state.in_(wanted))
    return list(session.scalars(query.order_by(Referral.updated_at.desc(), Referral.id.desc())))
