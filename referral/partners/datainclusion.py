"""Import from data·inclusion (schema v1): structures become partners, services opportunities.

data·inclusion is the national directory of the social-inclusion offer (gip-inclusion). Every
row is first validated by the schema's official package (`datainclusion_schema`, pydantic models
`v1.Structure` and `v1.Service`): a row the schema refuses is rejected with a French reason per
field, never half-imported. Then:

- Thématiques are mapped to our domains and subtypes through the ``datainclusion`` lists of the
  Domain and DomainSubtype reference tables (seeds/reference/domains.toml); the thématiques
  deliberately outside the programme's scope are listed with their reason in the
  ``datainclusion_outside_scope`` reference list (seeds/reference/lists.toml), and a test checks
  that every thématique of the package is one or the other. The réseaux porteurs that say what
  kind of partner a structure is are the ``datainclusion`` lists of the ``partner_kind`` codes.
- A structure is merged into a partner we know only when both have the same SIRET, or when
  neither has a SIRET and they have a close name in the same town; two different SIRETs are never
  merged. The report says why each merge was made (and which close names were not merged).
  Merging fills the partner's blank fields, never overwrites what a CP wrote.
- An id present twice in one file is a conflict: reported, and not imported unless the rows are
  identical. Importing the same file twice changes nothing (rows are keyed ``di:<id>``).
- Services become draft opportunities for the CP to complete (the directory knows no capacity,
  criteria nor CP procedure), listed in the report. With ``publish=True`` (the CP confirms), a
  service exported by a Convergence instance (source `SOURCE`: only published opportunities are
  exported) is imported as published, if the publication rules allow it.
- Each row is imported in its own savepoint: a bad row, whatever it contains, is rejected with a
  French reason and the good rows are kept; a value longer than our column is refused, never cut.
  The caller commits once (`Database.atomic()` in the command).

The export is `datainclusion_export.py`; it writes what this module reads back unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from data_inclusion.schema import v1
from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from referral import clock
from referral.db import Base, assign_changed, utcnow
from referral.exceptions import DomainError, PermissionDenied
from referral.partners import lifecycle, queries, scope, search, services
from referral.partners.datainclusion_schema import SOURCE, Kind, check, explain, shown
from referral.partners.exceptions import TerritoryNotFound
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerContact,
    PartnerTerritory,
)
from referral.reference import queries as reference
from referral.reference.models import Domain, DomainSubtype
from referral.search import fold
from referral.territories.models import Role, Territory, User

__all__ = ["SOURCE", "import_datainclusion", "map_thematiques", "split_payload"]

# The ids our export gives to national opportunities (offered wherever their partner is deployed):
# reading one back recreates a national opportunity, not one of a single territory.
NATIONAL_PREFIX = f"{SOURCE}--opportunite-nationale-"
OUTSIDE_SCOPE_LIST = "datainclusion_outside_scope"


# --- Reading the file -------------------------------------------------------------------------


def split_payload(payload: Any) -> tuple[list[Any], list[Any]]:
    """Structures and services of a data·inclusion JSON document.

    Accepted: ``{"structures": [...], "services": [...]}`` (either may be missing), or one list
    mixing both (a service is recognised by its ``structure_id``).
    """
    if isinstance(payload, Mapping):
        structures = payload.get("structures") or []
        service_rows = payload.get("services") or []
        if not isinstance(structures, list) or not isinstance(service_rows, list):
            raise ValueError("« structures » et « services » doivent être des listes.")
        return list(structures), list(service_rows)
    if isinstance(payload, list):
        structures = [item for item in payload if not (isinstance(item, Mapping) and "structure_id" in item)]
        service_rows = [item for item in payload if isinstance(item, Mapping) and "structure_id" in item]
        return structures, service_rows
    raise ValueError("Document JSON attendu : un objet {structures, services} ou une liste.")


def row_count(payload: Any) -> int:
    structures, service_rows = split_payload(payload)
    return len(structures) + len(service_rows)


# --- The import report ------------------------------------------------------------------------

CREATED = "created"
MERGED = "merged"
UNCHANGED = "unchanged"
REJECTED = "rejected"
CONFLICT = "conflict"
OUTCOMES = (CREATED, MERGED, UNCHANGED, REJECTED, CONFLICT)
OUTCOME_LABELS = {
    CREATED: "créé",
    MERGED: "fusionné",
    UNCHANGED: "déjà importé",
    REJECTED: "rejeté",
    CONFLICT: "en conflit",
}


@dataclass(frozen=True)
class ImportLine:
    """What happened to one row of the file, and why, in French."""

    kind: str  # "structure" or "service"
    source_id: str
    name: str
    outcome: str
    detail: str
    record_id: int | None = None
    position: int | None = None  # 1-based, within the file's structures or services
    draft: bool = False  # an opportunity created as a draft, for the CP to complete


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind and line.outcome == outcome)

    @property
    def rejected(self) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome == REJECTED]

    @property
    def conflicts(self) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome == CONFLICT]

    @property
    def drafts(self) -> list[ImportLine]:
        """The opportunities created as drafts: the CP completes and publishes them."""
        return [line for line in self.lines if line.draft]

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            kind: {outcome: self.count(kind, outcome) for outcome in OUTCOMES}
            for kind in ("structure", "service")
        }


class RowRejected(Exception):
    """One row cannot be imported; the reason is shown to the person running the import."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Import -----------------------------------------------------------------------------------


