"""Exchange with data·inclusion (schema v1): import structures and services, export our opportunities.

data·inclusion is the national directory of the social-inclusion offer (gip-inclusion). Its
*structures* become partners and its *services* become draft opportunities (a CP completes and
publishes them: the directory knows no capacity, criteria nor CP procedure); our published
opportunities are exported as data·inclusion services with their structures.

- Thématiques are mapped to our domains and subtypes through the ``datainclusion`` lists of the
  Domain and DomainSubtype reference tables (seeds/reference/domains.toml), never in code.
- A structure that probably exists already (same SIRET, or a close name in the same town, by
  `search.find_partner_duplicates`) is merged into it: its blank fields are filled, nothing the
  CP wrote is overwritten. Importing the same file twice creates nothing the second time (rows
  are keyed ``di:<id>``).
- Each row is imported in its own savepoint: a bad row is rejected with a French reason and the
  good rows are kept. The caller commits once (`Database.atomic()` in the command).

The field lists below are those of data·inclusion's pydantic models
(gip-inclusion/data-inclusion-schema, ``src/data_inclusion/schema/v1/structures.py`` and
``services.py``); the export (`datainclusion_export.py`) is checked against them by
`structure_problems`/`service_problems`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from referral.db import assign_changed
from referral.exceptions import DomainError, PermissionDenied
from referral.partners import queries, scope, search, services
from referral.partners.exceptions import TerritoryNotFound
from referral.partners.models import (
    DeploymentStatus,
    Opportunity,
    OpportunityStatus,
    Partner,
    PartnerTerritory,
)
from referral.reference import queries as reference
from referral.reference.models import Domain, DomainSubtype
from referral.search import fold
from referral.territories.models import Role, Territory, User

# --- The schema's field lists (v1) -----------------------------------------------------------

STRUCTURE_REQUIRED: tuple[str, ...] = ("source", "id", "nom", "description", "date_maj")
STRUCTURE_FIELDS: tuple[str, ...] = STRUCTURE_REQUIRED + (
    "siret",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "longitude",
    "latitude",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "accessibilite_lieu",
    "reseaux_porteurs",
)
SERVICE_REQUIRED: tuple[str, ...] = ("source", "structure_id", "id", "nom", "description", "date_maj")
SERVICE_FIELDS: tuple[str, ...] = SERVICE_REQUIRED + (
    "type",
    "thematiques",
    "frais",
    "frais_precisions",
    "publics",
    "publics_precisions",
    "conditions_acces",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "longitude",
    "latitude",
    "telephone",
    "courriel",
    "modes_accueil",
    "zone_eligibilite",
    "contact_nom_prenom",
    "lien_mobilisation",
    "modes_mobilisation",
    "mobilisable_par",
    "mobilisation_precisions",
    "volume_horaire_hebdomadaire",
    "nombre_semaines",
    "horaires_accueil",
)
SERVICE_TYPES = (
    "accompagnement",
    "aide-financiere",
    "aide-materielle",
    "atelier",
    "formation",
    "information",
)
NAME_LENGTH = (3, 150)
DESCRIPTION_LENGTH = (50, 2000)
THEMATIQUE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*--[a-z0-9]+(?:-[a-z0-9]+)*$")
POSTCODE_PATTERN = re.compile(r"^\d{5}$")

# Our identifier as a data·inclusion producer (« source »).
SOURCE = "reseau-convergence"

# data·inclusion « réseaux porteurs » (and v0 « typologie ») that say what kind of partner it is.
KIND_BY_NETWORK: dict[str, str] = {
    "ccas": "collectivite",
    "cias": "collectivite",
    "mairie": "collectivite",
    "departement": "collectivite",
    "cd": "collectivite",
    "france-travail": "service_public",
    "ft": "service_public",
    "pe": "service_public",
    "caf": "service_public",
    "mission-locale": "service_public",
    "ml": "service_public",
    "cpam": "cpam",
    "chrs": "hebergement",
    "chu": "hebergement",
    "siao": "hebergement",
    "asso": "association",
    "association": "association",
    "of": "formation",
    "afpa": "formation",
    "greta": "formation",
    "ei": "entreprise",
    "etti": "entreprise",
}


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
OUTCOME_LABELS = {
    CREATED: "créé",
    MERGED: "fusionné",
    UNCHANGED: "déjà importé",
    REJECTED: "rejeté",
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


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind and line.outcome == outcome)

    @property
    def rejected(self) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome == REJECTED]

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            kind: {outcome: self.count(kind, outcome) for outcome in (CREATED, MERGED, UNCHANGED, REJECTED)}
            for kind in ("structure", "service")
        }


class RowRejected(Exception):
    """One row cannot be imported; the reason is shown to the person running the import."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Import -----------------------------------------------------------------------------------


def _key(source_id: str) -> str:
    """A stable row key ``di:<id>``; long ids are shortened by a digest (keys are 80 chars)."""
    key = f"di:{source_id}"
    return key if len(key) <= 80 else f"di:{hashlib.sha256(source_id.encode()).hexdigest()[:40]}"


