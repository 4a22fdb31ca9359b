"""Who may see what (DESIGN §8), as query filters and checks the services apply.

Every service that reads or changes scoped data takes the acting user and goes through these
helpers, so the rules live in one place and no view can forget them. Out-of-scope records answer
`NotFound`, exactly like missing ones, so their existence is not revealed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true

from referral.cases.models import Participant
from referral.exceptions import PermissionDenied
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.territories.models import Role, Structure, User


def require_role(actor: User, *roles: Role, message: str | None = None) -> None:
    if actor.role not in roles:
        raise PermissionDenied(message or "Votre rôle ne permet pas cette action.")


def participant_filter(actor: User) -> ColumnElement[bool]:
    """Participants whose record `actor` may open: only a CIP, only their structure's people.

    CPs see what a referral shares, never the record; coordinators and the national team never
    see a named person.
    """
    structure_id = readable_records_structure(actor)
    if structure_id is None:
        return false()
    return Participant.structure_id == structure_id


def readable_records_structure(actor: User) -> int | None:
    """The one structure whose case records `actor` may open (a CIP's own), or None.

    The rule of `participant_filter` as a value, for the statements the hot path builds once
    with a bound parameter instead of composing the filter at each request.
    """
    if actor.role is Role.CIP and actor.structure_id is not None:
        return actor.structure_id
    return None


def structure_filter(actor: User) -> ColumnElement[bool]:
    if actor.role is Role.ADMIN:
        return true()
    territory_id = actor.scope_territory_id
    if territory_id is None:
        return Structure.id == actor.structure_id
    return Structure.territory_id == territory_id


def partner_filter(actor: User) -> ColumnElement[bool]:
    """Partners of the actor's territory (national partners included where deployed)."""
    if actor.role is Role.ADMIN:
        return true()
    territory_id = actor.scope_territory_id
    if territory_id is None:
        return false()
    deployed_here = select(PartnerTerritory.partner_id).where(PartnerTerritory.territory_id == territory_id)
    return Partner.id.in_(deployed_here)


def offered_in_territory(territory_id: int) -> ColumnElement[bool]:
    """Opportunities offered in a territory: its own, and national partners' where deployed
    (the same rule as `Opportunity.offered_territory_ids`, as a query)."""
    deployed_here = select(PartnerTerritory.partner_id).where(
        PartnerTerritory.territory_id == territory_id, PartnerTerritory.status == DeploymentStatus.DEPLOYED
    )
    return or_(
        Opportunity.territory_id == territory_id,
        Opportunity.territory_id.is_(None) & Opportunity.partner_id.in_(deployed_here),
    )


def opportunity_filter(actor: User) -> ColumnElement[bool]:
    """Opportunities offered in the actor's territory.

    A territory-less opportunity of a national partner is offered wherever that partner is
    deployed. CIPs see published opportunities only; CPs and coordinators also the drafts, paused and
    closed ones of their territory.
    """
    if actor.role is Role.ADMIN:
        return true()
    territory_id = actor.scope_territory_id
    if territory_id is None:
        return false()
    in_territory = offered_in_territory(territory_id)
    if actor.role is Role.CIP:
        return in_territory & (Opportunity.status == OpportunityStatus.PUBLISHED)
    return in_territory
