"""Partners and their opportunities: creating and updating them.

The ``ensure_*`` functions are keyed by stable keys so that `referral seed` is idempotent; the
CP-facing actions (duplicates, publishing, history) build on them in the partner-network issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.access import opportunity_filter, partner_filter
from referral.cases.models import DataCategory
from referral.db import assign_changed, utcnow
from referral.exceptions import InvalidInput, NotFound
from referral.matching.registry import validate_criterion
from referral.partners.models import (
    Criterion,
    DeploymentStatus,
    NationalNetwork,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference import queries as reference
from referral.reference.models import DomainSubtype
from referral.territories.models import Programme, Territory, User


def ensure_national_network(
    session: Session, *, code: str, name: str, kind: str, description: str | None = None
) -> NationalNetwork:
    _check_code(session, "partner_kind", kind, "kind")
    network = session.get(NationalNetwork, code)
    if network is None:
        network = NationalNetwork(code=code)
        session.add(network)
    assign_changed(network, name=name, kind=kind, description=description)
    session.flush()
    return network


def ensure_partner(
    session: Session,
    *,
    key: str,
    name: str,
    kind: str,
    territories: Sequence[Mapping[str, str]],
    national_network: str | None = None,
    town: str | None = None,
    siret: str | None = None,
    tags: Iterable[str] = (),
    description: str | None = None,
    convention_signed_on: date | None = None,
    convention_ends_on: date | None = None,
) -> Partner:
    _check_code(session, "partner_kind", kind, "kind")
    if national_network is not None and session.get(NationalNetwork, national_network) is None:
        raise InvalidInput(
            f"Partenariat national inconnu : « {national_network} ».",
            errors={"national_network": [f"« {national_network} » n'est pas un partenariat national connu."]},
        )
    partner = session.scalar(select(Partner).where(Partner.key == key))
    if partner is None:
        partner = Partner(key=key)
        session.add(partner)
    assign_changed(
        partner,
        name=name,
        kind=kind,
        national_network_code=national_network,
        town=town,
        siret=siret,
        tags=list(tags),
        description=description,
        convention_signed_on=convention_signed_on,
        convention_ends_on=convention_ends_on,
    )
    wanted: dict[int, DeploymentStatus] = {}
    for link in territories:
        territory = _territory(session, link["slug"])
        wanted[territory.id] = DeploymentStatus(link.get("status", DeploymentStatus.DEPLOYED.value))
    current = {link.territory_id: link for link in partner.territory_links}
    for territory_id, link in current.items():
        if territory_id not in wanted:
            partner.territory_links.remove(link)
        elif link.status != wanted[territory_id]:
            link.status = wanted[territory_id]
    for territory_id, status in wanted.items():
        if territory_id not in current:
            partner.territory_links.append(PartnerTerritory(territory_id=territory_id, status=status))
    session.flush()
    return partner


def ensure_opportunity(
    session: Session,
    *,
    key: str,
    partner: Partner,
    title: str,
    domain: str,
    criteria: Sequence[Mapping[str, Any]] = (),
    subtypes: Iterable[str] = (),
    territory_slug: str | None = None,
    description: str | None = None,
    capacity: int = 1,
    answer_delay_days: int = 30,
    requires_cp_validation: bool = True,
    procedure: str | None = None,
    documents_required: Iterable[str] = (),
    shared_categories: Iterable[str] = (),
    tags: Iterable[str] = (),
    valid_from: date | None = None,
    valid_until: date | None = None,
    status: str = OpportunityStatus.PUBLISHED.value,
) -> Opportunity:
    errors: dict[str, list[str]] = {}
    if domain not in reference.domain_codes(session):
        errors["domain"] = [f"« {domain} » n'est pas un domaine connu."]
    subtype_codes = list(dict.fromkeys(subtypes))
    found_subtypes = list(
        session.scalars(
            select(DomainSubtype).where(DomainSubtype.code.in_(subtype_codes)).order_by(DomainSubtype.code)
        )
    )
    bad_subtypes = sorted(set(subtype_codes) - {subtype.code for subtype in found_subtypes})
    bad_subtypes += [s.code for s in found_subtypes if s.domain_code != domain]
    if bad_subtypes:
        errors["subtypes"] = [
            f"« {code} » n'est pas un sous-thème du domaine « {domain} »." for code in bad_subtypes
        ]
    categories = list(dict.fromkeys(shared_categories))
    bad_categories = [code for code in categories if code not in {c.value for c in DataCategory}]
    if bad_categories:
        errors["shared_categories"] = [
            f"Catégorie de données inconnue : « {code} »." for code in bad_categories
        ]
    known = criterion_codes(session)
    for index, item in enumerate(criteria):
        problems = validate_criterion(item.get("field", ""), item.get("op", ""), item.get("value"), known)
        if problems:
            errors[f"criteria.{index}"] = problems
    if errors:
        raise InvalidInput(f"L'opportunité « {title} » contient des données invalides.", errors=errors)

    territory_id = _territory(session, territory_slug).id if territory_slug else None
    opportunity = session.scalar(select(Opportunity).where(Opportunity.key == key))
    if opportunity is None:
        opportunity = Opportunity(key=key, places_taken=0)
        session.add(opportunity)
    wanted_status = OpportunityStatus(status)
    assign_changed(
        opportunity,
        partner_id=partner.id,
        territory_id=territory_id,
        title=title,
        domain_code=domain,
        description=description,
        capacity=capacity,
        answer_delay_days=answer_delay_days,
        requires_cp_validation=requires_cp_validation,
        procedure=procedure,
        documents_required=list(documents_required),
        shared_categories=categories,
        tags=list(tags),
        valid_from=valid_from,
        valid_until=valid_until,
        status=wanted_status,
    )
    if wanted_status is OpportunityStatus.PUBLISHED and opportunity.published_at is None:
        opportunity.published_at = utcnow()
    if [s.code for s in opportunity.subtypes] != [s.code for s in found_subtypes]:
        opportunity.subtypes = found_subtypes
    wanted_criteria = [
        (
            item["field"],
            item["op"],
            item["value"],
            bool(item.get("hard", True)),
            float(item.get("weight", 1.0)),
        )
        for item in criteria
    ]
    current_criteria = [(c.field, c.op, c.value, c.hard, c.weight) for c in opportunity.criteria]
    if current_criteria != wanted_criteria:
        opportunity.criteria = [
            Criterion(position=position, field=field, op=op, value=value, hard=hard, weight=weight)
            for position, (field, op, value, hard, weight) in enumerate(wanted_criteria)
        ]
    session.flush()
    return opportunity


def criterion_codes(session: Session) -> dict[str, frozenset[str]]:
    """The codes a criterion may name, per reference list (for `validate_criterion`)."""
    known = {
        name: reference.code_set(session, name)
        for name in ("residence_status", "housing_status", "health_coverage", "language_level")
    }
    known["territory"] = frozenset(session.scalars(select(Territory.slug)))
    known["programme"] = frozenset(programme.value for programme in Programme)
    known["need"] = reference.domain_codes(session) | reference.subtype_codes(session)
    return known


def _territory(session: Session, slug: str) -> Territory:
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise InvalidInput(
            f"Territoire inconnu : « {slug} ».",
            errors={"territory": [f"« {slug} » n'est pas un territoire connu."]},
        )
    return territory


def _check_code(session: Session, list_name: str, code: str, field: str) -> None:
    if code not in reference.code_set(session, list_name):
        raise InvalidInput(
            f"Code inconnu « {code} » ({list_name}).", errors={field: [f"« {code} » est inconnu."]}
        )


def list_partners(session: Session, actor: User, *, territory_slug: str | None = None) -> list[Partner]:
    query = select(Partner).where(partner_filter(actor))
    if territory_slug:
        territory = _territory(session, territory_slug)
        query = query.where(
            Partner.id.in_(
                select(PartnerTerritory.partner_id).where(PartnerTerritory.territory_id == territory.id)
            )
        )
    return list(session.scalars(query.order_by(Partner.name, Partner.id)))


def get_partner(session: Session, actor: User, partner_id: int) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.id == partner_id, partner_filter(actor)))
    if partner is None:
        raise NotFound("Ce partenaire n'existe pas ou n'intervient pas sur votre territoire.")
    return partner


def list_opportunities(
    session: Session,
    actor: User,
    *,
    status: str | None = None,
    domain: str | None = None,
    partner_id: int | None = None,
) -> list[Opportunity]:
    query = select(Opportunity).where(opportunity_filter(actor))
    if status:
        query = query.where(Opportunity.status == OpportunityStatus(status))
    if domain:
        query = query.where(Opportunity.domain_code == domain)
    if partner_id is not None:
        query = query.where(Opportunity.partner_id == partner_id)
    return list(session.scalars(query.order_by(Opportunity.title, Opportunity.id)))


def get_opportunity(session: Session, actor: User, opportunity_id: int) -> Opportunity:
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, opportunity_filter(actor))
    )
    if opportunity is None:
        raise NotFound("Cette opportunité n'existe pas ou n'est pas proposée sur votre territoire.")
    return opportunity
