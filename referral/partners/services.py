"""The partner network's actions (« réseau de partenaires »), one function per user action.

Seeding uses the ``ensure_*`` functions, keyed by stable keys so that `referral seed` is
idempotent. The CP's actions take ``(session, actor, …)``: they check the actor's role and scope
(DESIGN §8: CPs act on their own territory and their domains, coordinators read, CIPs read what
is published), apply the rule, flush and never commit. A refusal raises a typed exception of
`referral.partners.exceptions` with a French message, before anything is written.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from referral.access import offered_in_territory, opportunity_filter, participant_filter, partner_filter
from referral.cases.models import DataCategory, Participant
from referral.db import assign_changed, utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.matching.registry import FIELDS, OPERATORS, validate_criterion
from referral.partners import queries
from referral.partners.exceptions import (
    DuplicateCandidate,
    InvalidOpportunity,
    InvalidPartner,
    LikelyDuplicatePartner,
    MeetingNotFound,
    NotThePartnerNetworkRole,
    OfficeHourNotFound,
    OfficeHourUnavailable,
    OpportunityNotFound,
    OpportunityTransitionRefused,
    OutsideYourDomains,
    PartnerNotFound,
    SiretAlreadyUsed,
    StaleVersion,
    TerritoryNotFound,
    WorkshopNotFound,
)
from referral.partners.models import (
    AgendaItem,
    AgendaItemSource,
    Criterion,
    DeploymentStatus,
    NationalNetwork,
    NetworkMeeting,
    OfficeHour,
    Opportunity,
    OpportunityRevision,
    OpportunityStatus,
    Partner,
    PartnerContact,
    PartnerTerritory,
    Workshop,
)
from referral.reference import queries as reference
from referral.reference.models import Domain, DomainSubtype
from referral.search import PartnerCandidate, SearchIndex, SearchRecord, partner_duplicates
from referral.territories.models import Programme, Role, Territory, User


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
    errors, found_subtypes = _offer_errors(
        session, domain=domain, subtypes=subtypes, shared_categories=shared_categories, criteria=criteria
    )
    categories = list(dict.fromkeys(shared_categories))
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
    rewritten = False
    if [s.code for s in opportunity.subtypes] != [s.code for s in found_subtypes]:
        opportunity.subtypes = found_subtypes
        rewritten = True
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
        rewritten = True
    if rewritten and opportunity.id is not None:
        # Criteria and subtypes live in other tables: a new version is what tells a CP editing the
        # offer, and the workers' matching indexes, that the offer changed.
        opportunity.version += 1
    session.flush()
    return opportunity


def _offer_errors(
    session: Session,
    *,
    domain: str,
    subtypes: Iterable[str],
    shared_categories: Iterable[str],
    criteria: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, list[str]], list[DomainSubtype]]:
    """French messages per field for an offer's coded values, and the subtypes found.

    Shared by seeding and the CP's form, so a seeded offer and a typed one obey the same rules.
    """
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
    return errors, found_subtypes


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


def national_networks(session: Session) -> list[NationalNetwork]:
    """The national partnerships a local partner may belong to (for the partner form)."""
    return list(session.scalars(select(NationalNetwork).order_by(NationalNetwork.name, NationalNetwork.code)))


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
    query = query.options(selectinload(Partner.territory_links), selectinload(Partner.contacts))
    return list(session.scalars(query.order_by(Partner.name, Partner.id)))


def get_partner(session: Session, actor: User, partner_id: int) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.id == partner_id, partner_filter(actor)))
    if partner is None:
        raise PartnerNotFound()
    return partner


def list_opportunities(
    session: Session,
    actor: User,
    *,
    status: str | None = None,
    domain: str | None = None,
    partner_id: int | None = None,
    territory_slug: str | None = None,
) -> list[Opportunity]:
    query = select(Opportunity).where(opportunity_filter(actor))
    if territory_slug:
        query = query.where(offered_in_territory(_territory(session, territory_slug).id))
    if status:
        query = query.where(Opportunity.status == OpportunityStatus(status))
    if domain:
        query = query.where(Opportunity.domain_code == domain)
    if partner_id is not None:
        query = query.where(Opportunity.partner_id == partner_id)
    # What the pages and the API show of each offer, loaded in a few queries rather than per row.
    query = query.options(
        selectinload(Opportunity.partner),
        selectinload(Opportunity.subtypes),
        selectinload(Opportunity.criteria),
    )
    return list(session.scalars(query.order_by(Opportunity.title, Opportunity.id)))


def get_opportunity(session: Session, actor: User, opportunity_id: int) -> Opportunity:
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, opportunity_filter(actor))
    )
    if opportunity is None:
        raise OpportunityNotFound()
    return opportunity


# =============================================================================================
# Who may act on the network (DESIGN §8)
# =============================================================================================

BUILDERS_ONLY = (
    "Seul·es les chargé·es de partenariats créent et modifient le réseau ; les coordinateur·rices "
    "et les CIP le consultent."
)


def _require_builder(actor: User) -> None:
    """CPs build their territory's network; the national team its national partnerships."""
    if actor.role not in (Role.CP, Role.ADMIN):
        raise NotThePartnerNetworkRole(BUILDERS_ONLY)


def _require_cp(actor: User, message: str) -> None:
    if actor.role is not Role.CP or actor.territory_id is None:
        raise NotThePartnerNetworkRole(message)


def _domain_label(session: Session, code: str) -> str:
    domain = session.get(Domain, code)
    return domain.label if domain is not None else code


def _check_domain(session: Session, actor: User, domain: str) -> None:
    """A CP acts on the offers of their own domains only (the CP santé does not publish housing)."""
    if actor.role is Role.CP and domain not in actor.domain_codes:
        raise OutsideYourDomains(_domain_label(session, domain))


def scoped_territory(session: Session, actor: User, slug: str) -> Territory:
    """The territory `slug` if the actor works in it (the national team: any); else 404."""
    territory = session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        raise TerritoryNotFound(slug)
    if actor.role is not Role.ADMIN and actor.scope_territory_id != territory.id:
        raise TerritoryNotFound(slug)
    return territory


def _own_territory(session: Session, actor: User) -> Territory:
    territory_id = actor.scope_territory_id
    territory = session.get(Territory, territory_id) if territory_id is not None else None
    if territory is None:
        raise PermissionDenied(
            "Cette action se fait dans un territoire : votre compte n'y est rattaché à aucun."
        )
    return territory


# =============================================================================================
# Partners: creating and editing (« fiche partenaire »)
# =============================================================================================

SIRET_LENGTH = 14
# La Poste's establishments share one SIREN and follow their own check rule (INSEE).
LA_POSTE_SIREN = "356000000"


def normalise_siret(value: str | None) -> str | None:
    """A SIRET as typed (« 130 030 133 00016 ») reduced to its digits; None when empty."""
    if value is None:
        return None
    compact = "".join(value.split())
    return compact or None