def _key(source_id: str, length: int = 80) -> str:
    """A stable row key ``di:<id>``; long ids are shortened by a digest (Partner keys are 80
    characters, Opportunity keys 120)."""
    key = f"di:{source_id}"
    return key if len(key) <= length else f"di:{hashlib.sha256(source_id.encode()).hexdigest()[:40]}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _fits(model: type[Base], values: Mapping[str, tuple[str, str | None]]) -> None:
    """Refuse the row when a value is longer than its column: cutting it would lose data silently.

    `values` maps the file's field name to (our column, value)."""
    columns = inspect(model).columns
    problems = []
    for name, (column, value) in values.items():
        length = getattr(columns[column].type, "length", None)
        if value is not None and length is not None and len(value) > length:
            problems.append(
                f"« {name} » : au plus {length} caractères ici ({len(value)} reçus), "
                "refusé plutôt que tronqué"
            )
    if problems:
        raise RowRejected(" ; ".join(problems) + ".")


def _department(postcode: str | None, insee: str | None) -> str | None:
    code = insee or postcode
    if not code or len(code) < 2:
        return None
    if code.startswith("97"):
        return code[:3]
    return code[:2]


@dataclass
class _Context:
    session: Session
    actor: User | None
    territory: Territory | None
    territories: list[Territory]
    partner_kinds: list[tuple[str, frozenset[str]]]  # kind → the réseaux porteurs saying it
    domains: list[Domain]
    outside_scope: dict[str, str]  # thématique or catégorie → why it is outside our scope
    publish: bool
    today: date
    # data·inclusion structure id → (partner id, territory id)
    structures: dict[str, tuple[int, int]] = field(default_factory=dict)
    conflicting_structures: set[str] = field(default_factory=set)
    # data·inclusion structure id → the départements its services' zones of eligibility name
    zones: dict[str, set[str]] = field(default_factory=dict)

    def territory_of_department(self, department: str) -> Territory | None:
        return next((item for item in self.territories if department in item.departments), None)


def _structure_territory(context: _Context, model: v1.Structure) -> Territory:
    if context.territory is not None:
        return context.territory
    department = _department(model.code_postal, model.code_insee)
    if department is None:
        # No address: the territories its services are offered in say where it works.
        zone = context.zones.get(model.id.strip(), set())
        served = [item for item in context.territories if item.departments and set(item.departments) <= zone]
        if served:
            return served[0]
        raise RowRejected(
            "Ni code postal ni code commune : impossible de savoir quel territoire la structure sert "
            "(importez avec --territory)."
        )
    territory = context.territory_of_department(department)
    if territory is None:
        raise RowRejected(f"Aucun territoire Convergence ne couvre le département {department}.")
    return territory


