"""The partner network's partners (« fiche partenaire »), one function per user action.

Seeding uses the ``ensure_*`` functions, keyed by stable keys so that `referral seed` is
idempotent. The CP's actions take ``(session, actor, …)``: they check the actor's role and scope
(DESIGN §8, `referral.partners.scope`: CPs act on their own territory and their domains,
coordinators read, CIPs read what is published), apply the rule, flush and never commit. A
refusal raises a typed exception of `referral.partners.exceptions` with a French message, before
anything is written.

The package's other rooms: `opportunities` (with `rules` and `lifecycle`), `meetings`,
`office_hours`, `workshops`, `search` (fuzzy search and duplicate detection), `datainclusion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from referral import clock
from referral.access import partner_filter
from referral.db import assign_changed, utcnow
from referral.exceptions import InvalidInput
from referral.paging import Page, PageRequest, page_of
from referral.partners import deployments, queries
from referral.partners.exceptions import (
    InvalidPartner,
    LikelyDuplicatePartner,
    PartnerNotFound,
    SiretAlreadyUsed,
)
from referral.partners.models import (
    DeploymentStatus,
    NationalNetwork,
    Partner,
    PartnerContact,
    PartnerTerritory,
)
from referral.partners.scope import known_territory, require_builder
from referral.partners.search import find_partner_duplicates
from referral.partners.values import clean_tags, clean_text
from referral.reference import queries as reference
from referral.territories.models import Role, Territory, User


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
    for asked in territories:
        territory = known_territory(session, asked["slug"])
        wanted[territory.id] = DeploymentStatus(asked.get("status", DeploymentStatus.DEPLOYED.value))
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


def national_networks(session: Session) -> list[NationalNetwork]:
    """The national partnerships a local partner may belong to (for the partner form)."""
    return list(session.scalars(select(NationalNetwork).order_by(NationalNetwork.name, NationalNetwork.code)))


def _check_code(session: Session, list_name: str, code: str, field: str) -> None:
    if code not in reference.code_set(session, list_name):
        raise InvalidInput(
            f"Code inconnu « {code} » ({list_name}).", errors={field: [f"« {code} » est inconnu."]}
        )


def list_partners(session: Session, actor: User, *, territory_slug: str | None = None) -> list[Partner]:
    return list(session.scalars(_partners_query(session, actor, territory_slug)))


def partners_page(
    session: Session, actor: User, request: PageRequest, *, territory_slug: str | None = None
) -> Page[Partner]:
    """One page of `list_partners`: its rows, territories and contacts in three statements."""
    return page_of(session, _partners_query(session, actor, territory_slug), request)


def partner_lines_page(
    session: Session, actor: User, request: PageRequest, *, territory_slug: str | None = None
) -> Page[Any]:
    """One page of `list_partners` as plain rows (id, name, kind, town): the network page's list,
    one statement (two past the first page) whatever the network's size."""
    where = _partners_query(session, actor, territory_slug).whereclause
    query = select(Partner.id, Partner.name, Partner.kind, Partner.town).order_by(Partner.name, Partner.id)
    return page_of(session, query if where is None else query.where(where), request, scalars=False)


def _partners_query(session: Session, actor: User, territory_slug: str | None) -> Select[Partner]:
    query = select(Partner).where(partner_filter(actor))
    if territory_slug:
        territory = known_territory(session, territory_slug)
        query = query.where(
            Partner.id.in_(
                select(PartnerTerritory.partner_id).where(PartnerTerritory.territory_id == territory.id)
            )
        )
    query = query.options(selectinload(Partner.territory_links), selectinload(Partner.contacts))
    return query.order_by(Partner.name, Partner.id)


def get_partner(session: Session, actor: User, partner_id: int) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.id == partner_id, partner_filter(actor)))
    if partner is None:
        raise PartnerNotFound()
    return partner


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
        name = clean_text(values, "name")
        if not name:
            errors["name"] = ["Le nom du partenaire est obligatoire."]
        columns["name"] = name
    if "kind" in values or current is None:
        kind = clean_text(values, "kind")
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
        postcode = clean_text(values, "postcode")
        if postcode is not None and not (len(postcode) == 5 and postcode.isdigit()):
            errors["postcode"] = ["Le code postal compte 5 chiffres."]
        columns["postcode"] = postcode
    for name in ("address", "town", "description"):
        if name in values:
            columns[name] = clean_text(values, name)
    if "national_network" in values:
        code = clean_text(values, "national_network")
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
        columns["tags"] = clean_tags(values.get("tags"))

    contacts: list[dict[str, Any]] | None = None
    if "contacts" in values:
        contacts = []
        for index, item in enumerate(values.get("contacts") or []):
            contact = {name: clean_text(item, name) for name in ("name", "role", "email", "phone")}
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
                PartnerTerritory(territory_id=territory_id, status=status, since=clock.today())
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
    require_builder(actor)
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
    require_builder(actor)
    partner = get_partner(session, actor, partner_id)
    clean = _clean_partner(session, actor, values, partner)
    # A partner several territories share: its identity is the national team's (issue 14).
    deployments.check_identity_changes(actor, partner, clean.columns, clean.contacts)
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
