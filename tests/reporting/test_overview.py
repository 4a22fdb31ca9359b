"""Territory figures: one grouped computation for all territories, the same as for one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from referral.partners.models import DeploymentStatus, PartnerTerritory
from referral.reporting.overview import territories_overview, territory_overview
from referral.territories.queries import territories
from tests import factories


def test_all_territories_at_once_agree_with_each_one(session: Session) -> None:
    every = territories(session)
    together = territories_overview(session, [territory.id for territory in every])
    for territory in every:
        assert together[territory.id] == territory_overview(session, territory.id)


def test_a_national_opportunity_counts_where_its_partner_is_deployed_only(session: Session) -> None:
    lyon = factories.territory(session, "lyon")
    metz = factories.territory(session, "metz")
    partner = factories.partner(session, name="Réseau national de test")
    session.add_all(
        [
            PartnerTerritory(partner_id=partner.id, territory_id=lyon.id, status=DeploymentStatus.DEPLOYED),
            PartnerTerritory(
                partner_id=partner.id, territory_id=metz.id, status=DeploymentStatus.IN_DISCUSSION
            ),
        ]
    )
    session.flush()
    before = territories_overview(session, [lyon.id, metz.id])
    opportunity = factories.opportunity(session, partner_id=partner.id, territory_id=None)
    session.refresh(opportunity)
    after = territories_overview(session, [lyon.id, metz.id])
    assert after[lyon.id]["published_opportunities"] == before[lyon.id]["published_opportunities"] + 1
    assert after[metz.id]["published_opportunities"] == before[metz.id]["published_opportunities"]
    assert opportunity.offered_territory_ids == [lyon.id]