def _kind(context: _Context, model: v1.Structure) -> str:
    networks = {item.value for item in model.reseaux_porteurs or ()}
    for kind, mapped in context.partner_kinds:
        if networks & mapped:
            return kind
    return "autre"


def _merge_target(
    session: Session, name: str, town: str | None, siret: str | None
) -> tuple[Partner | None, str, list[str]]:
    """The partner the structure is, with why; and the close names deliberately not merged.

    Same SIRET: the same establishment. Otherwise a close name is enough only when neither has a
    SIRET and both are in the same town: two SIRETs that differ are two establishments, and one
    SIRET against none is for a CP to decide.
    """
    if siret is not None:
        same = queries.partner_with_siret(session, siret)
        if same is not None:
            return same, f"même SIRET ({siret}).", []
    not_merged = []
    for candidate in search.find_partner_duplicates(session, name=name, town=town, siret=siret):
        partner = session.get(Partner, candidate.id)
        if partner is None:
            continue
        if siret is not None or partner.siret is not None:
            why = "SIRET différents" if siret and partner.siret else "une seule des deux a un SIRET"
            not_merged.append(f"« {partner.name} » ({why})")
            continue
        if not town or not partner.town or fold(town) != fold(partner.town):
            continue
        return (
            partner,
            f"nom proche, aucune des deux n'a de SIRET, même commune ({partner.town}).",
            not_merged,
        )
    return None, "", not_merged


def _import_structure(context: _Context, model: v1.Structure) -> ImportLine:
    source_id, name = model.id.strip(), model.nom.strip()
    if not source_id:
        raise RowRejected("« id » : identifiant vide.")
    siret = model.siret
    if siret is not None and (problem := services.siret_problem(siret)):
        raise RowRejected(f"« siret » : {problem}")
    address = " ".join(part for part in (_text(model.adresse), _text(model.complement_adresse)) if part)
    values: dict[str, str | None] = {
        "siret": siret,
        "address": address or None,
        "postcode": model.code_postal,
        "insee_code": model.code_insee,
        "town": _text(model.commune),
        "description": _text(model.description),
    }
    _fits(
        Partner,
        {
            "nom": ("name", name),
            "adresse": ("address", values["address"]),
            "commune": ("town", values["town"]),
        },
    )
    territory = _structure_territory(context, model)
    session = context.session
    key = _key(source_id)
    partner = session.scalar(select(Partner).where(Partner.key == key))
    outcome, detail = UNCHANGED, "Déjà importée."
    if partner is None:
        partner, reason, not_merged = _merge_target(session, name, values["town"], siret)
        if partner is not None:
            outcome, detail = MERGED, f"Fusionnée avec « {partner.name} » : {reason}"
            if partner.key is None:
                partner.key = key
        else:
            partner = Partner(key=key, name=name, kind=_kind(context, model), tags=[], **values)
            session.add(partner)
            session.flush()
            outcome, detail = CREATED, f"Créée sur le territoire {territory.name}."
        if not_merged:
            detail += " Non fusionnée avec " + ", ".join(not_merged) + " : à vérifier."
    # Merge: fill what is blank, never overwrite what a CP wrote.
    blanks = {
        name_: value
        for name_, value in values.items()
        if value is not None and getattr(partner, name_) is None
    }
    if blanks.get("siret") and queries.partner_with_siret(session, blanks["siret"]) not in (None, partner):
        blanks.pop("siret")
    changed = assign_changed(partner, **blanks)
    if not any(link.territory_id == territory.id for link in partner.territory_links):
        # Found in the directory: the partnership itself remains to be built.
        partner.territory_links.append(
            PartnerTerritory(
                territory_id=territory.id, status=DeploymentStatus.IN_DISCUSSION, since=context.today
            )
        )
        changed = True
    if outcome == MERGED and not changed:
        # Recognised again (a second import): nothing to fill, nothing new.
        outcome, detail = UNCHANGED, f"Correspond à « {partner.name} », déjà à jour."
    elif changed and outcome == UNCHANGED:
        outcome, detail = MERGED, "Déjà importée : champs vides complétés."
    session.flush()
    context.structures[source_id] = (partner.id, territory.id)
    return ImportLine("structure", source_id, name, outcome, detail, partner.id)


