"""Export to data·inclusion (schema v1): our published opportunities as services, with their
partners as structures, and the checks of a document against the schema's field lists.

The field lists, the source name and the import live in `datainclusion.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from referral.access import offered_in_territory, opportunity_filter
from referral.audit.models import AuditAction
from referral.audit.services import record
from referral.partners import opportunities, scope
from referral.partners.datainclusion import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    POSTCODE_PATTERN,
    SERVICE_FIELDS,
    SERVICE_REQUIRED,
    SERVICE_TYPES,
    SOURCE,
    STRUCTURE_FIELDS,
    STRUCTURE_REQUIRED,
    THEMATIQUE_PATTERN,
)
from referral.partners.exceptions import TerritoryNotFound
from referral.partners.models import (
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference.models import Domain
from referral.territories.models import Territory, User


def _bounded(text: str, minimum: int, maximum: int, filler: str) -> str:
    text = " ".join(text.split())
    if len(text) < minimum:
        text = f"{text} {filler}".strip()
    if len(text) > maximum:
        text = text[: maximum - 1].rstrip() + "…"
    return text


def _name(text: str, suffix: str) -> str:
    name = " ".join(text.split()).rstrip(".").strip()
    if len(name) < NAME_LENGTH[0]:
        name = f"{name} — {suffix}".strip(" —")
    if len(name) > NAME_LENGTH[1]:
        name = name[: NAME_LENGTH[1] - 1].rstrip() + "…"
    return name.rstrip(".")


def _first_contact(partner: Partner) -> tuple[str | None, str | None, str | None]:
    for contact in partner.contacts:
        return contact.name, contact.email, contact.phone
    return None, None, None


def structure_document(partner: Partner) -> dict[str, Any]:
    """One partner as a data·inclusion v1 structure (every field of the schema, None if unknown)."""
    _contact, email, phone = _first_contact(partner)
    description = _bounded(
        partner.description or "",
        DESCRIPTION_LENGTH[0],
        DESCRIPTION_LENGTH[1],
        f"{partner.name} est partenaire du réseau Convergence, qui accompagne des salarié·es en insertion "
        "dans les chantiers d'insertion.",
    )
    document: dict[str, Any] = dict.fromkeys(STRUCTURE_FIELDS)
    document.update(
        {
            "source": SOURCE,
            "id": f"{SOURCE}--partenaire-{partner.id}",
            "nom": _name(partner.name, "partenaire"),
            "description": description,
            "date_maj": partner.updated_at.date().isoformat(),
            "siret": partner.siret,
            "commune": partner.town,
            "code_postal": partner.postcode
            if partner.postcode and POSTCODE_PATTERN.match(partner.postcode)
            else None,
            "adresse": partner.address,
            "telephone": phone,
            "courriel": email,
        }
    )
    return document


def _thematiques_of(opportunity: Opportunity, domain: Domain | None) -> list[str] | None:
    codes: list[str] = []
    for subtype in opportunity.subtypes:
        codes.extend(subtype.datainclusion)
    if not codes and domain is not None:
        codes.extend(domain.datainclusion)
    # Only « catégorie--thématique » codes are thématiques in v1; a bare catégorie is not.
    kept = [code for code in dict.fromkeys(codes) if THEMATIQUE_PATTERN.match(code)]
    return kept or None


def service_document(
    opportunity: Opportunity,
    domain: Domain | None,
    departments: list[str],
    describe: Callable[[Mapping[str, Any]], str],
) -> dict[str, Any]:
    """One published opportunity as a data·inclusion v1 service."""
    partner = opportunity.partner
    contact, email, phone = _first_contact(partner)
    hard = [
        describe({"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight})
        for c in opportunity.criteria
        if c.hard
    ]
    description = _bounded(
        opportunity.description or opportunity.title,
        DESCRIPTION_LENGTH[0],
        DESCRIPTION_LENGTH[1],
        f"Offre de {partner.name} réservée aux salarié·es accompagné·es par le programme Convergence, "
        "sur orientation de leur conseiller·ère en insertion.",
    )
    document: dict[str, Any] = dict.fromkeys(SERVICE_FIELDS)
    document.update(
        {
            "source": SOURCE,
            "structure_id": f"{SOURCE}--partenaire-{partner.id}",
            "id": f"{SOURCE}--opportunite-{opportunity.id}",
            "nom": _name(opportunity.title, partner.name),
            "description": description,
            "date_maj": opportunity.updated_at.date().isoformat(),
            "type": "formation" if opportunity.domain_code == "formation" else "accompagnement",
            "thematiques": _thematiques_of(opportunity, domain),
            "publics_precisions": "Salarié·es en insertion accompagné·es par le programme Convergence "
            "(chantiers d'insertion).",
            "conditions_acces": "; ".join(hard) or None,
            "commune": partner.town,
            "code_postal": partner.postcode
            if partner.postcode and POSTCODE_PATTERN.match(partner.postcode)
            else None,
            "adresse": partner.address,
            "telephone": phone,
            "courriel": email,
            "contact_nom_prenom": contact,
            "zone_eligibilite": departments or None,
            "mobilisable_par": ["professionnels"],
            "mobilisation_precisions": opportunity.procedure,
        }
    )
    return document


def export_datainclusion(
    session: Session, actor: User | None, *, territory_slug: str | None = None
) -> dict[str, list[dict[str, Any]]]:
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
    domains = {domain.code: domain for domain in session.scalars(select(Domain))}
    labels = opportunities.criterion_labels(session)

    def describe(item: Mapping[str, Any]) -> str:
        return opportunities.describe_criterion(item, labels)

    partners: dict[int, Partner] = {}
    service_rows = []
    for opportunity in published:
        partners.setdefault(opportunity.partner_id, opportunity.partner)
        if opportunity.territory is not None:
            departments = list(opportunity.territory.departments)
        else:
            departments = sorted(
                {
                    department
                    for link in opportunity.partner.territory_links
                    for department in link.territory.departments
                }
            )
        service_rows.append(
            service_document(opportunity, domains.get(opportunity.domain_code), departments, describe)
        )
    record(
        session,
        AuditAction.EXPORT,
        entity="opportunities",
        details={"format": "data·inclusion v1", "services": len(service_rows), "territory": territory_slug},
    )
    return {
        "structures": [
            structure_document(partner) for partner in sorted(partners.values(), key=lambda p: p.id)
        ],
        "services": service_rows,
    }


# --- Checking a document against the schema's field lists -------------------------------------


def _common_problems(item: Mapping[str, Any], fields: Sequence[str], required: Sequence[str]) -> list[str]:
    problems = [f"champ inconnu du schéma : « {name} »" for name in item if name not in fields]
    problems += [f"champ requis manquant : « {name} »" for name in required if item.get(name) in (None, "")]
    name = item.get("nom")
    if isinstance(name, str) and not (
        NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1] and not name.endswith(".")
    ):
        problems.append("« nom » : 3 à 150 caractères, sans point final")
    description = item.get("description")
    if (
        isinstance(description, str)
        and not DESCRIPTION_LENGTH[0] <= len(description) <= DESCRIPTION_LENGTH[1]
    ):
        problems.append("« description » : 50 à 2000 caractères")
    if item.get("date_maj") is not None:
        try:
            date.fromisoformat(str(item["date_maj"]))
        except ValueError:
            problems.append("« date_maj » : date ISO attendue")
    postcode = item.get("code_postal")
    if postcode is not None and not POSTCODE_PATTERN.match(str(postcode)):
        problems.append("« code_postal » : 5 chiffres")
    return problems


def structure_problems(item: Mapping[str, Any]) -> list[str]:
    """Why `item` is not a valid data·inclusion v1 structure (empty when it is)."""
    problems = _common_problems(item, STRUCTURE_FIELDS, STRUCTURE_REQUIRED)
    siret = item.get("siret")
    if siret is not None and not (isinstance(siret, str) and len(siret) == 14 and siret.isdigit()):
        problems.append("« siret » : 14 chiffres")
    return problems


def service_problems(item: Mapping[str, Any]) -> list[str]:
    """Why `item` is not a valid data·inclusion v1 service (empty when it is)."""
    problems = _common_problems(item, SERVICE_FIELDS, SERVICE_REQUIRED)
    if item.get("type") is not None and item["type"] not in SERVICE_TYPES:
        problems.append("« type » inconnu")
    thematiques = item.get("thematiques")
    if thematiques is not None and not (
        isinstance(thematiques, list)
        and thematiques
        and all(THEMATIQUE_PATTERN.match(str(code)) for code in thematiques)
    ):
        problems.append("« thematiques » : liste de codes « catégorie--thématique »")
    for name in ("zone_eligibilite", "mobilisable_par", "modes_accueil", "modes_mobilisation", "publics"):
        value = item.get(name)
        if value is not None and not (isinstance(value, list) and value):
            problems.append(f"« {name} » : liste non vide")
    return problems