def _opportunity_key(source_id: str) -> str:
    key = f"di:{source_id}"
    return key if len(key) <= 120 else f"di:{hashlib.sha256(source_id.encode()).hexdigest()[:40]}"


def _string(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise RowRejected(f"Le champ « {name} » doit être un texte.")
    text = str(value).strip()
    return text or None


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
    territories_by_department: dict[str, Territory]
    partner_kinds: frozenset[str]
    domains: list[Domain]
    # data·inclusion structure id → (partner id, territory id)
    structures: dict[str, tuple[int, int]] = field(default_factory=dict)


def _structure_territory(context: _Context, row: Mapping[str, Any]) -> Territory:
    if context.territory is not None:
        return context.territory
    postcode = _string(row, "code_postal")
    department = _department(postcode, _string(row, "code_insee"))
    if department is None:
        raise RowRejected(
            "Ni code postal ni code commune : impossible de savoir quel territoire la structure sert."
        )
    territory = context.territories_by_department.get(department)
    if territory is None:
        raise RowRejected(f"Aucun territoire Convergence ne couvre le département {department}.")
    return territory


def _kind(context: _Context, row: Mapping[str, Any]) -> str:
    networks = row.get("reseaux_porteurs") or []
    if isinstance(networks, str):
        networks = [networks]
    candidates = [*networks, row.get("typologie") or ""]
    for candidate in candidates:
        kind = KIND_BY_NETWORK.get(fold(str(candidate)).replace(" ", "-"))
        if kind is not None and kind in context.partner_kinds:
            return kind
    return "autre"


def _import_structure(context: _Context, row: Any) -> ImportLine:
    if not isinstance(row, Mapping):
        raise RowRejected("Une structure est un objet JSON.")
    source_id = _string(row, "id")
    name = _string(row, "nom")
    if not source_id:
        raise RowRejected("Identifiant « id » manquant.")
    if not name:
        raise RowRejected("Nom « nom » manquant.")
    if len(name) > 200:
        raise RowRejected("Nom de plus de 200 caractères.")
    siret = services.normalise_siret(_string(row, "siret"))
    if siret is not None and (problem := services.siret_problem(siret)):
        raise RowRejected(problem)
    postcode = _string(row, "code_postal")
    if postcode is not None and not POSTCODE_PATTERN.match(postcode):
        raise RowRejected(f"Code postal invalide : « {postcode} » (5 chiffres attendus).")
    territory = _structure_territory(context, row)
    session = context.session
    values = {
        "siret": siret,
        "address": " ".join(
            part for part in (_string(row, "adresse"), _string(row, "complement_adresse")) if part
        )
        or None,
        "postcode": postcode,
        "town": _string(row, "commune"),
        "description": _string(row, "description")
        or _string(row, "presentation_detail")
        or _string(row, "presentation_resume"),
    }
    key = _key(source_id)
    partner = session.scalar(select(Partner).where(Partner.key == key))
    outcome, detail = UNCHANGED, "Déjà importée."
    if partner is None:
        candidates = search.find_partner_duplicates(session, name=name, town=values["town"], siret=siret)
        if candidates:
            partner = session.get(Partner, candidates[0].id)
            assert partner is not None
            outcome, detail = MERGED, f"Fusionnée avec « {partner.name} » : {candidates[0].reason}"
            if partner.key is None:
                partner.key = key
        else:
            partner = Partner(key=key, name=name, kind=_kind(context, row), tags=[], **values)
            session.add(partner)
            session.flush()
            outcome, detail = CREATED, f"Créée sur le territoire {territory.name}."
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
                territory_id=territory.id, status=DeploymentStatus.IN_DISCUSSION, since=date.today()
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


def _thematiques(row: Mapping[str, Any]) -> list[str]:
    value = row.get("thematiques") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RowRejected("« thematiques » doit être une liste de codes.")
    return list(dict.fromkeys(item.strip() for item in value if item.strip()))


def map_thematiques(
    domains: Sequence[Domain], thematiques: Iterable[str]
) -> tuple[Domain | None, list[DomainSubtype]]:
    """Our domain and subtypes for a service's thématiques (the reference tables' mapping).

    An exact thématique of a subtype or a domain counts double; a thématique whose *catégorie*
    a domain covers counts once. The domain with most votes wins (ties: reference order).
    """
    votes: Counter[str] = Counter()
    matched: dict[str, list[DomainSubtype]] = {}
    for code in thematiques:
        category = code.split("--", 1)[0]
        for domain in domains:
            if code in domain.datainclusion:
                votes[domain.code] += 2
            elif category in domain.datainclusion:
                votes[domain.code] += 1
            for subtype in domain.subtypes:
                if code in subtype.datainclusion:
                    votes[domain.code] += 2
                    if subtype not in matched.setdefault(domain.code, []):
                        matched[domain.code].append(subtype)
    if not votes:
        return None, []
    order = {domain.code: index for index, domain in enumerate(domains)}
    best = min(votes, key=lambda code: (-votes[code], order[code]))
    domain = next(domain for domain in domains if domain.code == best)
    subtypes = sorted(matched.get(best, []), key=lambda subtype: subtype.position)
    return domain, subtypes


def _procedure(row: Mapping[str, Any]) -> str | None:
    parts = []
    for name, label in (
        ("mobilisation_precisions", None),
        ("conditions_acces", "Conditions d'accès"),
        ("lien_mobilisation", "Lien de mobilisation"),
        ("telephone", "Téléphone"),
        ("courriel", "Courriel"),
    ):
        value = _string(row, name)
        if value:
            parts.append(f"{label} : {value}" if label else value)
    modes = row.get("modes_mobilisation")
    if isinstance(modes, list) and modes:
        parts.append("Modes de mobilisation : " + ", ".join(str(mode) for mode in modes))
    return "\n".join(parts) or None


def _import_service(context: _Context, row: Any) -> ImportLine:
    if not isinstance(row, Mapping):
        raise RowRejected("Un service est un objet JSON.")
    source_id = _string(row, "id")
    name = _string(row, "nom")
    structure_id = _string(row, "structure_id")
    if not source_id:
        raise RowRejected("Identifiant « id » manquant.")
    if not name:
        raise RowRejected("Nom « nom » manquant.")
    session = context.session
    if structure_id in context.structures:
        partner_id, territory_id = context.structures[structure_id]
    else:
        partner = session.scalar(select(Partner).where(Partner.key == _key(structure_id or "")))
        if partner is None or not partner.territory_links:
            raise RowRejected(f"Structure « {structure_id} » absente du fichier, rejetée ou inconnue.")
        partner_id, territory_id = partner.id, partner.territory_links[0].territory_id
    thematiques = _thematiques(row)
    domain, subtypes = map_thematiques(context.domains, thematiques)
    if domain is None:
        shown = ", ".join(thematiques) or "aucune"
        raise RowRejected(f"Aucune thématique ne correspond à nos domaines (thématiques : {shown}).")
    key = _opportunity_key(source_id)
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
    documents = row.get("justificatifs") or []
    opportunity = Opportunity(
        key=key,
        partner_id=partner_id,
        territory_id=territory_id,
        title=name[:200],
        domain_code=domain.code,
        description=_string(row, "description")
        or _string(row, "presentation_detail")
        or _string(row, "presentation_resume"),
        procedure=_procedure(row),
        documents_required=[str(item) for item in documents] if isinstance(documents, list) else [],
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
    session.flush()
    labels = ", ".join(subtype.label for subtype in subtypes) or "sans sous-thème"
    return ImportLine(
        "service", source_id, name, CREATED, f"Brouillon créé : {domain.label} ({labels}).", opportunity.id
    )


def import_datainclusion(
    session: Session,
    actor: User | None,
    payload: Any,
    *,
    territory_slug: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a data·inclusion document: structures first, then their services.

    `actor` None is the command line, acting for the national team; a CP may import for their
    own territory only. Each row is a savepoint: a rejected row leaves no trace, the others stay.
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
    territories = list(session.scalars(select(Territory).order_by(Territory.id)))
    context = _Context(
        session=session,
        actor=actor,
        territory=territory,
        territories_by_department={
            department: item for item in territories for department in item.departments
        },
        partner_kinds=reference.code_set(session, "partner_kind"),
        domains=list(
            session.scalars(
                select(Domain).options(selectinload(Domain.subtypes)).order_by(Domain.position, Domain.code)
            )
        ),
    )
    report = ImportReport()
    advance = progress or (lambda _count: None)
    for kind, rows, importer in (
        ("structure", structures, _import_structure),
        ("service", service_rows, _import_service),
    ):
        for row in rows:
            report.lines.append(_import_row(context, kind, row, importer))
            advance(1)
    return report


def _import_row(
    context: _Context, kind: str, row: Any, importer: Callable[[_Context, Any], ImportLine]
) -> ImportLine:
    source_id = str(row.get("id") or "?") if isinstance(row, Mapping) else "?"
    name = str(row.get("nom") or "") if isinstance(row, Mapping) else ""
    savepoint = context.session.begin_nested()
    try:
        line = importer(context, row)
    except RowRejected as rejection:
        savepoint.rollback()
        return ImportLine(kind, source_id, name, REJECTED, rejection.reason)
    except DomainError as refusal:
        savepoint.rollback()
        details = "; ".join(message for messages in refusal.errors.values() for message in messages)
        return ImportLine(kind, source_id, name, REJECTED, f"{refusal.message} {details}".strip())
    except IntegrityError:
        savepoint.rollback()
        return ImportLine(
            kind, source_id, name, REJECTED, "Refusée par la base de données (valeur en double ou invalide)."
        )
    savepoint.commit()
    return line