def map_thematiques(
    domains: Sequence[Domain], thematiques: Iterable[str]
) -> tuple[Domain | None, list[DomainSubtype]]:
    """Our domain and subtypes for a service's thématiques (the reference tables' mapping).

    An exact thématique of a subtype or a domain counts double; a thématique whose *catégorie*
    a domain covers counts once. The domain with most votes wins (ties: reference order). Its
    subtypes are those whose thématiques are all among the service's, so that the thématiques
    our export writes for an opportunity's subtypes give back the same thématiques once
    imported; when there is none, those that share one of its thématiques.
    """
    given = set(thematiques)
    votes: Counter[str] = Counter()
    for code in sorted(given):
        category = code.split("--", 1)[0]
        for domain in domains:
            if code in domain.datainclusion:
                votes[domain.code] += 2
            elif category in domain.datainclusion:
                votes[domain.code] += 1
            for subtype in domain.subtypes:
                if code in subtype.datainclusion:
                    votes[domain.code] += 2
    if not votes:
        return None, []
    order = {domain.code: index for index, domain in enumerate(domains)}
    best = min(votes, key=lambda code: (-votes[code], order[code]))
    domain = next(domain for domain in domains if domain.code == best)
    ordered = sorted(domain.subtypes, key=lambda subtype: subtype.position)
    subtypes = [
        subtype for subtype in ordered if subtype.datainclusion and set(subtype.datainclusion) <= given
    ]
    if not subtypes:
        # A directory's service often names one thématique of a subtype that has several.
        subtypes = [subtype for subtype in ordered if given & set(subtype.datainclusion)]
    return domain, subtypes


def outside_scope_reason(outside_scope: Mapping[str, str], code: str) -> str | None:
    """Why a thématique is deliberately outside the programme's scope (None when it is not)."""
    return outside_scope.get(code) or outside_scope.get(code.split("--", 1)[0])


def _procedure(model: v1.Service) -> str | None:
    """How to mobilise the service, in the words of the directory.

    Only fields our own export never writes are added to the directory's « mobilisation_precisions »,
    so an exported procedure reads back unchanged.
    """
    parts = [text] if (text := _text(model.mobilisation_precisions)) else []
    if model.contact_nom_prenom is None:
        # Without a name there is no contact to create: keep the ways to reach the service.
        if model.telephone:
            parts.append(f"Téléphone : {model.telephone.strip()}")
        if model.courriel:
            parts.append(f"Courriel : {model.courriel}")
    if model.lien_mobilisation is not None:
        parts.append(f"Lien de mobilisation : {model.lien_mobilisation}")
    if model.modes_mobilisation:
        labels = sorted(mode.label for mode in model.modes_mobilisation)
        parts.append("Modes de mobilisation : " + ", ".join(labels))
    if model.frais is not None:
        fees = model.frais.label + (f" ({text})" if (text := _text(model.frais_precisions)) else "")
        parts.append(f"Frais : {fees}")
    if model.publics:
        parts.append("Publics : " + ", ".join(sorted(public.label for public in model.publics)))
    if text := _text(model.horaires_accueil):
        parts.append(f"Horaires : {text}")
    return "\n".join(parts) or None


def _deploy(partner: Partner, territory_ids: Iterable[int], today: date) -> None:
    """A published opportunity there: the partner works in those territories."""
    links = {link.territory_id: link for link in partner.territory_links}
    for territory_id in territory_ids:
        link = links.get(territory_id)
        if link is None:
            partner.territory_links.append(
                PartnerTerritory(territory_id=territory_id, status=DeploymentStatus.DEPLOYED, since=today)
            )
        elif link.status is not DeploymentStatus.DEPLOYED:
            link.status = DeploymentStatus.DEPLOYED


