"""The partners' opportunities (« opportunités »): listing, creating and editing them with a
version and a history, moving them through their lifecycle, and describing their criteria.

What makes an opportunity valid is `referral.partners.rules` (pure); its states and moves are
the table of `referral.partners.lifecycle`. This module gathers what those need from the
database, checks the actor's role and scope (`referral.partners.scope`), writes, flushes and
never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from referral import clock
from referral.access import offered_in_territory, opportunity_filter, partner_filter
from referral.cases.models import DataCategory
from referral.db import assign_changed, rowcount, utcnow
from referral.exceptions import InvalidInput, PermissionDenied
from referral.matching.registry import FIELDS, OPERATORS
from referral.paging import Page, PageRequest
from referral.partners import lifecycle, rules
from referral.partners.exceptions import (
    InvalidOpportunity,
    NotThePartnerNetworkRole,
    OpportunityNotFound,
    OpportunityTransitionRefused,
    StaleVersion,
)
from referral.partners.models import (
    Criterion,
    Opportunity,
    OpportunityRevision,
    OpportunityStatus,
    Partner,
    opportunity_subtypes,
)
from referral.partners.rules import OPPORTUNITY_FIELD_LABELS, OPPORTUNITY_FIELDS, criterion_state, iso
from referral.partners.scope import BUILDERS_ONLY, check_domain, known_territory, require_builder
from referral.reference import queries as reference
from referral.reference.models import DomainSubtype
from referral.territories.models import Programme, Role, Territory, User


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
    """Seeding: the opportunity of `key`, created or brought in line with these values (idempotent)."""
    subtype_codes = list(dict.fromkeys(subtypes))
    categories = list(dict.fromkeys(shared_categories))
    all_subtypes = _all_subtypes(session)
    errors = rules.coded_errors(
        domain=domain,
        subtypes=subtype_codes,
        shared_categories=categories,
        criteria=criteria,
        known=known_codes(session, all_subtypes),
    )
    found_subtypes = [subtype for subtype in all_subtypes if subtype.code in subtype_codes]
    if errors:
        raise InvalidInput(f"L'opportunité « {title} » contient des données invalides.", errors=errors)

    territory_id = known_territory(session, territory_slug).id if territory_slug else None
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
    # A set: the relationship reads them by position, the reference list by code.
    if {s.code for s in opportunity.subtypes} != {s.code for s in found_subtypes}:
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
        # opportunity, and the workers' matching indexes, that the opportunity changed.
        opportunity.version += 1
    session.flush()
    return opportunity


def _all_subtypes(session: Session) -> list[DomainSubtype]:
    """Every subtype (a short reference list), by code: the rules check an opportunity's against
    them, and its own are picked from them."""
    return list(session.scalars(select(DomainSubtype).order_by(DomainSubtype.code)))


def known_codes(session: Session, subtypes: Sequence[DomainSubtype]) -> rules.KnownCodes:
    """What `rules` needs to check an opportunity's codes, read from the reference data."""
    return rules.KnownCodes(
        domains=reference.domain_codes(session),
        subtypes={subtype.code: subtype.domain_code for subtype in subtypes},
        categories=frozenset(category.value for category in DataCategory),
        criteria=criterion_codes(session),
        labels={
            **{domain.code: domain.label for domain in reference.domains(session)},
            **{subtype.code: subtype.label for subtype in subtypes},
        },
    )


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


def list_opportunities(
    session: Session,
    actor: User,
    *,
    status: str | None = None,
    domain: str | None = None,
    partner_id: int | None = None,
    territory_slug: str | None = None,
) -> list[Opportunity]:
    query = _opportunities_query(session, actor, status, domain, partner_id, territory_slug)
    return list(session.scalars(query))


@dataclass(frozen=True)
class CriterionLine:
    field: str
    op: str
    value: Any
    hard: bool
    weight: float


@dataclass(frozen=True)
class OpportunityLine:
    """One opportunity of a list, read as plain rows: what the API's list shows, nothing else."""

    id: int
    partner_id: int
    partner_name: str
    territory_id: int | None
    title: str
    domain_code: str
    description: str | None
    capacity: int
    places_taken: int
    answer_delay_days: int
    requires_cp_validation: bool
    valid_from: date | None
    valid_until: date | None
    procedure: str | None
    documents_required: list[str]
    shared_categories: list[str]
    tags: list[str]
    status: OpportunityStatus
    version: int
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    subtypes: list[str]
    criteria: list[CriterionLine]

    @property
    def places_left(self) -> int:
        return self.capacity - self.places_taken