def siret_problem(siret: str) -> str | None:
    """Why `siret` is not a valid SIRET, in French (None when valid).

    A SIRET is 14 digits whose Luhn key is right (La Poste's: digits summing to a multiple of 5);
    checking the key catches most typing errors before they become a second partner.
    """
    if len(siret) != SIRET_LENGTH or not siret.isdigit():
        return "Le SIRET compte exactement 14 chiffres."
    if siret.startswith(LA_POSTE_SIREN):
        valid = sum(int(char) for char in siret) % 5 == 0
    else:
        total = 0
        for index, char in enumerate(reversed(siret)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        valid = total % 10 == 0
    if not valid:
        return "SIRET invalide : la clé de contrôle ne correspond pas (vérifiez les chiffres)."
    return None


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _clean_tags(tags: Iterable[Any] | None) -> list[str]:
    cleaned: list[str] = []
    for tag in tags or ():
        text = str(tag).strip()
        if text and text.casefold() not in {existing.casefold() for existing in cleaned}:
            cleaned.append(text)
    return cleaned


@dataclass
class _PartnerInput:
    columns: dict[str, Any]
    contacts: list[dict[str, Any]] | None
    # territory id → status, for the territories the actor may link (None: links unchanged).
    territories: dict[int, DeploymentStatus] | None


def _clean_partner(
    session: Session, actor: User | None, values: Mapping[str, Any], current: Partner | None
) -> _PartnerInput:
    """The partner's next values, checked; `actor` None is the command line (national team)."""
    errors: dict[str, list[str]] = {}
    columns: dict[str, Any] = {}

    if "name" in values or current is None:
        name = _text(values, "name")
        if not name:
            errors["name"] = ["Le nom du partenaire est obligatoire."]
        columns["name"] = name
    if "kind" in values or current is None:
        kind = _text(values, "kind")
        if kind is None:
            errors["kind"] = ["Choisissez le type de partenaire."]
        elif kind not in reference.code_set(session, "partner_kind"):
            errors["kind"] = [f"« {kind} » n'est pas un type de partenaire connu."]
        columns["kind"] = kind
    if "siret" in values:
        siret = normalise_siret(values.get("siret"))
        if siret is not None and (problem := siret_problem(siret)):
            errors["siret"] = [problem]
        columns["siret"] = siret
    if "postcode" in values:
        postcode = _text(values, "postcode")
        if postcode is not None and not (len(postcode) == 5 and postcode.isdigit()):
            errors["postcode"] = ["Le code postal compte 5 chiffres."]
        columns["postcode"] = postcode
    for name in ("address", "town", "description"):
        if name in values:
            columns[name] = _text(values, name)
    if "national_network" in values:
        code = _text(values, "national_network")
        if code is not None and session.get(NationalNetwork, code) is None:
            errors["national_network"] = [f"« {code} » n'est pas un partenariat national connu."]
        columns["national_network_code"] = code
    for name in ("convention_signed_on", "convention_ends_on"):
        if name in values:
            columns[name] = values.get(name)
    signed = columns.get("convention_signed_on", current.convention_signed_on if current else None)
    ends = columns.get("convention_ends_on", current.convention_ends_on if current else None)
    if signed is not None and ends is not None and ends < signed:
        errors["convention_ends_on"] = ["La convention ne peut pas finir avant d'être signée."]
    if "tags" in values:
        columns["tags"] = _clean_tags(values.get("tags"))

    contacts: list[dict[str, Any]] | None = None
    if "contacts" in values:
        contacts = []
        for index, item in enumerate(values.get("contacts") or []):
            contact = {name: _text(item, name) for name in ("name", "role", "email", "phone")}
            if not contact["name"]:
                errors[f"contacts.{index}.name"] = ["Le nom du contact est obligatoire."]
            elif contact["email"] is not None and "@" not in contact["email"]:
                errors[f"contacts.{index}.email"] = ["Adresse e-mail invalide."]
            contacts.append(contact)

    territories: dict[int, DeploymentStatus] | None = None
    if "territories" in values or (current is None and actor is not None and actor.role is Role.CP):
        territories = {}
        own_id = actor.territory_id if actor is not None and actor.role is Role.CP else None
        for index, link in enumerate(values.get("territories") or []):
            slug = str(link.get("slug", "")).strip()
            territory = session.scalar(select(Territory).where(Territory.slug == slug))
            try:
                status = DeploymentStatus(link.get("status") or DeploymentStatus.DEPLOYED.value)
            except ValueError:
                errors[f"territories.{index}.status"] = ["Statut inconnu (deployed ou in_discussion)."]
                continue
            if territory is None:
                errors[f"territories.{index}.slug"] = [f"« {slug} » n'est pas un territoire connu."]
            elif own_id is not None and territory.id != own_id:
                errors[f"territories.{index}.slug"] = [
                    "Un·e CP rattache un partenaire à son propre territoire seulement."
                ]
            else:
                territories[territory.id] = status
        if own_id is not None and current is None and own_id not in territories:
            # A CP's new partner belongs to their territory's network: that is why it is created.
            territories[own_id] = DeploymentStatus.DEPLOYED
    if errors:
        raise InvalidPartner("Le partenaire contient des données invalides.", errors=errors)
    return _PartnerInput(columns, contacts, territories)


def _apply_contacts(partner: Partner, contacts: list[dict[str, Any]]) -> None:
    """Update contacts in place, in order, so an unchanged contact writes nothing."""
    existing = list(partner.contacts)
    for index, values in enumerate(contacts):
        if index < len(existing):
            assign_changed(existing[index], **values)
        else:
            partner.contacts.append(PartnerContact(**values))
    for extra in existing[len(contacts) :]:
        partner.contacts.remove(extra)


def _apply_territories(
    partner: Partner, wanted: dict[int, DeploymentStatus], *, touchable: set[int] | None
) -> bool:
    """Bring the partner's territory links in line with `wanted`, only for `touchable` ids
    (None: all). Tells whether anything changed."""
    changed = False
    current = {link.territory_id: link for link in partner.territory_links}
    for territory_id, link in current.items():
        if touchable is not None and territory_id not in touchable:
            continue
        if territory_id not in wanted:
            partner.territory_links.remove(link)
            changed = True
        elif link.status != wanted[territory_id]:
            link.status = wanted[territory_id]
            changed = True
    for territory_id, status in wanted.items():
        if territory_id not in current:
            partner.territory_links.append(
                PartnerTerritory(territory_id=territory_id, status=status, since=date.today())
            )
            changed = True
    return changed


def create_partner(
    session: Session, actor: User, values: Mapping[str, Any], *, confirm_new: bool = False
) -> Partner:
    """A CP adds a partner to their territory's network (the national team: any territory).

    A likely duplicate is refused with its candidates (`LikelyDuplicatePartner`, 409): the same
    SIRET always, a close name in the same town unless the CP confirms it is another
    organisation (`confirm_new`).
    """
    _require_builder(actor)
    clean = _clean_partner(session, actor, values, None)
    candidates = find_partner_duplicates(
        session, name=clean.columns["name"], town=clean.columns.get("town"), siret=clean.columns.get("siret")
    )
    same_siret = [candidate for candidate in candidates if candidate.same_siret]
    if same_siret:
        raise LikelyDuplicatePartner(same_siret, same_siret=True)
    if candidates and not confirm_new:
        raise LikelyDuplicatePartner(candidates, same_siret=False)
    partner = Partner(created_by_id=actor.id, **({"tags": []} | clean.columns))
    session.add(partner)
    if clean.contacts:
        _apply_contacts(partner, clean.contacts)
    if clean.territories:
        _apply_territories(partner, clean.territories, touchable=None)
    session.flush()
    return partner


def update_partner(session: Session, actor: User, partner_id: int, values: Mapping[str, Any]) -> Partner:
    """A CP edits a partner of their territory (only their territory's link, never others')."""
    _require_builder(actor)
    partner = get_partner(session, actor, partner_id)
    clean = _clean_partner(session, actor, values, partner)
    siret = clean.columns.get("siret")
    if siret is not None and siret != partner.siret:
        other = queries.partner_with_siret(session, siret)
        if other is not None and other.id != partner.id:
            raise SiretAlreadyUsed(other.name)
    changed = assign_changed(partner, **clean.columns)
    if clean.contacts is not None:
        _apply_contacts(partner, clean.contacts)
    if clean.territories is not None:
        touchable = {actor.territory_id} if actor.role is Role.CP and actor.territory_id else None
        if _apply_territories(partner, clean.territories, touchable=touchable) and not changed:
            # The link table has no time of its own: the partner's moves, so the search index
            # and the meeting agenda see the change.
            partner.updated_at = utcnow()
    session.flush()
    return partner


# =============================================================================================
# Opportunities: creating, editing with history, and their states
# =============================================================================================

# French names of an offer's fields, for the history and the meeting agenda.
OPPORTUNITY_FIELD_LABELS: dict[str, str] = {
    "title": "titre",
    "domain": "domaine",
    "subtypes": "sous-thèmes",
    "description": "description",
    "capacity": "nombre de places",
    "answer_delay_days": "délai de réponse",
    "requires_cp_validation": "validation par le ou la CP",
    "valid_from": "début de validité",
    "valid_until": "fin de validité",
    "criteria": "critères d'orientation",
    "procedure": "procédure",
    "documents_required": "pièces demandées",
    "shared_categories": "données transmises",
    "tags": "mots-clés",
}
OFFER_FIELDS = tuple(OPPORTUNITY_FIELD_LABELS)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _criterion_state(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "field": item["field"],
        "op": item["op"],
        "value": item["value"],
        "hard": bool(item.get("hard", True)),
        "weight": float(item.get("weight", 1.0)),
    }


def offer_state(offer: Opportunity) -> dict[str, Any]:
    """An offer's editable content as plain JSON values: the snapshot kept in its history."""
    return {
        "title": offer.title,
        "domain": offer.domain_code,
        "subtypes": [subtype.code for subtype in offer.subtypes],
        "description": offer.description,
        "capacity": offer.capacity,
        "answer_delay_days": offer.answer_delay_days,
        "requires_cp_validation": offer.requires_cp_validation,
        "valid_from": _iso(offer.valid_from),
        "valid_until": _iso(offer.valid_until),
        "criteria": [
            _criterion_state(
                {"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight}
            )
            for c in offer.criteria
        ],
        "procedure": offer.procedure,
        "documents_required": list(offer.documents_required or []),
        "shared_categories": list(offer.shared_categories or []),
        "tags": list(offer.tags or []),
    }


BLANK_OFFER: dict[str, Any] = {
    "title": None,
    "domain": None,
    "subtypes": [],
    "description": None,
    "capacity": 1,
    "answer_delay_days": 30,
    "requires_cp_validation": True,
    "valid_from": None,
    "valid_until": None,
    "criteria": [],
    "procedure": None,
    "documents_required": [],
    "shared_categories": [],
    "tags": [],
}


def _next_offer_state(
    session: Session, values: Mapping[str, Any], current: Opportunity | None
) -> tuple[dict[str, Any], list[DomainSubtype]]:
    """The offer as it would be after `values`, checked as a whole (dates, places, codes)."""
    state = offer_state(current) if current is not None else dict(BLANK_OFFER)
    for name in OFFER_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in ("valid_from", "valid_until"):
            value = _iso(value)
        elif name in ("title", "description", "procedure"):
            value = _text(values, name)
        elif name in ("documents_required", "tags"):
            value = _clean_tags(value)
        elif name in ("subtypes", "shared_categories"):
            value = list(dict.fromkeys(value or []))
        elif name == "criteria":
            value = [dict(item) for item in value or []]
        state[name] = value

    errors: dict[str, list[str]] = {}
    if not state["title"]:
        errors["title"] = ["Le titre de l'opportunité est obligatoire."]
    elif len(state["title"]) > 200:
        errors["title"] = ["Au plus 200 caractères."]
    if not state["domain"]:
        errors["domain"] = ["Choisissez le domaine de l'opportunité."]
    capacity = state["capacity"]
    taken = current.places_taken if current is not None else 0
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        errors["capacity"] = ["Le nombre de places est un entier positif ou nul."]
    elif capacity < taken:
        errors["capacity"] = [
            f"{taken} place(s) sont déjà prises : la capacité ne peut pas descendre en dessous."
        ]
    delay = state["answer_delay_days"]
    if not isinstance(delay, int) or isinstance(delay, bool) or not 1 <= delay <= 365:
        errors["answer_delay_days"] = ["Le délai de réponse est compris entre 1 et 365 jours."]
    if state["valid_from"] and state["valid_until"] and state["valid_until"] < state["valid_from"]:
        errors["valid_until"] = ["La fin de validité ne peut pas précéder son début."]
    for index, item in enumerate(state["criteria"]):
        if not isinstance(item, Mapping) or "field" not in item or "op" not in item or "value" not in item:
            errors[f"criteria.{index}"] = ["Un critère a un champ, un opérateur et une valeur."]
            continue
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 10:
            errors[f"criteria.{index}.weight"] = ["Le poids est compris entre 0 et 10."]
    well_formed = [item for index, item in enumerate(state["criteria"]) if f"criteria.{index}" not in errors]
    found_subtypes: list[DomainSubtype] = []
    if state["domain"]:
        coded_errors, found_subtypes = _offer_errors(
            session,
            domain=state["domain"],
            subtypes=state["subtypes"],
            shared_categories=state["shared_categories"],
            criteria=well_formed,
        )
        # Criteria messages are numbered over the well-formed ones: map them back.
        positions = [index for index, _ in enumerate(state["criteria"]) if f"criteria.{index}" not in errors]
        for key, messages in coded_errors.items():
            if key.startswith("criteria."):
                errors[f"criteria.{positions[int(key.split('.')[1])]}"] = messages
            else:
                errors[key] = messages
    if errors:
        raise InvalidOpportunity("L'opportunité contient des données invalides.", errors=errors)
    state["criteria"] = [_criterion_state(item) for item in state["criteria"]]
    return state, found_subtypes


def _apply_offer_state(offer: Opportunity, state: Mapping[str, Any], subtypes: list[DomainSubtype]) -> None:
    assign_changed(
        offer,
        title=state["title"],
        domain_code=state["domain"],
        description=state["description"],
        capacity=state["capacity"],
        answer_delay_days=state["answer_delay_days"],
        requires_cp_validation=state["requires_cp_validation"],
        valid_from=date.fromisoformat(state["valid_from"]) if state["valid_from"] else None,
        valid_until=date.fromisoformat(state["valid_until"]) if state["valid_until"] else None,
        procedure=state["procedure"],
        documents_required=list(state["documents_required"]),
        shared_categories=list(state["shared_categories"]),
        tags=list(state["tags"]),
    )
    if [s.code for s in offer.subtypes] != [s.code for s in subtypes]:
        offer.subtypes = subtypes
    current = [
        _criterion_state({"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight})
        for c in offer.criteria
    ]
    if current != list(state["criteria"]):
        offer.criteria = [
            Criterion(position=position, **item) for position, item in enumerate(state["criteria"])
        ]


def _managed_offer(session: Session, actor: User, opportunity_id: int) -> Opportunity:
    """The offer, if `actor` may change it: a CP of its territory and domain, or the national team
    for a national offer (no territory). Out-of-scope offers answer 404, like missing ones."""
    _require_builder(actor)
    offer = get_opportunity(session, actor, opportunity_id)
    if actor.role is Role.CP:
        if offer.territory_id != actor.territory_id:
            raise PermissionDenied(
                "Cette opportunité d'un partenariat national est gérée par Convergence France : "
                "vous pouvez la consulter et y orienter, pas la modifier."
            )
        _check_domain(session, actor, offer.domain_code)
    elif offer.territory_id is not None:
        raise PermissionDenied(
            "Les opportunités d'un territoire sont gérées par ses chargé·es de partenariats."
        )
    return offer


def create_opportunity(session: Session, actor: User, values: Mapping[str, Any]) -> Opportunity:
    """A CP writes a new offer of a partner of their territory, in one of their domains, as a
    draft (« brouillon »): nobody but the territory's staff sees it until it is published."""
    _require_builder(actor)
    partner_id = values.get("partner_id")
    partner = session.scalar(select(Partner).where(Partner.id == partner_id, partner_filter(actor)))
    if partner is None:
        raise InvalidOpportunity(
            "Partenaire inconnu ou hors de votre territoire.",
            errors={"partner_id": ["Choisissez un partenaire de votre territoire."]},
        )
    if actor.role is Role.ADMIN and partner.national_network_code is None:
        raise PermissionDenied(
            "Les opportunités d'un partenaire local sont publiées par les CP de son territoire ; "
            "l'équipe nationale publie celles des partenariats nationaux."
        )
    domain = values.get("domain")
    if isinstance(domain, str) and domain:
        _check_domain(session, actor, domain)
    state, subtypes = _next_offer_state(session, values, None)
    offer = Opportunity(
        partner_id=partner.id,
        territory_id=actor.territory_id if actor.role is Role.CP else None,
        status=OpportunityStatus.DRAFT,
        places_taken=0,
        version=1,
        created_by_id=actor.id,
    )
    session.add(offer)
    _apply_offer_state(offer, state, subtypes)
    session.flush()
    return offer


def _claim_version(session: Session, offer: Opportunity, expected: int | None) -> None:
    """Optimistic lock: move the offer from the version the caller saw to the next one.

    The compare-and-set runs in the database (``UPDATE … WHERE version = :seen``): of two
    concurrent edits from the same version, the second finds no row and is refused, instead of
    silently overwriting the first.
    """
    seen = offer.version if expected is None else expected
    if seen != offer.version:
        raise StaleVersion(seen, offer.version)
    result = session.execute(
        update(Opportunity)
        .where(Opportunity.id == offer.id, Opportunity.version == seen)
        .values(version=seen + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = session.scalar(select(Opportunity.version).where(Opportunity.id == offer.id))
        raise StaleVersion(seen, int(current or seen))
    set_committed_value(offer, "version", seen + 1)


def _keep_revision(
    session: Session, actor: User | None, offer: Opportunity, action: str, changed: Sequence[str]
) -> None:
    """Store the offer as it was before a change, once it has been published (drafts have no
    history: nobody relied on them)."""
    session.add(
        OpportunityRevision(
            opportunity_id=offer.id,
            version=offer.version,
            revised_by_id=actor.id if actor is not None else None,
            snapshot={
                "action": action,
                "changed": list(changed),
                "status": offer.status.value,
                "state": offer_state(offer),
            },
        )
    )


def update_opportunity(
    session: Session, actor: User, opportunity_id: int, values: Mapping[str, Any], *, version: int
) -> Opportunity:
    """A CP edits an offer, naming the `version` they edited (409 if someone changed it since).

    Editing a published (or paused) offer first stores its previous state, so CIPs and the next
    meeting can see what changed. A closed offer is not edited any more.
    """
    offer = _managed_offer(session, actor, opportunity_id)
    if offer.status is OpportunityStatus.CLOSED:
        raise OpportunityTransitionRefused(
            "Une opportunité clôturée ne se modifie plus : créez-en une nouvelle si l'offre reprend."
        )
    if version != offer.version:
        raise StaleVersion(version, offer.version)
    new_domain = values.get("domain")
    if isinstance(new_domain, str) and new_domain and new_domain != offer.domain_code:
        _check_domain(session, actor, new_domain)
    before = offer_state(offer)
    state, subtypes = _next_offer_state(session, values, offer)
    changed = [name for name in OFFER_FIELDS if state[name] != before[name]]
    if not changed:
        return offer
    if offer.status is not OpportunityStatus.DRAFT:
        _keep_revision(session, actor, offer, "edit", changed)
    _claim_version(session, offer, version)
    _apply_offer_state(offer, state, subtypes)
    session.flush()
    return offer


@dataclass(frozen=True)
class OfferTransition:
    """One action of the offer's lifecycle: from which states, to which."""

    action: str
    verb: str  # French infinitive, for buttons: « publier »
    done: str  # French past participle, for messages: « publiée »
    sources: tuple[OpportunityStatus, ...]
    target: OpportunityStatus


OFFER_TRANSITIONS: dict[str, OfferTransition] = {
    transition.action: transition
    for transition in (
        OfferTransition(
            "publish",
            "publier",
            "publiée",
            (OpportunityStatus.DRAFT, OpportunityStatus.PAUSED),
            OpportunityStatus.PUBLISHED,
        ),
        OfferTransition(
            "pause", "suspendre", "suspendue", (OpportunityStatus.PUBLISHED,), OpportunityStatus.PAUSED
        ),
        OfferTransition(
            "close",
            "clôturer",
            "clôturée",
            (OpportunityStatus.DRAFT, OpportunityStatus.PUBLISHED, OpportunityStatus.PAUSED),
            OpportunityStatus.CLOSED,
        ),
    )
}


def allowed_offer_actions(offer: Opportunity) -> list[OfferTransition]:
    """The actions the offer's state allows (for the page's buttons; the service still checks)."""
    return [transition for transition in OFFER_TRANSITIONS.values() if offer.status in transition.sources]


def _publish_guards(offer: Opportunity, today: date) -> list[str]:
    problems = []
    if offer.valid_until is not None and offer.valid_until < today:
        problems.append("Sa fin de validité est passée : prolongez-la avant de la publier.")
    if offer.capacity < 1:
        problems.append("Elle n'a aucune place : indiquez au moins une place avant de la publier.")
    return problems


def transition_opportunity(
    session: Session, actor: User, opportunity_id: int, action: str, *, version: int | None = None
) -> Opportunity:
    """Publish, pause or close an offer (« publier », « suspendre », « clôturer »).

    The allowed source states are the `OFFER_TRANSITIONS` table; any other move is refused with
    a French message and changes nothing. Referrals under way continue; a paused or closed offer
    takes no new one (DESIGN §7).
    """
    transition = OFFER_TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInput(
            f"Action inconnue : « {action} ».",
            errors={"action": [f"Actions possibles : {', '.join(OFFER_TRANSITIONS)}."]},
        )
    offer = _managed_offer(session, actor, opportunity_id)
    if offer.status not in transition.sources:
        sources = " ou ".join(f"« {status.label} »" for status in transition.sources)
        raise OpportunityTransitionRefused(
            f"Cette opportunité est à l'état « {offer.status.label} » : elle ne peut pas être "
            f"{transition.done}. Seule une opportunité à l'état {sources} peut l'être."
        )
    if transition.target is OpportunityStatus.PUBLISHED:
        problems = _publish_guards(offer, date.today())
        if problems:
            raise OpportunityTransitionRefused(
                "Cette opportunité ne peut pas être publiée. " + " ".join(problems)
            )
    if offer.status is not OpportunityStatus.DRAFT:
        _keep_revision(session, actor, offer, action, [])
    _claim_version(session, offer, version)
    offer.status = transition.target
    if transition.target is OpportunityStatus.PUBLISHED and offer.published_at is None:
        offer.published_at = utcnow()
    session.flush()
    return offer


REVISION_ACTIONS = {
    "edit": "Modifiée",
    "publish": "Republiée",
    "pause": "Suspendue",
    "close": "Clôturée",
}


@dataclass(frozen=True)
class RevisionView:
    """One line of an offer's history: what it was before the change, who changed it, when."""

    version: int
    revised_at: datetime
    revised_by: str | None
    action: str
    action_label: str
    changed_labels: list[str]
    before: dict[str, Any]


def opportunity_history(session: Session, actor: User, opportunity_id: int) -> list[RevisionView]:
    """The offer's changes since its first publication, newest first (readers of the offer)."""
    offer = get_opportunity(session, actor, opportunity_id)
    revisions = list(
        session.scalars(
            select(OpportunityRevision)
            .where(OpportunityRevision.opportunity_id == offer.id)
            .order_by(OpportunityRevision.revised_at.desc(), OpportunityRevision.id.desc())
        )
    )
    user_ids = {revision.revised_by_id for revision in revisions if revision.revised_by_id is not None}
    names = (
        {user.id: user.full_name for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    views = []
    for revision in revisions:
        snapshot = revision.snapshot or {}
        action = snapshot.get("action", "edit")
        views.append(
            RevisionView(
                version=revision.version,
                revised_at=revision.revised_at,
                revised_by=names.get(revision.revised_by_id) if revision.revised_by_id else None,
                action=action,
                action_label=REVISION_ACTIONS.get(action, action),
                changed_labels=[
                    OPPORTUNITY_FIELD_LABELS.get(name, name) for name in snapshot.get("changed", [])
                ],
                before=snapshot.get("state", {}),
            )
        )
    return views


def describe_criterion(item: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """« Situation de logement parmi CHRS, rue (obligatoire) » — for pages, the agenda, exports.

    `labels` maps a reference list (``housing_status``…) to its codes' French labels, so that a
    social worker reads « Centre d'hébergement d'urgence (CHU) » rather than « chu ».
    """
    spec = FIELDS.get(str(item.get("field")))
    label = spec.label if spec is not None else str(item.get("field"))
    op = OPERATORS.get(str(item.get("op")), str(item.get("op")))
    codes = (labels or {}).get(spec.reference_list or "", {}) if spec is not None else {}
    if spec is not None and spec.code == "has_need":
        codes = (labels or {}).get("need", {})

    def shown_value(value: Any) -> str:
        if isinstance(value, bool):
            return "oui" if value else "non"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return codes.get(value, str(value)) if isinstance(value, str) else str(value)

    value = item.get("value")
    if isinstance(value, list):
        joiner = " et " if item.get("op") == "between" else ", "
        shown = joiner.join(shown_value(part) for part in value)
    else:
        shown = shown_value(value)
    unit = f" {spec.unit}" if spec is not None and spec.unit and not isinstance(value, bool) else ""
    kind = (
        "obligatoire" if item.get("hard", True) else f"préférence, poids {float(item.get('weight', 1.0)):g}"
    )
    return f"{label} {op} {shown}{unit} ({kind})"


def criterion_labels(session: Session) -> dict[str, dict[str, str]]:
    """French labels of the codes a criterion may name, per reference list (for `describe_criterion`)."""
    labels = {
        name: reference.labels(session, name)
        for name in ("residence_status", "housing_status", "health_coverage", "language_level")
    }
    labels["programme"] = {programme.value: programme.label for programme in Programme}
    labels["territory"] = {
        row.slug: row.name for row in session.execute(select(Territory.slug, Territory.name))
    }
    needs = {domain.code: domain.label for domain in reference.domains(session)}
    for row in session.execute(select(DomainSubtype.code, DomainSubtype.label)):
        needs[row.code] = row.label
    labels["need"] = needs
    return labels


# =============================================================================================
# Mutualisation meetings (« réunion de mutualisation »)
# =============================================================================================

# Without an earlier meeting, the first agenda looks this far back.
FIRST_MEETING_LOOKBACK = timedelta(days=90)
# An offer ending within this many days of the meeting is flagged as closing soon.
CLOSING_SOON_DAYS = 30
PARIS = ZoneInfo("Europe/Paris")


def _readable_territory_ids(actor: User) -> set[int] | None:
    """Territories whose network `actor` may read (None: all, for the national team)."""
    if actor.role is Role.ADMIN:
        return None
    territory_id = actor.scope_territory_id
    return {territory_id} if territory_id is not None else set()


def _may_read_territory(actor: User, territory_id: int) -> bool:
    readable = _readable_territory_ids(actor)
    return readable is None or territory_id in readable


def list_meetings(session: Session, actor: User, territory_slug: str) -> list[NetworkMeeting]:
    """The territory's meetings, newest first (everyone working in the territory reads them)."""
    territory = scoped_territory(session, actor, territory_slug)
    return queries.meetings_of_territory(session, territory.id)


def get_meeting(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    meeting = session.get(NetworkMeeting, meeting_id)
    if meeting is None or not _may_read_territory(actor, meeting.territory_id):
        raise MeetingNotFound()
    return meeting


def _editable_meeting(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    meeting = get_meeting(session, actor, meeting_id)
    _require_cp(actor, "Les réunions de mutualisation sont préparées par les chargé·es de partenariats.")
    if meeting.territory_id != actor.territory_id:
        raise MeetingNotFound()
    return meeting


def _attendees(session: Session, territory_id: int, user_ids: Iterable[int]) -> list[User]:
    wanted = list(dict.fromkeys(user_ids))
    members = {user.id: user for user in queries.territory_members(session, territory_id)}
    unknown = [user_id for user_id in wanted if user_id not in members]
    if unknown:
        raise InvalidInput(
            "Certain·es participant·es ne travaillent pas sur ce territoire.",
            errors={
                "attendee_ids": [f"Compte inconnu sur ce territoire : {user_id}." for user_id in unknown]
            },
        )
    return [members[user_id] for user_id in wanted]


def _meeting_values(values: Mapping[str, Any], current: NetworkMeeting | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "title" in values or current is None:
        title = _text(values, "title")
        if not title:
            errors["title"] = ["Le titre de la réunion est obligatoire."]
        clean["title"] = title
    if "held_at" in values or current is None:
        held_at = values.get("held_at")
        if not isinstance(held_at, datetime) or held_at.tzinfo is None:
            errors["held_at"] = ["Date et heure de la réunion obligatoires (avec fuseau horaire)."]
        else:
            held_at = held_at.astimezone(UTC)
        clean["held_at"] = held_at
    for name in ("place", "other_attendees", "minutes"):
        if name in values:
            clean[name] = _text(values, name)
    if errors:
        raise InvalidInput("La réunion contient des données invalides.", errors=errors)
    return clean


def create_meeting(
    session: Session, actor: User, territory_slug: str, values: Mapping[str, Any]
) -> NetworkMeeting:
    """A CP schedules the territory's next meeting; its agenda is built at once from what
    changed since the previous one (and can be rebuilt until the day)."""
    _require_cp(actor, "Les réunions de mutualisation sont préparées par les chargé·es de partenariats.")
    territory = scoped_territory(session, actor, territory_slug)
    clean = _meeting_values(values, None)
    clean.pop("minutes", None)
    meeting = NetworkMeeting(territory_id=territory.id, created_by_id=actor.id, **clean)
    meeting.attendees = _attendees(session, territory.id, values.get("attendee_ids") or [])
    session.add(meeting)
    session.flush()
    _store_built_agenda(session, meeting)
    return meeting


def update_meeting(
    session: Session, actor: User, meeting_id: int, values: Mapping[str, Any]
) -> NetworkMeeting:
    """Date, place, attendees, and the minutes (« compte rendu ») after the meeting."""
    meeting = _editable_meeting(session, actor, meeting_id)
    clean = _meeting_values(values, meeting)
    assign_changed(meeting, **clean)
    if "attendee_ids" in values:
        attendees = _attendees(session, meeting.territory_id, values.get("attendee_ids") or [])
        if [user.id for user in meeting.attendees] != [user.id for user in attendees]:
            meeting.attendees = attendees
    session.flush()
    return meeting


def add_agenda_item(session: Session, actor: User, meeting_id: int, values: Mapping[str, Any]) -> AgendaItem:
    """A CP adds a point of their own after the built ones."""
    meeting = _editable_meeting(session, actor, meeting_id)
    title = _text(values, "title")
    if not title:
        raise InvalidInput(
            "Le point d'ordre du jour a besoin d'un titre.", errors={"title": ["Titre obligatoire."]}
        )
    position = max((item.position for item in meeting.agenda_items), default=0) + 1
    item = AgendaItem(
        position=position,
        source=AgendaItemSource.ADDED,
        title=title[:255],
        body=_text(values, "body"),
        subject={},
    )
    meeting.agenda_items.append(item)
    session.flush()
    return item


def rebuild_agenda(session: Session, actor: User, meeting_id: int) -> NetworkMeeting:
    """Rebuild the built part of the agenda with what changed up to now; added points stay."""
    meeting = _editable_meeting(session, actor, meeting_id)
    _store_built_agenda(session, meeting)
    return meeting


@dataclass(frozen=True)
class AgendaLine:
    title: str
    body: str | None
    subject: dict[str, Any]


@dataclass(frozen=True)
class AgendaPeriod:
    since: datetime
    until: datetime
    previous: NetworkMeeting | None


def agenda_period(session: Session, meeting: NetworkMeeting) -> AgendaPeriod:
    """From the previous meeting of the territory (or 90 days back) to this meeting's time."""
    previous = queries.previous_meeting(session, meeting)
    since = previous.held_at if previous is not None else meeting.held_at - FIRST_MEETING_LOOKBACK
    return AgendaPeriod(since=since, until=meeting.held_at, previous=previous)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)


def _offer_summary(session: Session, offer: Opportunity) -> str:
    parts = [
        f"{_domain_label(session, offer.domain_code)}",
        f"{offer.places_left} place(s) sur {offer.capacity}",
    ]
    parts.append("validation par le ou la CP" if offer.requires_cp_validation else "orientation directe")
    if offer.valid_until is not None:
        parts.append(f"jusqu'au {offer.valid_until:%d/%m/%Y}")
    return f"{offer.partner.name} — " + " · ".join(parts) + "."


STATUS_CHANGE_TITLES = {
    OpportunityStatus.PUBLISHED: "Opportunité de nouveau publiée",
    OpportunityStatus.PAUSED: "Opportunité suspendue",
    OpportunityStatus.CLOSED: "Opportunité clôturée",
}


def build_agenda_lines(session: Session, meeting: NetworkMeeting) -> list[AgendaLine]:
    """What the territory's network did since the previous meeting, as agenda points.

    New offers, edited ones (with what changed), paused or closed ones, those closing soon or
    full, new partners, and referrals per partner with the partner's answer rate.
    """
    period = agenda_period(session, meeting)
    territory_id = meeting.territory_id
    lines: list[AgendaLine] = []

    new_offers = queries.opportunities_first_published_between(
        session, territory_id, period.since, period.until
    )
    new_ids = {offer.id for offer in new_offers}
    for offer in new_offers:
        lines.append(
            AgendaLine(
                f"Nouvelle opportunité : {offer.title}",
                _offer_summary(session, offer),
                {"kind": "opportunity", "id": offer.id, "change": "new"},
            )
        )

    edited: dict[int, tuple[Opportunity, list[str]]] = {}
    moved: dict[int, Opportunity] = {}
    for revision in queries.revisions_between(session, territory_id, period.since, period.until):
        offer = revision.opportunity
        if offer.id in new_ids:
            continue
        action = (revision.snapshot or {}).get("action", "edit")
        if action == "edit":
            fields = edited.setdefault(offer.id, (offer, []))[1]
            fields.extend(name for name in revision.snapshot.get("changed", []) if name not in fields)
        else:
            moved[offer.id] = offer
    for offer, fields in edited.values():
        labels = ", ".join(OPPORTUNITY_FIELD_LABELS.get(name, name) for name in fields)
        lines.append(
            AgendaLine(
                f"Opportunité modifiée : {offer.title}",
                f"{offer.partner.name} — modifié : {labels}.",
                {"kind": "opportunity", "id": offer.id, "change": "edited", "fields": fields},
            )
        )
    for offer in moved.values():
        lines.append(
            AgendaLine(
                f"{STATUS_CHANGE_TITLES[offer.status]} : {offer.title}"
                if offer.status in STATUS_CHANGE_TITLES
                else f"Opportunité : {offer.title}",
                f"{offer.partner.name} — état actuel : {offer.status.label}.",
                {"kind": "opportunity", "id": offer.id, "change": "status", "status": offer.status.value},
            )
        )

    meeting_day = _local(period.until).date()
    for offer in queries.opportunities_closing_or_full(
        session, territory_id, meeting_day, meeting_day + timedelta(days=CLOSING_SOON_DAYS)
    ):
        if offer.places_left <= 0:
            title, change = f"Opportunité complète : {offer.title}", "full"
            body = f"{offer.partner.name} — les {offer.capacity} place(s) sont prises."
        else:
            title, change = f"Opportunité bientôt close : {offer.title}", "closing"
            body = f"{offer.partner.name} — fin de validité le {offer.valid_until:%d/%m/%Y}."
        lines.append(AgendaLine(title, body, {"kind": "opportunity", "id": offer.id, "change": change}))

    new_partners = queries.partners_added_between(session, territory_id, period.since, period.until)
    if new_partners:
        kinds = reference.labels(session, "partner_kind")
        lines.append(
            AgendaLine(
                f"Nouveaux partenaires ({len(new_partners)})",
                "\n".join(
                    f"{partner.name} — {kinds.get(partner.kind, partner.kind)}"
                    + (f" ({partner.town})" if partner.town else "")
                    for partner in new_partners
                ),
                {"kind": "partners", "ids": [partner.id for partner in new_partners]},
            )
        )

    stats = queries.referral_stats_by_partner(session, territory_id, period.since, period.until)
    if stats:
        body_lines = []
        for item in stats:
            rate = f"{round(100 * item.answer_rate)} %" if item.answer_rate is not None else "—"
            body_lines.append(
                f"{item.partner_name} : {item.created} nouvelle(s) orientation(s), {item.sent} transmise(s), "
                f"{item.answered} réponse(s) (taux de réponse {rate})"
            )
        lines.append(
            AgendaLine(
                "Orientations et réponses des partenaires",
                "\n".join(body_lines),
                {
                    "kind": "referral_stats",
                    "partners": [
                        {
                            "partner_id": item.partner_id,
                            "partner_name": item.partner_name,
                            "created": item.created,
                            "sent": item.sent,
                            "answered": item.answered,
                            "answer_rate": item.answer_rate,
                        }
                        for item in stats
                    ],
                },
            )
        )
    return lines


def _store_built_agenda(session: Session, meeting: NetworkMeeting) -> None:
    """Replace the built points by fresh ones (numbered first); points added by CPs follow."""
    lines = build_agenda_lines(session, meeting)
    added = [item for item in meeting.agenda_items if item.source is AgendaItemSource.ADDED]
    for item in [item for item in meeting.agenda_items if item.source is AgendaItemSource.BUILT]:
        meeting.agenda_items.remove(item)
    # Positions are unique per meeting: park the added points out of the way before renumbering.
    for index, item in enumerate(added):
        item.position = -(index + 1)
    session.flush()
    for position, line in enumerate(lines, start=1):
        meeting.agenda_items.append(
            AgendaItem(
                position=position,
                source=AgendaItemSource.BUILT,
                title=line.title[:255],
                body=line.body,
                subject=line.subject,
            )
        )
    for index, item in enumerate(added):
        item.position = len(lines) + index + 1
    meeting.agenda_built_at = utcnow()
    session.flush()
    session.expire(meeting, ["agenda_items"])


@dataclass(frozen=True)
class Agenda:
    meeting: NetworkMeeting
    period: AgendaPeriod
    items: list[AgendaItem]


def meeting_agenda(session: Session, actor: User, meeting_id: int) -> Agenda:
    meeting = get_meeting(session, actor, meeting_id)
    return Agenda(meeting=meeting, period=agenda_period(session, meeting), items=list(meeting.agenda_items))


def territory_members(session: Session, actor: User, territory_slug: str) -> list[User]:
    """People who may attend the territory's meetings (for the attendees' checkboxes)."""
    territory = scoped_territory(session, actor, territory_slug)
    return queries.territory_members(session, territory.id)


# =============================================================================================
# Office hours (« permanences »): a CP's slots, booked by CIPs about a participant
# =============================================================================================


@dataclass(frozen=True)
class OfficeHourView:
    """A slot as `viewer` may see it: the participant named only where the rules allow."""

    slot: OfficeHour
    cp_name: str
    booked_by_name: str | None
    participant_label: str | None
    participant_named: bool
    booked_by_viewer: bool
    owned_by_viewer: bool


def pseudonym(participant: Participant) -> str:
    """« C. T. · 3F9A0B »: initials and a digest of the id, so a CP can recognise the same
    person from one slot to the next without learning who they are."""
    initials = " ".join(
        f"{name.strip()[:1].upper()}." for name in (participant.first_name, participant.last_name)
    )
    digest = hashlib.sha256(f"participant:{participant.id}".encode()).hexdigest()[:6].upper()
    return f"{initials} · {digest}"


def _office_hour_views(session: Session, actor: User, slots: Sequence[OfficeHour]) -> list[OfficeHourView]:
    user_ids = {slot.cp_id for slot in slots} | {slot.booked_by_id for slot in slots if slot.booked_by_id}
    users = (
        {user.id: user for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    participant_ids = [slot.participant_id for slot in slots if slot.participant_id is not None]
    people = (
        {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(participant_ids)))}
        if participant_ids
        else {}
    )
    # Consent to share « identité et situation » with CPs, in force on the slot's (Paris) day.
    consented: set[tuple[int, date]] = set()
    if actor.role is Role.CP:
        by_day: dict[date, list[int]] = {}
        for slot in slots:
            if slot.participant_id is not None:
                by_day.setdefault(_local(slot.starts_at).date(), []).append(slot.participant_id)
        for day, ids in by_day.items():
            consented |= {(person_id, day) for person_id in queries.cp_may_see_situation(session, ids, day)}
    own_people: set[int] = set()
    if actor.role is Role.CIP and participant_ids:
        own_people = set(
            session.scalars(
                select(Participant.id).where(Participant.id.in_(participant_ids), participant_filter(actor))
            )
        )
    views = []
    for slot in slots:
        person = people.get(slot.participant_id) if slot.participant_id is not None else None
        label, named = None, False
        if person is not None:
            if person.id in own_people:
                named = True
            elif actor.role is Role.CP:
                named = (person.id, _local(slot.starts_at).date()) in consented
            label = f"{person.first_name} {person.last_name}" if named else pseudonym(person)
        views.append(
            OfficeHourView(
                slot=slot,
                cp_name=users[slot.cp_id].full_name if slot.cp_id in users else "—",
                booked_by_name=users[slot.booked_by_id].full_name if slot.booked_by_id in users else None,
                participant_label=label,
                participant_named=named,
                booked_by_viewer=slot.booked_by_id == actor.id,
                owned_by_viewer=slot.cp_id == actor.id,
            )
        )
    return views


def list_office_hours(
    session: Session, actor: User, territory_slug: str, *, upcoming_only: bool = False
) -> list[OfficeHourView]:
    """The territory's slots: all of them for its staff; for a CIP, the free upcoming ones and
    their own bookings. Coordinators and the national team never see a participant's name."""
    territory = scoped_territory(session, actor, territory_slug)
    query = select(OfficeHour).where(OfficeHour.territory_id == territory.id)
    now = utcnow()
    if upcoming_only:
        query = query.where(OfficeHour.ends_at >= now)
    if actor.role is Role.CIP:
        query = query.where(
            ((OfficeHour.booked_by_id.is_(None)) & (OfficeHour.starts_at > now))
            | (OfficeHour.booked_by_id == actor.id)
        )
    slots = list(session.scalars(query.order_by(OfficeHour.starts_at, OfficeHour.id)))
    return _office_hour_views(session, actor, slots)


def office_hour_view(session: Session, actor: User, slot_id: int) -> OfficeHourView:
    slot = _office_hour(session, actor, slot_id)
    if actor.role is Role.CIP and slot.booked_by_id not in (None, actor.id):
        raise OfficeHourNotFound()
    return _office_hour_views(session, actor, [slot])[0]


def _office_hour(session: Session, actor: User, slot_id: int) -> OfficeHour:
    slot = session.get(OfficeHour, slot_id)
    if slot is None or not _may_read_territory(actor, slot.territory_id):
        raise OfficeHourNotFound()
    return slot


def publish_office_hour(session: Session, actor: User, values: Mapping[str, Any]) -> OfficeHour:
    """A CP opens a slot of their permanence, in the future, not overlapping their others."""
    _require_cp(actor, "Seul·es les chargé·es de partenariats proposent des permanences.")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    errors: dict[str, list[str]] = {}
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = ["Début obligatoire (date et heure)."]
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = ["Fin obligatoire (date et heure)."]
    if not errors:
        if ends_at <= starts_at:
            errors["ends_at"] = ["La fin du créneau doit suivre son début."]
        elif ends_at - starts_at > timedelta(hours=8):
            errors["ends_at"] = ["Un créneau dure au plus 8 heures."]
        if starts_at <= utcnow():
            errors["starts_at"] = ["Un créneau se propose dans le futur."]
    if errors:
        raise InvalidInput("Le créneau de permanence est invalide.", errors=errors)
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    overlapping = session.scalar(
        select(OfficeHour)
        .where(OfficeHour.cp_id == actor.id, OfficeHour.starts_at < ends_at, OfficeHour.ends_at > starts_at)
        .order_by(OfficeHour.starts_at)
        .limit(1)
    )
    if overlapping is not None:
        start = _local(overlapping.starts_at)
        raise OfficeHourUnavailable(
            f"Vous avez déjà un créneau qui chevauche celui-ci (le {start:%d/%m/%Y à %H:%M}).",
            errors={"starts_at": ["Chevauche un autre de vos créneaux."]},
        )
    slot = OfficeHour(
        territory_id=actor.territory_id,
        cp_id=actor.id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=_text(values, "place"),
    )
    session.add(slot)
    session.flush()
    return slot


def withdraw_office_hour(session: Session, actor: User, slot_id: int) -> None:
    """A CP removes one of their slots nobody has booked."""
    slot = _office_hour(session, actor, slot_id)
    if slot.cp_id != actor.id:
        raise PermissionDenied("Seul·e la ou le CP qui propose ce créneau peut le retirer.")
    if slot.booked_by_id is not None:
        raise OfficeHourUnavailable(
            "Ce créneau est réservé : la ou le CIP doit d'abord annuler sa réservation."
        )
    session.delete(slot)
    session.flush()


def book_office_hour(session: Session, actor: User, slot_id: int, values: Mapping[str, Any]) -> OfficeHour:
    """A CIP books a free upcoming slot about one of their structure's participants.

    The booking is a compare-and-set in the database, so two CIPs clicking the same slot at
    once cannot both get it.
    """
    from referral.audit.models import AuditAction
    from referral.audit.services import record

    if actor.role is not Role.CIP:
        raise PermissionDenied("Les permanences se réservent par les CIP, au sujet d'un·e salarié·e.")
    slot = _office_hour(session, actor, slot_id)
    participant_id = values.get("participant_id")
    person = session.scalar(
        select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    )
    if person is None:
        raise InvalidInput(
            "Salarié·e inconnu·e dans votre structure.",
            errors={"participant_id": ["Choisissez un·e salarié·e de votre structure."]},
        )
    if slot.starts_at <= utcnow():
        raise OfficeHourUnavailable("Ce créneau est passé : choisissez-en un autre.")
    topic = _text(values, "topic")
    result = session.execute(
        update(OfficeHour)
        .where(OfficeHour.id == slot.id, OfficeHour.booked_by_id.is_(None))
        .values(booked_by_id=actor.id, participant_id=person.id, topic=topic)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise OfficeHourUnavailable("Ce créneau vient d'être réservé : choisissez-en un autre.")
    # A Core update escapes the automatic audit of flushes: log it explicitly.
    record(
        session,
        AuditAction.UPDATE,
        entity="office_hours",
        entity_id=slot.id,
        participant_id=person.id,
        details={"fields": ["booked_by_id", "participant_id", "topic"]},
    )
    session.refresh(slot)
    return slot


def cancel_office_hour_booking(session: Session, actor: User, slot_id: int) -> OfficeHour:
    """The CIP who booked a slot (or its CP) frees it, before it starts."""
    slot = _office_hour(session, actor, slot_id)
    if actor.id not in (slot.booked_by_id, slot.cp_id) or slot.booked_by_id is None:
        raise PermissionDenied(
            "Seul·e la ou le CIP qui a réservé ce créneau, ou sa ou son CP, peut l'annuler."
        )
    if slot.starts_at <= utcnow():
        raise OfficeHourUnavailable("Ce créneau a commencé : il ne s'annule plus.")
    slot.booked_by_id = None
    slot.participant_id = None
    slot.topic = None
    session.flush()
    return slot


def record_office_hour_notes(session: Session, actor: User, slot_id: int, notes: str | None) -> OfficeHour:
    """The CP writes what was agreed (« notes »), once the slot has started."""
    slot = _office_hour(session, actor, slot_id)
    if slot.cp_id != actor.id:
        raise PermissionDenied("Seul·e la ou le CP de ce créneau en prend les notes.")
    if slot.starts_at > utcnow():
        raise OfficeHourUnavailable("Les notes se prennent après le début de la permanence.")
    slot.notes_after = (notes or "").strip() or None
    session.flush()
    return slot


# =============================================================================================
# Collective workshops (« ateliers collectifs »)
# =============================================================================================


def list_workshops(session: Session, actor: User, territory_slug: str) -> list[Workshop]:
    territory = scoped_territory(session, actor, territory_slug)
    return list(
        session.scalars(
            select(Workshop)
            .where(Workshop.territory_id == territory.id)
            .order_by(Workshop.held_on.desc(), Workshop.id.desc())
        )
    )


def get_workshop(session: Session, actor: User, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None or not _may_read_territory(actor, workshop.territory_id):
        raise WorkshopNotFound()
    return workshop


def _workshop_values(
    session: Session, actor: User, values: Mapping[str, Any], current: Workshop | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "theme" in values or current is None:
        theme = _text(values, "theme")
        if not theme:
            errors["theme"] = ["Le thème de l'atelier est obligatoire."]
        clean["theme"] = theme
    if "held_on" in values or current is None:
        held_on = values.get("held_on")
        if not isinstance(held_on, date):
            errors["held_on"] = ["Date de l'atelier obligatoire."]
        clean["held_on"] = held_on
    if "audience" in values or current is None:
        audience = _text(values, "audience")
        if audience not in reference.code_set(session, "workshop_audience"):
            errors["audience"] = ["Public inconnu : permanents, salaries ou mixte."]
        clean["audience"] = audience
    if "domain" in values:
        domain = _text(values, "domain")
        if domain is not None:
            if domain not in reference.domain_codes(session):
                errors["domain"] = [f"« {domain} » n'est pas un domaine connu."]
            elif actor.role is Role.CP and domain not in actor.domain_codes:
                errors["domain"] = ["Un atelier porte sur l'un de vos domaines."]
        clean["domain_code"] = domain
    if "attendance_count" in values:
        count = values.get("attendance_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            errors["attendance_count"] = ["Le nombre de participant·es est un entier positif ou nul."]
        clean["attendance_count"] = count
    if "notes" in values:
        clean["notes"] = _text(values, "notes")
    held_on = clean.get("held_on", current.held_on if current else None)
    count = clean.get("attendance_count", current.attendance_count if current else None)
    if isinstance(held_on, date) and count is not None and held_on > date.today():
        errors["attendance_count"] = ["Le nombre de participant·es se renseigne après l'atelier."]
    if errors:
        raise InvalidInput("L'atelier contient des données invalides.", errors=errors)
    return clean


def create_workshop(session: Session, actor: User, values: Mapping[str, Any]) -> Workshop:
    """A CP records a workshop they run for the territory's staff or participants."""
    _require_cp(actor, "Les ateliers collectifs sont animés par les chargé·es de partenariats.")
    clean = _workshop_values(session, actor, values, None)
    workshop = Workshop(territory_id=actor.territory_id, cp_id=actor.id, **clean)
    session.add(workshop)
    session.flush()
    return workshop


def update_workshop(session: Session, actor: User, workshop_id: int, values: Mapping[str, Any]) -> Workshop:
    """A CP of the territory completes a workshop: attendance, notes."""
    workshop = get_workshop(session, actor, workshop_id)
    _require_cp(actor, "Les ateliers collectifs sont animés par les chargé·es de partenariats.")
    if workshop.territory_id != actor.territory_id:
        raise WorkshopNotFound()
    assign_changed(workshop, **_workshop_values(session, actor, values, workshop))
    session.flush()
    return workshop


# =============================================================================================
# Fuzzy search and duplicate detection (the pure index lives in `referral.network.search`)
# =============================================================================================

# Hits below this score (0–100) are noise for a person typing a name.
SEARCH_MIN_SCORE = 40.0


@dataclass
class _CachedIndex:
    version: tuple[int, datetime | None, int]
    index: SearchIndex


class _IndexCache:
    """One search index per process, per database and kind, kept fresh by a version check.

    Each search first reads a cheap version token (count, latest `updated_at`, links count). If
    it moved forward, only the rows changed since are re-indexed; if it moved back (a rolled-back
    transaction) or links changed without a row moving, the index is rebuilt. So every web
    worker stays fresh without any message between processes, and a rolled-back change never
    lingers. Hits are re-read from the database with the caller's scope anyway, so a row the
    index knows but the caller may not see is never shown.
    """

    def __init__(
        self,
        version: Callable[[Session], tuple[int, datetime | None, int]],
        records: Callable[[Session, datetime | None], list[SearchRecord]],
    ) -> None:
        self._version = version
        self._records = records
        self._lock = threading.Lock()
        self._entries: dict[int, _CachedIndex] = {}

    def get(self, session: Session) -> SearchIndex:
        bind = session.get_bind()
        key = id(getattr(bind, "engine", bind))
        version = self._version(session)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached.version == version:
                return cached.index
            if cached is not None and self._moved_forward(cached.version, version):
                changed = self._records(session, cached.version[1])
                if changed or cached.version[2] == version[2]:
                    for record in changed:
                        cached.index.update(record)
                    if len(cached.index) == version[0]:
                        cached.version = version
                        return cached.index
            index = SearchIndex(self._records(session, None))
            self._entries[key] = _CachedIndex(version, index)
            return index

    @staticmethod
    def _moved_forward(old: tuple[int, datetime | None, int], new: tuple[int, datetime | None, int]) -> bool:
        if old[1] is None or new[1] is None:
            return False
        return new[0] >= old[0] and new[1] >= old[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _partner_records(session: Session, changed_since: datetime | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.name,
            town=row.town or "",
            tags=row.tags,
            territory_ids=row.territory_ids,
            siret=row.siret,
        )
        for row in queries.partner_rows(session, changed_since=changed_since)
    ]


def _opportunity_records(session: Session, changed_since: datetime | None) -> list[SearchRecord]:
    return [
        SearchRecord(
            id=row.id,
            name=row.title,
            town=row.town or "",
            tags=row.tags,
            # A national offer (no territory) is offered wherever its partner is deployed.
            territory_ids=frozenset({row.territory_id})
            if row.territory_id is not None
            else row.partner_territory_ids,
            kind=row.domain_code,
            aliases=(row.partner_name,),
        )
        for row in queries.opportunity_rows(session, changed_since=changed_since)
    ]


PARTNER_INDEX = _IndexCache(queries.partners_version, _partner_records)
OPPORTUNITY_INDEX = _IndexCache(queries.opportunities_version, _opportunity_records)


def find_partner_duplicates(
    session: Session, *, name: str, town: str | None, siret: str | None, exclude_id: int | None = None
) -> list[DuplicateCandidate]:
    """Partners that probably are the one described: same SIRET, same company in the same town,
    or a close name in the same town (accents, case, word order and a typo aside), best first.

    """
    index = PARTNER_INDEX.get(session)
    found = partner_duplicates(
        PartnerCandidate(name=name, town=town or "", siret=siret), index, exclude_id=exclude_id
    )
    # Re-read: the index may know a row this transaction cannot see (rolled back elsewhere).
    existing = queries.partners_by_ids(session, [duplicate.id for duplicate in found])
    return [
        DuplicateCandidate(
            id=duplicate.id,
            name=existing[duplicate.id].name,
            town=existing[duplicate.id].town,
            reason=duplicate.reason,
            score=duplicate.score,
            same_siret=bool(siret) and existing[duplicate.id].siret == siret,
        )
        for duplicate in found
        if duplicate.id in existing
    ]


def _search_territory(session: Session, actor: User, territory_slug: str | None) -> int | None:
    """The territory a search is limited to: the caller's own, or (national team) any or none."""
    if territory_slug:
        return scoped_territory(session, actor, territory_slug).id
    if actor.role is Role.ADMIN:
        return None
    territory_id = actor.scope_territory_id
    if territory_id is None:
        raise PermissionDenied("Votre compte n'est rattaché à aucun territoire.")
    return territory_id


@dataclass(frozen=True)
class PartnerHit:
    id: int
    name: str
    town: str | None
    score: float


@dataclass(frozen=True)
class OpportunityHit:
    id: int
    title: str
    partner_id: int
    partner_name: str
    town: str | None
    domain: str
    status: str
    score: float


def _visible_hits(
    session: Session, index: Any, query: str, territory_id: int | None, limit: int, rows: Select[Any]
) -> list[tuple[Any, float]]:
    """The index's best hits that the caller may see (`rows` carries the scope), best first.

    The index is asked for more than `limit` because some hits may fall outside the scope.
    """
    hits = index.search(query, territory=territory_id, limit=limit * 3, min_score=SEARCH_MIN_SCORE)
    entity = rows.column_descriptions[0]["entity"]
    visible = {row.id: row for row in session.scalars(rows.where(entity.id.in_([hit.id for hit in hits])))}
    return [(visible[hit.id], hit.score) for hit in hits if hit.id in visible][:limit]


def search_partners(
    session: Session, actor: User, query: str, *, territory_slug: str | None = None, limit: int = 10
) -> list[PartnerHit]:
    """Partners whose name, town or tags match `query`, typos and accents aside, best first."""
    territory_id = _search_territory(session, actor, territory_slug)
    found = _visible_hits(
        session,
        PARTNER_INDEX.get(session),
        query,
        territory_id,
        limit,
        select(Partner).where(partner_filter(actor)),
    )
    return [PartnerHit(partner.id, partner.name, partner.town, score) for partner, score in found]


def search_opportunities(
    session: Session, actor: User, query: str, *, territory_slug: str | None = None, limit: int = 10
) -> list[OpportunityHit]:
    """Offers whose title, partner, town or tags match `query` (CIPs: published ones only)."""
    territory_id = _search_territory(session, actor, territory_slug)
    found = _visible_hits(
        session,
        OPPORTUNITY_INDEX.get(session),
        query,
        territory_id,
        limit,
        select(Opportunity).where(opportunity_filter(actor)).options(selectinload(Opportunity.partner)),
    )
    return [
        OpportunityHit(
            id=offer.id,
            title=offer.title,
            partner_id=offer.partner_id,
            partner_name=offer.partner.name,
            town=offer.partner.town,
            domain=offer.domain_code,
            status=offer.status.value,
            score=score,
        )
        for offer, score in found
    ]