def _import_service(context: _Context, model: v1.Service) -> ImportLine:
    source_id, name = model.id.strip(), model.nom.strip()
    structure_id = model.structure_id.strip()
    if not source_id:
        raise RowRejected("« id » : identifiant vide.")
    session = context.session
    if structure_id in context.conflicting_structures:
        raise RowRejected(f"Sa structure « {structure_id} » est en conflit dans le fichier.")
    if structure_id in context.structures:
        partner_id, territory_id = context.structures[structure_id]
    else:
        known = session.scalar(select(Partner).where(Partner.key == _key(structure_id)))
        if known is None or not known.territory_links:
            raise RowRejected(f"Structure « {structure_id} » absente du fichier, rejetée ou inconnue.")
        partner_id, territory_id = known.id, known.territory_links[0].territory_id
    thematiques = sorted(item.value for item in model.thematiques or ())
    if not thematiques:
        raise RowRejected("« thematiques » : aucune thématique, impossible de choisir le domaine de l'offre.")
    outside = {
        code: reason
        for code in thematiques
        if (reason := outside_scope_reason(context.outside_scope, code)) is not None
    }
    in_scope = [code for code in thematiques if code not in outside]
    if not in_scope:
        raise RowRejected(
            "Hors du champ Convergence : "
            + " ; ".join(f"{code} ({reason})" for code, reason in outside.items())
        )
    domain, subtypes = map_thematiques(context.domains, in_scope)
    if domain is None:
        raise RowRejected(
            f"Aucune thématique ne correspond à nos domaines (thématiques : {', '.join(in_scope)})."
        )
    key = _key(source_id, 120)
    opportunity = session.scalar(select(Opportunity).where(Opportunity.key == key))
    if opportunity is not None:
        return ImportLine("service", source_id, name, UNCHANGED, "Déjà importé.", opportunity.id)
    folded = fold(name)
    same = next(
        (
            existing
            for existing in session.scalars(
                select(Opportunity).where(Opportunity.partner_id == partner_id).order_by(Opportunity.id)
            )
            if fold(existing.title) == folded
        ),
        None,
    )
    if same is not None:
        return ImportLine(
            "service",
            source_id,
            name,
            MERGED,
            f"Correspond à l'opportunité existante « {same.title} ».",
            same.id,
        )
    contact_name = _text(model.contact_nom_prenom)
    email = str(model.courriel) if model.courriel is not None else None
    phone = _text(model.telephone)
    _fits(Opportunity, {"nom": ("title", name)})
    if contact_name is not None:
        _fits(
            PartnerContact,
            {
                "contact_nom_prenom": ("name", contact_name),
                "courriel": ("email", email),
                "telephone": ("phone", phone),
            },
        )
    description = _text(model.description)
    national = model.source == SOURCE and source_id.startswith(NATIONAL_PREFIX)
    opportunity = Opportunity(
        key=key,
        partner_id=partner_id,
        territory_id=None if national else territory_id,
        title=name,
        domain_code=domain.code,
        # Our export writes the title when an opportunity has no description (the schema wants one).
        description=None if description == name else description,
        procedure=_procedure(model),
        access_conditions=_text(model.conditions_acces),
        documents_required=[],
        capacity=1,
        places_taken=0,
        answer_delay_days=30,
        requires_cp_validation=True,
        status=OpportunityStatus.DRAFT,
        tags=[],
        shared_categories=[],
        version=1,
        created_by_id=context.actor.id if context.actor is not None else None,
    )
    opportunity.subtypes = subtypes
    session.add(opportunity)
    partner = session.get(Partner, partner_id)
    assert partner is not None
    if contact_name is not None and not partner.contacts:
        partner.contacts.append(PartnerContact(name=contact_name, email=email, phone=phone))
    session.flush()
    # Where it is offered: its territory, or for a national one every territory its zone covers.
    zone = set(model.zone_eligibilite or ())
    offered = (
        [item.id for item in context.territories if item.departments and set(item.departments) <= zone]
        if national
        else [territory_id]
    )
    labels = ", ".join(subtype.label for subtype in subtypes) or "sans sous-thème"
    detail = f"{domain.label} ({labels})."
    if outside:
        detail += " Thématiques hors champ ignorées : " + " ; ".join(
            f"{code} ({reason})" for code, reason in outside.items()
        )
    published, why_draft = _publication(context, model, opportunity)
    if published:
        _deploy(partner, offered, context.today)
        session.flush()
        return ImportLine("service", source_id, name, CREATED, f"Publiée : {detail}", opportunity.id)
    if national:
        # Still a draft: the partner is found there, the partnership remains to be built.
        known_links = {link.territory_id for link in partner.territory_links}
        for territory_id_ in offered:
            if territory_id_ not in known_links:
                partner.territory_links.append(
                    PartnerTerritory(
                        territory_id=territory_id_, status=DeploymentStatus.IN_DISCUSSION, since=context.today
                    )
                )
        session.flush()
    return ImportLine(
        "service",
        source_id,
        name,
        CREATED,
        f"Brouillon à compléter ({why_draft}) : {detail} Places, critères d'orientation, délai de réponse "
        "et documents à renseigner par la CP avant publication.",
        opportunity.id,
        draft=True,
    )