_LINE_COLUMNS = (
    Opportunity.id,
    Opportunity.partner_id,
    Partner.name.label("partner_name"),
    Opportunity.territory_id,
    Opportunity.title,
    Opportunity.domain_code,
    Opportunity.description,
    Opportunity.capacity,
    Opportunity.places_taken,
    Opportunity.answer_delay_days,
    Opportunity.requires_cp_validation,
    Opportunity.valid_from,
    Opportunity.valid_until,
    Opportunity.procedure,
    Opportunity.documents_required,
    Opportunity.shared_categories,
    Opportunity.tags,
    Opportunity.status,
    Opportunity.version,
    Opportunity.published_at,
    Opportunity.created_at,
    Opportunity.updated_at,
)


def opportunities_page(
    session: Session,
    actor: User,
    request: PageRequest,
    *,
    status: str | None = None,
    domain: str | None = None,
    partner_id: int | None = None,
    territory_slug: str | None = None,
    with_details: bool = True,
) -> Page[OpportunityLine]:
    """One page of `list_opportunities` as plain rows, in three statements whatever its length:
    the page with its partner's name and the list's total (a window count: no statement of its
    own), the subtypes, the criteria (without `with_details`, the lines have none of either: one
    statement). No ORM object is built (issue 20)."""
    where = _opportunities_query(session, actor, status, domain, partner_id, territory_slug).whereclause
    query = (
        select(*_LINE_COLUMNS, func.count().over().label("total"))
        .join(Partner, Partner.id == Opportunity.partner_id)
        .order_by(Opportunity.title, Opportunity.id)
        .limit(request.limit)
        .offset(request.offset)
    )
    rows = session.execute(query if where is None else query.where(where)).all()
    if rows:
        total = int(rows[0].total)
    elif request.number == 1:
        total = 0
    else:  # past the last page: the window saw no row, count them apart
        counted = select(func.count()).select_from(Opportunity)
        total = session.scalar(counted if where is None else counted.where(where)) or 0
    ids = [row.id for row in rows]
    subtypes: dict[int, list[str]] = {}
    criteria: dict[int, list[CriterionLine]] = {}
    if ids and with_details:
        for opportunity_id, code in session.execute(
            select(opportunity_subtypes.c.opportunity_id, DomainSubtype.code)
            .join(DomainSubtype, DomainSubtype.code == opportunity_subtypes.c.subtype_code)
            .where(opportunity_subtypes.c.opportunity_id.in_(ids))
            .order_by(opportunity_subtypes.c.opportunity_id, DomainSubtype.position, DomainSubtype.code)
        ):
            subtypes.setdefault(opportunity_id, []).append(code)
        for row in session.execute(
            select(
                Criterion.opportunity_id,
                Criterion.field,
                Criterion.op,
                Criterion.value,
                Criterion.hard,
                Criterion.weight,
            )
            .where(Criterion.opportunity_id.in_(ids))
            .order_by(Criterion.opportunity_id, Criterion.position, Criterion.id)
        ):
            criteria.setdefault(row.opportunity_id, []).append(
                CriterionLine(row.field, row.op, row.value, row.hard, row.weight)
            )
    lines = [
        OpportunityLine(
            **{column.key: getattr(row, column.key) for column in _LINE_COLUMNS},
            subtypes=subtypes.get(row.id, []),
            criteria=criteria.get(row.id, []),
        )
        for row in rows
    ]
    return Page(lines, total, request)


def opportunity_counts(
    session: Session, actor: User, partner_ids: Iterable[int], *, territory_slug: str | None = None
) -> dict[int, int]:
    """How many opportunities of `list_opportunities` each partner has (those the actor may see:
    a CIP, the published ones), in one statement."""
    ids = list(partner_ids)
    if not ids:
        return {}
    where = _opportunities_query(session, actor, None, None, None, territory_slug).whereclause
    query = (
        select(Opportunity.partner_id, func.count())
        .where(Opportunity.partner_id.in_(ids))
        .group_by(Opportunity.partner_id)
    )
    rows = session.execute(query if where is None else query.where(where))
    return {int(partner_id): int(count) for partner_id, count in rows}


def _opportunities_query(
    session: Session,
    actor: User,
    status: str | None,
    domain: str | None,
    partner_id: int | None,
    territory_slug: str | None,
) -> Select[Opportunity]:
    query = select(Opportunity).where(opportunity_filter(actor))
    if territory_slug:
        query = query.where(offered_in_territory(known_territory(session, territory_slug).id))
    if status:
        query = query.where(Opportunity.status == OpportunityStatus(status))
    if domain:
        query = query.where(Opportunity.domain_code == domain)
    if partner_id is not None:
        query = query.where(Opportunity.partner_id == partner_id)
    # What the pages and the API show of each opportunity, loaded in a few queries rather than per row.
    query = query.options(
        selectinload(Opportunity.partner),
        selectinload(Opportunity.subtypes),
        selectinload(Opportunity.criteria),
    )
    return query.order_by(Opportunity.title, Opportunity.id)


