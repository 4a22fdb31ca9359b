"""Export to data·inclusion (schema v1): our published opportunities as services, with their
partners as structures, every row validated by the schema's official package.

What is written is what `datainclusion.py` reads back: exporting, importing the file into an
empty database and exporting again gives the same file (but for the dates of update). So no
value is cut or padded to fit the schema: a row the schema refuses is left out, with its French
reasons, and so are the services of a structure left out.

- ids: a row imported from data·inclusion keeps its id (``di:<id>`` key); our own rows are
  ``reseau-convergence--partenaire-N`` and ``…--opportunite-N``, national opportunities
  ``…--opportunite-nationale-N``;
- every service carries thématiques: its subtypes' (else its domain's exact thématiques, else
  those of all the domain's subtypes), which the import maps back to the same domain;
- the zone of eligibility is the opportunity's territory, or for a national one every territory
  where its partner is deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from referral.access import offered_in_territory, opportunity_filter
from referral.audit.models import AuditAction
from referral.audit.services import record
from referral.partners import opportunities, scope
from referral.partners.datainclusion_schema import (
    SERVICE_FIELDS,
    SOURCE,
    STRUCTURE_FIELDS,
    THEMATIQUES,
    Kind,
    check,
    explain,
)
from referral.partners.exceptions import TerritoryNotFound
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference.models import Domain
from referral.territories.models import Territory, User

# Said of every service we export: who it is for and who mobilises it.
PUBLICS_PRECISIONS = (
    "Salarié·es en insertion accompagné·es par le programme Convergence (chantiers d'insertion)."
)


@dataclass(frozen=True)
class LeftOut:
    """A row the schema refuses, so not exported, and why in French."""

    kind: str
    record_id: int
    name: str
    reason: str


@dataclass
class DataInclusionExport:
    document: dict[str, list[dict[str, Any]]]
    left_out: list[LeftOut] = field(default_factory=list)


def _exported_id(key: str | None, word: str, record_id: int, *, own: bool = False) -> str:
    """A row imported from data·inclusion keeps its id; ours is ``reseau-convergence--<word>-<id>``
    (`own`: ours in any case)."""
    if key is not None and key.startswith("di:") and not own:
        return key[3:]
    return f"{SOURCE}--{word}-{record_id}"


def structure_id(partner: Partner, *, own: bool = False) -> str:
    return _exported_id(partner.key, "partenaire", partner.id, own=own)


def service_id(opportunity: Opportunity, *, own: bool = False) -> str:
    word = "opportunite-nationale" if opportunity.territory_id is None else "opportunite"
    return _exported_id(opportunity.key, word, opportunity.id, own=own)


def _first_contact(partner: Partner) -> tuple[str | None, str | None, str | None]:
    for contact in partner.contacts:
        return contact.name, contact.email, contact.phone
    return None, None, None


def structure_document(partner: Partner) -> dict[str, Any]:
    """One partner as a data·inclusion v1 structure (every field of the schema, None if unknown)."""
    _contact, email, phone = _first_contact(partner)
    document: dict[str, Any] = dict.fromkeys(STRUCTURE_FIELDS)
    document.update(
        {
            "source": SOURCE,
            "id": structure_id(partner),
            "nom": partner.name,
            "description": partner.description,
            "date_maj": partner.updated_at.date().isoformat(),
            "siret": partner.siret,
            "commune": partner.town,
            "code_postal": partner.postcode,
            "code_insee": partner.insee_code,
            "adresse": partner.address,
            "telephone": phone,
            "courriel": email,
        }
    )
    return document


def thematiques_of(opportunity: Opportunity, domain: Domain | None) -> list[str]:
    """The v1 thématiques of an opportunity: its subtypes', else its domain's exact thématiques,
    else those of all the domain's subtypes (a domain may list only *catégories*)."""
    codes = [code for subtype in opportunity.subtypes for code in subtype.datainclusion]
    if not codes and domain is not None:
        codes = [code for code in domain.datainclusion if code in THEMATIQUES]
        if not codes:
            codes = [code for subtype in domain.subtypes for code in subtype.datainclusion]
    return sorted({code for code in codes if code in THEMATIQUES})


def zone_of(opportunity: Opportunity) -> list[str] | None:
    """Where the opportunity is offered, as département codes: its territory's, or for a national
    one those of every territory where its partner is deployed."""
    if opportunity.territory is not None:
        departments = set(opportunity.territory.departments)
    else:
        departments = {
            department
            for link in opportunity.partner.territory_links
            if link.status is DeploymentStatus.DEPLOYED
            for department in link.territory.departments
        }
    return sorted(departments) or None