def _publication(context: _Context, model: v1.Service, opportunity: Opportunity) -> tuple[bool, str]:
    """Publish the imported opportunity when the file says it was published (a Convergence
    export holds only published opportunities) and the CP confirmed; else why it stays a draft."""
    if not context.publish:
        return False, "import sans --publish"
    if model.source != SOURCE:
        return False, f"le fichier ne dit pas qu'elle est publiée (source « {shown(model.source)} »)"
    refusals = lifecycle.refusals(lifecycle.TRANSITIONS["publish"], opportunity, context.today)
    if refusals:
        return False, " ".join(refusals)
    opportunity.status = OpportunityStatus.PUBLISHED
    opportunity.published_at = utcnow()
    return True, ""


def _same_rows(rows: Sequence[Any]) -> bool:
    try:
        texts = {json.dumps(row, sort_keys=True, ensure_ascii=True) for row in rows}
    except (RecursionError, TypeError, ValueError):
        return False
    return len(texts) == 1


def _zones_by_structure(service_rows: Sequence[Any]) -> dict[str, set[str]]:
    """The codes of the services' zones of eligibility, by structure id (raw rows: whatever is
    not a list of texts is skipped here, and refused with its reason when the row is read)."""
    zones: dict[str, set[str]] = {}
    for row in service_rows:
        if not isinstance(row, Mapping):
            continue
        structure_id, zone = row.get("structure_id"), row.get("zone_eligibilite")
        if isinstance(structure_id, str) and isinstance(zone, list):
            codes = {code for code in zone if isinstance(code, str)}
            zones.setdefault(structure_id.strip(), set()).update(codes)
    return zones


@dataclass(frozen=True)
class _Repeat:
    source_id: str
    detail: str
    blocking: bool  # different rows under one id: none of them is imported


def _repeated_ids(rows: Sequence[Any]) -> dict[int, _Repeat]:
    """Rows whose id is used more than once in the same list, with why (by index).

    Different rows under one id: none is imported, the file must say which is right. Identical
    repeats: the first is imported, the others reported.
    """
    positions: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if isinstance(row, Mapping) and isinstance(row.get("id"), str) and row["id"].strip():
            positions.setdefault(row["id"].strip(), []).append(index)
    repeats: dict[int, _Repeat] = {}
    for source_id, indexes in positions.items():
        if len(indexes) < 2:
            continue
        lines = ", ".join(str(index + 1) for index in indexes)
        if _same_rows([rows[index] for index in indexes]):
            for index in indexes[1:]:
                repeats[index] = _Repeat(
                    source_id,
                    f"Identifiant en double : répète à l'identique la ligne {indexes[0] + 1}, ignorée.",
                    blocking=False,
                )
        else:
            for index in indexes:
                repeats[index] = _Repeat(
                    source_id,
                    f"Identifiant « {shown(source_id)} » présent {len(indexes)} fois avec des contenus "
                    f"différents (lignes {lines}) : aucune n'est importée, corrigez le fichier.",
                    blocking=True,
                )
    return repeats