def get_opportunity(session: Session, actor: User, opportunity_id: int) -> Opportunity:
    opportunity = session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, opportunity_filter(actor))
    )
    if opportunity is None:
        raise OpportunityNotFound()
    return opportunity


# =============================================================================================
# Creating and editing, with history
# =============================================================================================


def opportunity_state(opportunity: Opportunity) -> dict[str, Any]:
    """An opportunity's editable content as plain JSON values: the snapshot kept in its history."""
    return {
        "title": opportunity.title,
        "domain": opportunity.domain_code,
        "subtypes": [subtype.code for subtype in opportunity.subtypes],
        "description": opportunity.description,
        "capacity": opportunity.capacity,
        "answer_delay_days": opportunity.answer_delay_days,
        "requires_cp_validation": opportunity.requires_cp_validation,
        "valid_from": iso(opportunity.valid_from),
        "valid_until": iso(opportunity.valid_until),
        "criteria": [
            criterion_state(
                {"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight}
            )
            for c in opportunity.criteria
        ],
        "procedure": opportunity.procedure,
        "documents_required": list(opportunity.documents_required or []),
        "shared_categories": list(opportunity.shared_categories or []),
        "tags": list(opportunity.tags or []),
    }


def _next_state(
    session: Session, values: Mapping[str, Any], current: Opportunity | None
) -> tuple[dict[str, Any], list[DomainSubtype]]:
    """The opportunity as it would be after `values`, checked by `rules`, and its subtypes."""
    all_subtypes = _all_subtypes(session)
    state, errors = rules.next_opportunity_state(
        values,
        opportunity_state(current) if current is not None else None,
        places_taken=current.places_taken if current is not None else 0,
        known=known_codes(session, all_subtypes),
    )
    if errors:
        raise InvalidOpportunity("L'opportunité contient des données invalides.", errors=errors)
    return state, [subtype for subtype in all_subtypes if subtype.code in state["subtypes"]]


def _apply_opportunity_state(
    opportunity: Opportunity, state: Mapping[str, Any], subtypes: list[DomainSubtype]
) -> None:
    assign_changed(
        opportunity,
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
    if [s.code for s in opportunity.subtypes] != [s.code for s in subtypes]:
        opportunity.subtypes = subtypes
    current = [
        criterion_state({"field": c.field, "op": c.op, "value": c.value, "hard": c.hard, "weight": c.weight})
        for c in opportunity.criteria
    ]
    if current != list(state["criteria"]):
        opportunity.criteria = [
            Criterion(position=position, **item) for position, item in enumerate(state["criteria"])
        ]


def _managed_opportunity(session: Session, actor: User, opportunity_id: int) -> Opportunity:
    """The opportunity, if `actor` may change it: a CP of its territory and domain, or the national team
    for a national opportunity (no territory). Out-of-scope opportunities answer 404, like missing ones."""
    require_builder(actor)
    opportunity = get_opportunity(session, actor, opportunity_id)
    if actor.role is Role.CP:
        if opportunity.territory_id != actor.territory_id:
            raise PermissionDenied(
                "Cette opportunité d'un partenariat national est gérée par Convergence France : "
                "vous pouvez la consulter et y orienter, pas la modifier."
            )
        check_domain(session, actor, opportunity.domain_code)
    elif opportunity.territory_id is not None:
        raise PermissionDenied(
            "Les opportunités d'un territoire sont gérées par ses chargé·es de partenariats."
        )
    return opportunity


def create_opportunity(session: Session, actor: User, values: Mapping[str, Any]) -> Opportunity:
    """A CP writes a new opportunity of a partner of their territory, in one of their domains, as a
    draft (« brouillon »): nobody but the territory's staff sees it until it is published."""
    require_builder(actor)
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
        check_domain(session, actor, domain)
    state, subtypes = _next_state(session, values, None)
    opportunity = Opportunity(
        partner_id=partner.id,
        territory_id=actor.territory_id if actor.role is Role.CP else None,
        status=OpportunityStatus.DRAFT,
        places_taken=0,
        version=1,
        created_by_id=actor.id,
    )
    session.add(opportunity)
    _apply_opportunity_state(opportunity, state, subtypes)
    session.flush()
    return opportunity


def _claim_version(session: Session, opportunity: Opportunity, expected: int | None) -> None:
    """Optimistic lock: move the opportunity from the version the caller saw to the next one.

    The compare-and-set runs in the database (``UPDATE … WHERE version = :seen``): of two
    concurrent edits from the same version, the second finds no row and is refused, instead of
    silently overwriting the first.
    """
    seen = opportunity.version if expected is None else expected
    if seen != opportunity.version:
        raise StaleVersion(seen, opportunity.version)
    result = session.execute(
        update(Opportunity)
        .where(Opportunity.id == opportunity.id, Opportunity.version == seen)
        .values(version=seen + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        current = session.scalar(select(Opportunity.version).where(Opportunity.id == opportunity.id))
        raise StaleVersion(seen, int(current or seen))
    set_committed_value(opportunity, "version", seen + 1)


def _keep_revision(
    session: Session, actor: User | None, opportunity: Opportunity, action: str, changed: Sequence[str]
) -> None:
    """Store the opportunity as it was before a change, once it has been published (drafts have no
    history: nobody relied on them)."""
    session.add(
        OpportunityRevision(
            opportunity_id=opportunity.id,
            version=opportunity.version,
            revised_by_id=actor.id if actor is not None else None,
            snapshot={
                "action": action,
                "changed": list(changed),
                "status": opportunity.status.value,
                "state": opportunity_state(opportunity),
            },
        )
    )


def update_opportunity(
    session: Session, actor: User, opportunity_id: int, values: Mapping[str, Any], *, version: int
) -> Opportunity:
    """A CP edits an opportunity, naming the `version` they edited (409 if someone changed it since).

    Editing a published (or paused) opportunity first stores its previous state, so CIPs and the next
    meeting can see what changed. A closed opportunity is not edited any more.
    """
    opportunity = _managed_opportunity(session, actor, opportunity_id)
    if opportunity.status is OpportunityStatus.CLOSED:
        raise OpportunityTransitionRefused(
            "Une opportunité clôturée ne se modifie plus : créez-en une nouvelle si l'offre reprend."
        )
    if version != opportunity.version:
        raise StaleVersion(version, opportunity.version)
    new_domain = values.get("domain")
    if isinstance(new_domain, str) and new_domain and new_domain != opportunity.domain_code:
        check_domain(session, actor, new_domain)
    before = opportunity_state(opportunity)
    state, subtypes = _next_state(session, values, opportunity)
    changed = [name for name in OPPORTUNITY_FIELDS if state[name] != before[name]]
    if not changed:
        return opportunity
    if opportunity.status is not OpportunityStatus.DRAFT:
        _keep_revision(session, actor, opportunity, "edit", changed)
    _claim_version(session, opportunity, version)
    _apply_opportunity_state(opportunity, state, subtypes)
    session.flush()
    return opportunity


def transition_opportunity(
    session: Session, actor: User, opportunity_id: int, action: str, *, version: int | None = None
) -> Opportunity:
    """Publish, pause or close an opportunity (« publier », « suspendre », « clôturer »).

    The move, its source states, roles and guards are the `lifecycle.TRANSITIONS` table; any
    other move is refused with a French message and changes nothing. Referrals under way continue;
    a paused or closed opportunity takes no new one (DESIGN §7).
    """
    transition = lifecycle.TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInput(
            f"Action inconnue : « {action} ».",
            errors={"action": [f"Actions possibles : {', '.join(lifecycle.TRANSITIONS)}."]},
        )
    if actor.role not in transition.roles:
        raise NotThePartnerNetworkRole(BUILDERS_ONLY)
    opportunity = _managed_opportunity(session, actor, opportunity_id)
    if opportunity.status not in transition.sources:
        sources = " ou ".join(f"« {status.label} »" for status in transition.sources)
        raise OpportunityTransitionRefused(
            f"Cette opportunité est à l'état « {opportunity.status.label} » : elle ne peut pas être "
            f"{transition.done}. Seule une opportunité à l'état {sources} peut l'être."
        )
    problems = lifecycle.refusals(transition, opportunity, clock.today())
    if problems:
        raise OpportunityTransitionRefused(
            f"Cette opportunité ne peut pas être {transition.done}. " + " ".join(problems)
        )
    if opportunity.status is not OpportunityStatus.DRAFT:
        _keep_revision(session, actor, opportunity, action, [])
    _claim_version(session, opportunity, version)
    opportunity.status = transition.target
    if transition.target is OpportunityStatus.PUBLISHED and opportunity.published_at is None:
        opportunity.published_at = utcnow()
    session.flush()
    return opportunity


# =============================================================================================
# History and criteria, as people read them
# =============================================================================================

REVISION_ACTIONS = {
    "edit": "Modifiée",
    "publish": "Republiée",
    "pause": "Suspendue",
    "close": "Clôturée",
}


@dataclass(frozen=True)
class RevisionView:
    """One line of an opportunity's history: what it was before the change, who changed it, when."""

    version: int
    revised_at: datetime
    revised_by: str | None
    action: str
    action_label: str
    changed_labels: list[str]
    before: dict[str, Any]


def opportunity_history(session: Session, actor: User, opportunity_id: int) -> list[RevisionView]:
    """The opportunity's changes since its first publication, newest first (readers of the opportunity)."""
    opportunity = get_opportunity(session, actor, opportunity_id)
    revisions = list(
        session.scalars(
            select(OpportunityRevision)
            .where(OpportunityRevision.opportunity_id == opportunity.id)
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
