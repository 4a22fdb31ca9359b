"""The home-page figures of coordinators and the national team: counts per territory
(structures, people accompanied, partners, published opportunities, referrals by state).

They read cases, partners and referrals, so they live here, above all three, rather than in
`territories` (which they are about, but which sits below).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral import clock
from referral.cases.models import Exit, Participant
from referral.partners.models import DeploymentStatus, Opportunity, OpportunityStatus, PartnerTerritory
from referral.referrals.models import Referral
from referral.territories.models import Structure


def territories_overview(session: Session, territory_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Aggregated counts per territory (coordinators, national team): no names, only numbers.

    One grouped query per figure, whatever the number of territories.
    """
    wanted = list(territory_ids)
    overview: dict[int, dict[str, Any]] = {
        territory_id: {
            "structures": 0,
            "participants": 0,
            "partners": 0,
            "published_opportunities": 0,
            "referrals_by_state": {},
        }
        for territory_id in wanted
    }

    def add(figure: str, rows: Iterable[Any]) -> None:
        for territory_id, count in rows:
            if territory_id in overview:
                overview[territory_id][figure] += count

    add(
        "structures",
        session.execute(
            select(Structure.territory_id, func.count())
            .where(Structure.territory_id.in_(wanted))
            .group_by(Structure.territory_id)
        ),
    )
    # « File active »: people currently accompanied, i.e. not yet out of the programme.
    exited = select(Exit.participant_id).where(Exit.exited_on <= clock.today())
    add(
        "participants",
        session.execute(
            select(Structure.territory_id, func.count(Participant.id))
            .join(Participant, Participant.structure_id == Structure.id)
            .where(
                Structure.territory_id.in_(wanted),
                Participant.anonymised_at.is_(None),
                Participant.id.not_in(exited),
            )
            .group_by(Structure.territory_id)
        ),
    )
    add(
        "partners",
        session.execute(
            select(PartnerTerritory.territory_id, func.count())
            .where(PartnerTerritory.territory_id.in_(wanted))
            .group_by(PartnerTerritory.territory_id)
        ),
    )
    published = Opportunity.status == OpportunityStatus.PUBLISHED
    add(
        "published_opportunities",
        session.execute(
            select(Opportunity.territory_id, func.count())
            .where(published, Opportunity.territory_id.in_(wanted))
            .group_by(Opportunity.territory_id)
        ),
    )
    # National partners' opportunities stand wherever the partner is deployed (`offered_in_territory`).
    add(
        "published_opportunities",
        session.execute(
            select(PartnerTerritory.territory_id, func.count(Opportunity.id))
            .join(Opportunity, Opportunity.partner_id == PartnerTerritory.partner_id)
            .where(
                published,
                Opportunity.territory_id.is_(None),
                PartnerTerritory.territory_id.in_(wanted),
                PartnerTerritory.status == DeploymentStatus.DEPLOYED,
            )
            .group_by(PartnerTerritory.territory_id)
        ),
    )
    for territory_id, state, count in session.execute(
        select(Structure.territory_id, Referral.state, func.count(Referral.id))
        .join(Participant, Participant.structure_id == Structure.id)
        .join(Referral, Referral.participant_id == Participant.id)
        .where(Structure.territory_id.in_(wanted))
        .group_by(Structure.territory_id, Referral.state)
    ):
        assert territory_id is not None  # `IN (wanted)` never matches a NULL
        overview[territory_id]["referrals_by_state"][state] = count
    return overview


def territory_overview(session: Session, territory_id: int) -> dict[str, Any]:
    """Aggregated counts of one territory, for its coordinator."""
    return territories_overview(session, [territory_id])[territory_id]