def import_datainclusion(
    session: Session,
    actor: User | None,
    payload: Any,
    *,
    territory_slug: str | None = None,
    publish: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a data·inclusion document: structures first, then their services.

    `actor` None is the command line, acting for the national team; a CP may import for their
    own territory only. `territory_slug` attaches every structure to that territory; without it a
    structure's territory is that of its postcode or commune code, else the first territory its
    services' zones of eligibility cover. `publish` is the CP's confirmation that the
    services a Convergence export marks as published are imported as published. Each row is a
    savepoint: a rejected row leaves no trace, the others stay.
    """
    if actor is not None:
        if actor.role not in (Role.CP, Role.ADMIN):
            raise PermissionDenied(scope.BUILDERS_ONLY)
        if actor.role is Role.CP:
            own = session.get(Territory, actor.territory_id)
            if territory_slug not in (None, own.slug if own else None):
                raise PermissionDenied("Un·e CP importe pour son propre territoire seulement.")
            territory_slug = own.slug if own else None
    structures, service_rows = split_payload(payload)
    territory = None
    if territory_slug:
        territory = session.scalar(select(Territory).where(Territory.slug == territory_slug))
        if territory is None:
            raise TerritoryNotFound(territory_slug)
    context = _Context(
        session=session,
        actor=actor,
        territory=territory,
        territories=list(session.scalars(select(Territory).order_by(Territory.id))),
        partner_kinds=[
            (item.code, frozenset(item.extra.get("datainclusion", ())))
            for item in reference.codes(session, "partner_kind")
        ],
        domains=list(
            session.scalars(
                select(Domain).options(selectinload(Domain.subtypes)).order_by(Domain.position, Domain.code)
            )
        ),
        outside_scope=reference.labels(session, OUTSIDE_SCOPE_LIST),
        publish=publish,
        today=clock.today(),
    )
    context.zones = _zones_by_structure(service_rows)
    report = ImportReport()
    advance = progress or (lambda _count: None)
    importers: tuple[tuple[Kind, list[Any], Callable[[_Context, Any], ImportLine]], ...] = (
        ("structure", structures, _import_structure),
        ("service", service_rows, _import_service),
    )
    for kind, rows, importer in importers:
        repeats = _repeated_ids(rows)
        if kind == "structure":
            # Their services cannot say which of the conflicting structures they belong to.
            context.conflicting_structures = {
                repeat.source_id for repeat in repeats.values() if repeat.blocking
            }
        for index, row in enumerate(rows):
            repeat = repeats.get(index)
            line = _import_row(context, kind, row, importer, repeat.detail if repeat else None)
            report.lines.append(_at(line, index + 1))
            advance(1)
    return report


def _at(line: ImportLine, position: int) -> ImportLine:
    return ImportLine(
        line.kind,
        line.source_id,
        line.name,
        line.outcome,
        line.detail,
        line.record_id,
        position,
        line.draft,
    )


def _import_row(
    context: _Context,
    kind: Kind,
    row: Any,
    importer: Callable[[_Context, Any], ImportLine],
    conflict: str | None,
) -> ImportLine:
    mapping = row if isinstance(row, Mapping) else {}
    source_id = shown(mapping.get("id") or "?", 200)
    name = shown(mapping.get("nom") or "", 200)
    if conflict is not None:
        return ImportLine(kind, source_id, name, CONFLICT, conflict)
    checked = check(kind, row)
    if checked.model is None:
        return ImportLine(kind, source_id, name, REJECTED, explain(checked.reasons))
    savepoint = context.session.begin_nested()
    try:
        line = importer(context, checked.model)
    except RowRejected as rejection:
        savepoint.rollback()
        return ImportLine(kind, source_id, name, REJECTED, rejection.reason)
    except DomainError as refusal:
        savepoint.rollback()
        details = "; ".join(message for messages in refusal.errors.values() for message in messages)
        return ImportLine(kind, source_id, name, REJECTED, f"{refusal.message} {details}".strip())
    except DBAPIError:
        savepoint.rollback()
        return ImportLine(
            kind, source_id, name, REJECTED, "Refusée par la base de données (valeur en double ou invalide)."
        )
    savepoint.commit()
    return line