def service_document(
    opportunity: Opportunity,
    domain: Domain | None,
    describe: Callable[[Mapping[str, Any]], str],
    structure_ref: str | None = None,
) -> dict[str, Any]:
    """One published opportunity as a data·inclusion v1 service (`structure_ref`: the id its
    partner was exported under, when not the usual one)."""
    partner = opportunity.partner
    contact, email, phone = _first_contact(partner)
    hard = [
        describe({"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight})
        for c in opportunity.criteria
        if c.hard
    ]
    document: dict[str, Any] = dict.fromkeys(SERVICE_FIELDS)
    document.update(
        {
            "source": SOURCE,
            "structure_id": structure_ref or structure_id(partner),
            "id": service_id(opportunity),
            "nom": opportunity.title,
            # The schema requires a description: the title says what it is when none was written.
            "description": opportunity.description or opportunity.title,
            "date_maj": opportunity.updated_at.date().isoformat(),
            "type": "formation" if opportunity.domain_code == "formation" else "accompagnement",
            "thematiques": thematiques_of(opportunity, domain) or None,
            "publics_precisions": PUBLICS_PRECISIONS,
            "conditions_acces": "; ".join(hard) or opportunity.access_conditions,
            "commune": partner.town,
            "code_postal": partner.postcode,
            "code_insee": partner.insee_code,
            "adresse": partner.address,
            "telephone": phone,
            "courriel": email,
            "contact_nom_prenom": contact,
            "zone_eligibilite": zone_of(opportunity),
            "mobilisable_par": ["professionnels"],
            "mobilisation_precisions": opportunity.procedure,
        }
    )
    return document


def _imported(key: str | None) -> bool:
    return key is not None and key.startswith("di:")


def _unique_id(document: dict[str, Any], used: set[str], ours: str) -> None:
    """An imported row keeps its id unless one of ours already took it in this file (after a
    Convergence export was imported into a database with rows of its own): then it takes ours."""
    if document["id"] in used:
        document["id"] = ours


def _refused(kind: Kind, document: dict[str, Any], used: set[str], *, own: bool) -> str | None:
    """Why the schema refuses the row (None: exportable). `used`: the ids already in the file,
    which our own rows' ids (unique by construction) are part of."""
    if document["id"] in used and not own:
        return f"Identifiant « {document['id']} » déjà pris par une autre ligne du fichier."
    checked = check(kind, document)
    return None if checked.model is not None else explain(checked.reasons)


def export_datainclusion(
    session: Session, actor: User | None, *, territory_slug: str | None = None
) -> DataInclusionExport:
    """Our published opportunities (of one territory, or all) as data·inclusion v1 services,
    with their partners as structures. `actor` None is the command line (national team)."""
    query = (
        select(Opportunity)
        .where(Opportunity.status == OpportunityStatus.PUBLISHED)
        .options(
            selectinload(Opportunity.partner).selectinload(Partner.contacts),
            selectinload(Opportunity.partner)
            .selectinload(Partner.territory_links)
            .selectinload(PartnerTerritory.territory),
            selectinload(Opportunity.subtypes),
            selectinload(Opportunity.criteria),
            selectinload(Opportunity.territory),
        )
        .order_by(Opportunity.id)
    )
    if actor is not None:
        query = query.where(opportunity_filter(actor))
    if territory_slug:
        territory = (
            scope.scoped_territory(session, actor, territory_slug)
            if actor is not None
            else session.scalar(select(Territory).where(Territory.slug == territory_slug))
        )
        if territory is None:
            raise TerritoryNotFound(territory_slug)
        query = query.where(offered_in_territory(territory.id))
    published = list(session.scalars(query))
    with_subtypes = select(Domain).options(selectinload(Domain.subtypes))
    domains = {domain.code: domain for domain in session.scalars(with_subtypes)}
    labels = opportunities.criterion_labels(session)

    def describe(item: Mapping[str, Any]) -> str:
        return opportunities.describe_criterion(item, labels)

    result = DataInclusionExport({"structures": [], "services": []})
    partners = sorted({item.partner_id: item.partner for item in published}.values(), key=lambda p: p.id)
    exported_partners: dict[int, str] = {}
    # Our own rows' ids first: an imported row never takes one of them.
    used = {structure_id(partner) for partner in partners if not _imported(partner.key)}
    for partner in partners:
        document = structure_document(partner)
        if _imported(partner.key):
            _unique_id(document, used, structure_id(partner, own=True))
        if (reason := _refused("structure", document, used, own=not _imported(partner.key))) is not None:
            result.left_out.append(LeftOut("structure", partner.id, partner.name, reason))
            continue
        result.document["structures"].append(document)
        exported_partners[partner.id] = document["id"]
        used.add(document["id"])
    used = {service_id(item) for item in published if not _imported(item.key)}
    for opportunity in published:
        if opportunity.partner_id not in exported_partners:
            result.left_out.append(
                LeftOut("service", opportunity.id, opportunity.title, "Sa structure n'est pas exportable.")
            )
            continue
        document = service_document(
            opportunity,
            domains.get(opportunity.domain_code),
            describe,
            exported_partners[opportunity.partner_id],
        )
        if _imported(opportunity.key):
            _unique_id(document, used, service_id(opportunity, own=True))
        if (reason := _refused("service", document, used, own=not _imported(opportunity.key))) is not None:
            result.left_out.append(LeftOut("service", opportunity.id, opportunity.title, reason))
            continue
        result.document["services"].append(document)
        used.add(document["id"])
    record(
        session,
        AuditAction.EXPORT,
        entity="opportunities",
        details={
            "format": "data·inclusion v1",
            "services": len(result.document["services"]),
            "territory": territory_slug,
        },
    )
    return result
