"""Who may act on the partner network, and where (DESIGN §8), for every room of the package.

CPs build their territory's network in their own domains, the national team its national
partnerships; everyone working in a territory reads its network. The services check these before
anything is written, and the pages ask the same predicates which buttons to show. Kept apart from
`services` because the search and every other room of the package need them too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.exceptions import InvalidInput
from referral.partners.exceptions import NotThePartnerNetworkRole, OutsideYourDomains, TerritoryNotFound
from referral.reference.models import Domain
from referral.territories.models import Role, Territory, User

BUILDERS_ONLY = (
    "Seul·es les chargé·es de partenariats créent et modifient le réseau ; les coordinateur·rices "
    "et les CIP le consultent."
)


def works_nationally(actor: User) -> bool:
    """The national team works on every territory (the pages ask it which one it looks at)."""
    return actor.role is Role.ADMIN


def may_manage_partners(actor: User) -> bool:
    """CPs build their territory's network; the national team its national partnerships."""
    return actor.role in (Role.CP, Role.ADMIN)


def require_builder(actor: User) -> None:
    if not may_manage_partners(actor):
        raise NotThePartnerNetworkRole(BUILDERS_ONLY)


def is_territory_cp(actor: User) -> bool:
    """A CP attached to a territory: who runs its meetings, office hours and workshops."""
    return actor.role is Role.CP and actor.territory_id is not None


def require_cp(actor: User, message: str) -> None:
    if not is_territory_cp(actor):
        raise NotThePartnerNetworkRole(message)


def in_own_domains(actor: User, domain: str) -> bool:
    """A CP acts in their own domains only (the CP santé does not publish housing); others in any."""
    return actor.role is not Role.CP or domain in actor.domain_codes


def domain_label(session: Session, code: str) -> str:
    domain = session.get(Domain, code)
    return domain.label if domain is not None else code


def check_domain(session: Session, actor: User, domain: str) -> None:
    """A CP acts on the opportunities of their own domains only."""
    if not in_own_domains(actor, domain):
        raise OutsideYourDomains(domain_label(session, domain))


def known_territory(session: Session, slug: str) -> Territory:
    """The territory `slug` (seeding, filters); an unknown slug is refused as invalid input."""
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise InvalidInput(
            f"Territoire inconnu : « {slug} ».",
            errors={"territory": [f"« {slug} » n'est pas un territoire connu."]},
        )
    return territory


def scoped_territory(session: Session, actor: User, slug: str) -> Territory:
    """The territory `slug` if the actor works in it (the national team: any); else 404."""
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise TerritoryNotFound(slug)
    if not works_nationally(actor) and actor.scope_territory_id != territory.id:
        raise TerritoryNotFound(slug)
    return territory


def readable_territory_ids(actor: User) -> set[int] | None:
    """Territories whose network `actor` may read (None: all, for the national team)."""
    if works_nationally(actor):
        return None
    territory_id = actor.scope_territory_id
    return {territory_id} if territory_id is not None else set()


def may_read_territory(actor: User, territory_id: int) -> bool:
    readable = readable_territory_ids(actor)
    return readable is None or territory_id in readable
