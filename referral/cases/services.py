"""Case-record actions (« dossier »). Each takes the acting user, applies the rules of DESIGN §4
and §8, flushes, and returns domain objects; none commits.

Only a CIP of the person's structure changes a record. Every refusal is a typed exception with a
French message and, for input, the offending fields — and happens before anything is written, so
a refused change leaves the record as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from referral import clock
from referral.access import participant_filter
from referral.audit.services import record_read, record_refusal
from referral.cases import consents, rules
from referral.cases.exceptions import (
    LikelyDuplicate,
    ParticipantNotFound,
    RecordAnonymised,
    RecordsNotVisible,
)
from referral.cases.models import (
    CaseNote,
    Consent,
    ConsentRecipient,
    Contract,
    ContractKind,
    DataCategory,
    ExternalReferent,
    FollowUpKind,
    HealthRecord,
    Need,
    NeedStatus,
    Participant,
    RenewalOutcome,
)
from referral.exceptions import Conflict, InvalidInput, NotFound
from referral.reference import queries as reference
from referral.search import PersonRecord, fold, person_duplicates
from referral.territories.models import Programme, Role, Structure, User

# Participant fields a CIP may set, with the reference list their codes come from.
CODED_FIELDS = {
    "housing_status": "housing_status",
    "health_coverage": "health_coverage",
    "residence_status": "residence_status",
    "language_level": "language_level",
}
PARTICIPANT_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "programme",
    "entered_on",
    "housing_status",
    "health_coverage",
    "residence_status",
    "residence_permit_expires_on",
    "language_level",
    "driving_licence",
    "household_size",
    "children",
    "monthly_resources",
    "objects_to_evaluation",
)
# Residence statuses that come with a permit whose end date matters.
PERMIT_STATUSES = frozenset({"titre_valide", "recepisse"})


def require_cip(actor: User) -> None:
    if actor.role is not Role.CIP:
        raise RecordsNotVisible()


def load(session: Session, actor: User, participant_id: int, *, for_update: bool = False) -> Participant:
    """The record if the actor may open it; otherwise the same answer as a missing one."""
    query = select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    if for_update:
        query = query.with_for_update()
    person = session.scalar(query)
    if person is None:
        refused_attempt(session, participant_id)
        raise ParticipantNotFound()
    return person


def refused_attempt(session: Session, participant_id: int) -> None:
    """An attempt on a record outside the actor's scope is logged (« accès refusé »); the
    answer stays the 404 of a missing record."""
    if session.get(Participant, participant_id) is not None:
        record_refusal(
            session, entity="participants", entity_id=participant_id, participant_id=participant_id
        )


def load_to_change(
    session: Session, actor: User, participant_id: int, *, for_update: bool = False
) -> Participant:
    """The record if the actor may change it: as `load`, and never once anonymised."""
    person = load(session, actor, participant_id, for_update=for_update)
    if person.anonymised_at is not None:
        raise RecordAnonymised()
    return person


def part_of_record(
    session: Session,
    actor: User,
    participant_id: int,
    model: type[Any],
    row_id: int,
    missing: str,
    *,
    for_update: bool = False,
) -> tuple[Participant, Any]:
    """A row of a record (a need, a consent…) the actor may change, with its record; a row of
    another record answers like a missing one."""
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=for_update)
    row = session.get(model, row_id)
    if row is None or row.participant_id != person.id:
        raise NotFound(missing)
    return person, row


# --- Reading -------------------------------------------------------------------------------


def list_participants(session: Session, actor: User) -> list[Participant]:
    """« Mes salarié·es »: the people the actor's structure accompanies, by name."""
    require_cip(actor)
    people = list(
        session.scalars(
            select(Participant)
            .where(participant_filter(actor), Participant.anonymised_at.is_(None))
            .options(
                selectinload(Participant.needs),
                selectinload(Participant.exit),
                selectinload(Participant.renewals),
                selectinload(Participant.follow_ups),
            )
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )
    record_read(
        session, entity="participants", entity_id=None, participant_id=None, what=f"liste ({len(people)})"
    )
    return people


def get_participant(
    session: Session, actor: User, participant_id: int, *, with_record: bool = False
) -> Participant:
    """One record the actor may open (audited). `with_record` loads contracts, needs, health and
    structure in the same round trips, for callers that read all of them."""
    query = select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    if with_record:
        query = query.options(
            selectinload(Participant.contracts),
            selectinload(Participant.needs),
            selectinload(Participant.health_record),
            joinedload(Participant.structure),
        )
    person = session.scalar(query)
    if person is None:
        refused_attempt(session, participant_id)
        raise ParticipantNotFound()
    record_read(session, entity="participants", entity_id=person.id, participant_id=person.id, what="dossier")
    return person


def path_of(person: Participant) -> rules.PathDates:
    return rules.path_dates(
        person.programme.value,
        person.entered_on,
        [rules.Renewal(r.outcome is RenewalOutcome.GRANTED, r.valid_until) for r in person.renewals],
    )


# --- Creating and editing the record -------------------------------------------------------


def _check_participant_values(session: Session, values: Mapping[str, Any], structure: Structure) -> None:
    errors: dict[str, list[str]] = {}
    for field, list_name in CODED_FIELDS.items():
        code = values.get(field)
        if code is not None and code not in reference.code_set(session, list_name):
            errors[field] = [f"Code inconnu : « {code} »."]
    programme = values.get("programme")
    if programme is not None and Programme(programme) not in structure.programmes:
        errors["programme"] = [
            f"La structure « {structure.name} » ne porte pas le programme {Programme(programme).label}."
        ]
    birth, entry = values.get("birth_date"), values.get("entered_on")
    if birth and entry and birth >= entry:
        errors["birth_date"] = ["La date de naissance doit précéder l'entrée dans le parcours."]
    if entry and entry > clock.today() + timedelta(days=90):
        errors["entered_on"] = ["L'entrée dans le parcours ne peut pas être à plus de trois mois."]
    household, children = values.get("household_size"), values.get("children")
    if household is not None and household < 1:
        errors["household_size"] = ["Le foyer compte au moins une personne."]
    if household is not None and children is not None and children >= household:
        errors["children"] = ["Les enfants à charge font partie du foyer : moins d'enfants que de personnes."]
    if values.get("monthly_resources") is not None and values["monthly_resources"] < 0:
        errors["monthly_resources"] = ["Les ressources ne peuvent pas être négatives."]
    if (
        values.get("residence_status") in PERMIT_STATUSES
        and values.get("residence_permit_expires_on") is None
    ):
        errors["residence_permit_expires_on"] = ["Indiquez la date de fin du titre ou du récépissé."]
    if errors:
        raise InvalidInput("Le dossier contient des données invalides.", errors=errors)


@dataclass(frozen=True)
class DuplicateCandidate:
    participant_id: int
    structure_id: int
    structure_name: str
    score: float
    reason: str
    # The actor's own structure already has a record for them: open it rather than a second one.
    same_structure: bool = False


def find_in_structure(
    session: Session, actor: User, *, first_name: str, last_name: str, birth_date: date
) -> list[DuplicateCandidate]:
    """Records of the actor's own structure that are probably the same person (same birth date,
    close name): the warning applies within the structure as across the territory (issue 15)."""
    structure = actor.structure
    if structure is None:
        return []
    rows = session.execute(
        select(Participant.id, Participant.first_name, Participant.last_name, Participant.birth_date)
        .where(
            Participant.structure_id == structure.id,
            Participant.birth_date == birth_date,
            Participant.anonymised_at.is_(None),
        )
        .order_by(Participant.id)
    ).all()
    people = [PersonRecord(row.id, row.first_name, row.last_name, row.birth_date) for row in rows]
    return [
        DuplicateCandidate(
            match.id,
            structure.id,
            structure.name,
            score=match.score,
            reason=match.reason,
            same_structure=True,
        )
        for match in person_duplicates(first_name, last_name, birth_date, people)
    ]


def find_followed_elsewhere(
    session: Session, actor: User, *, first_name: str, last_name: str, birth_date: date
) -> list[DuplicateCandidate]:
    """People another structure of the territory probably already follows (same birth date,
    close name). Only their structure is told, never more of their record."""
    territory_id = actor.scope_territory_id
    if territory_id is None:
        return []
    rows = session.execute(
        select(
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            Participant.birth_date,
            Participant.structure_id,
            Structure.name,
        )
        .join(Participant.structure)
        .where(
            Structure.territory_id == territory_id,
            Participant.structure_id != actor.structure_id,
            Participant.birth_date == birth_date,
            Participant.anonymised_at.is_(None),
        )
        .order_by(Participant.id)
    ).all()
    people = [PersonRecord(row.id, row.first_name, row.last_name, row.birth_date) for row in rows]
    structures = {row.id: (row.structure_id, row.name) for row in rows}
    return [
        DuplicateCandidate(match.id, *structures[match.id], score=match.score, reason=match.reason)
        for match in person_duplicates(first_name, last_name, birth_date, people)
    ]


def create_participant(
    session: Session, actor: User, values: Mapping[str, Any], *, confirm_new: bool = False
) -> Participant:
    """Open a record in the actor's structure.

    When the structure itself already has a record for the same person (close name, same birth
    date), or another structure of the territory probably follows them, refuse with the candidates
    (`LikelyDuplicate`) so the CIP opens that record or asks for a transfer instead — unless they
    confirm it is someone else.
    """
    require_cip(actor)
    structure = actor.structure
    assert structure is not None  # a CIP always has one (database constraint)
    _check_participant_values(session, values, structure)
    if not confirm_new:
        identity = {
            "first_name": values["first_name"],
            "last_name": values["last_name"],
            "birth_date": values["birth_date"],
        }
        candidates = find_in_structure(session, actor, **identity)
        candidates += find_followed_elsewhere(session, actor, **identity)
        if candidates:
            raise LikelyDuplicate(candidates)
    data = {field: values[field] for field in PARTICIPANT_FIELDS if field in values}
    data["programme"] = Programme(data["programme"])
    person = Participant(structure_id=structure.id, referent_id=actor.id, **data)
    session.add(person)
    session.flush()
    return person


def update_participant(
    session: Session, actor: User, participant_id: int, changes: Mapping[str, Any]
) -> Participant:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=True)
    merged = {field: getattr(person, field) for field in PARTICIPANT_FIELDS}
    merged["programme"] = person.programme.value
    merged.update({field: value for field, value in changes.items() if field in PARTICIPANT_FIELDS})
    _check_participant_values(session, merged, person.structure)
    if merged["entered_on"] != person.entered_on and person.contracts:
        first = min(c.starts_on for c in person.contracts)
        if merged["entered_on"] > first:
            raise InvalidInput(
                "L'entrée dans le parcours ne peut pas suivre le premier contrat.",
                errors={"entered_on": [f"Le premier contrat commence le {first:%d/%m/%Y}."]},
            )
    for field in PARTICIPANT_FIELDS:
        if field in changes:
            value = Programme(changes[field]) if field == "programme" else changes[field]
            setattr(person, field, value)
    session.flush()
    return person


# --- Contracts -----------------------------------------------------------------------------


def _span(contract: Contract) -> rules.ContractSpan:
    return rules.ContractSpan(
        contract.kind.value, contract.weekly_hours, contract.starts_on, contract.ends_on
    )


def add_contract(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Contract:
    """Record a contract. An open contract of the same kind that started earlier ends the day
    before (a new step of hours is a new contract, so the progression stays visible)."""
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=True)
    kind = ContractKind(values["kind"])
    employer = (values.get("employer_name") or "").strip() or None
    if kind is ContractKind.CDI and employer is None:
        raise InvalidInput(
            "Un CDI nomme son employeur.", errors={"employer_name": ["Champ obligatoire pour un CDI."]}
        )
    if kind is not ContractKind.CDI and employer is not None:
        raise InvalidInput(
            "Seul un CDI a un employeur extérieur.", errors={"employer_name": ["Réservé au CDI."]}
        )
    new = rules.ContractSpan(
        kind.value, float(values["weekly_hours"]), values["starts_on"], values.get("ends_on")
    )
    to_close = [
        c for c in person.contracts if c.kind is kind and c.ends_on is None and c.starts_on < new.starts_on
    ]
    existing = [
        rules.ContractSpan(
            c.kind.value,
            c.weekly_hours,
            c.starts_on,
            new.starts_on - timedelta(days=1) if c in to_close else c.ends_on,
        )
        for c in person.contracts
    ]
    problems = rules.contract_problems(new, existing, path_of(person))
    if problems:
        raise InvalidInput("Ce contrat ne respecte pas les règles du parcours.", errors=problems)
    for contract in to_close:
        contract.ends_on = new.starts_on - timedelta(days=1)
    contract = Contract(
        participant_id=person.id,
        kind=kind,
        employer_name=employer,
        weekly_hours=new.weekly_hours,
        starts_on=new.starts_on,
        ends_on=new.ends_on,
    )
    session.add(contract)
    session.flush()
    return contract


# --- Needs (freins) ------------------------------------------------------------------------


def add_need(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Need:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id)
    domain, subtype = values["domain"], values.get("subtype")
    errors: dict[str, list[str]] = {}
    if domain not in reference.domain_codes(session):
        errors["domain"] = [f"Domaine inconnu : « {domain} »."]
    elif subtype is not None and (
        subtype not in reference.subtype_codes(session) or not subtype.startswith(f"{domain}.")
    ):
        domain_label = next(item.label for item in reference.domains(session) if item.code == domain)
        subtype_label = reference.subtype_labels(session).get(subtype, subtype)
        errors["subtype"] = [f"« {subtype_label} » n'est pas un sous-thème du domaine « {domain_label} »."]
    opened_on = values.get("opened_on") or clock.today()
    if opened_on < person.entered_on:
        errors["opened_on"] = ["Un frein s'ouvre au plus tôt à l'entrée dans le parcours."]
    if opened_on > clock.today():
        errors["opened_on"] = ["Date future."]
    if errors:
        raise InvalidInput("Ce frein ne peut pas être enregistré.", errors=errors)
    need = Need(
        participant_id=person.id,
        domain_code=domain,
        subtype_code=subtype,
        priority=values.get("priority", 2),
        opened_on=opened_on,
        at_entry=opened_on == person.entered_on,
        comment=values.get("comment"),
    )
    session.add(need)
    session.flush()
    return need


def update_need(
    session: Session, actor: User, participant_id: int, need_id: int, values: Mapping[str, Any]
) -> Need:
    """Change a need's priority or status; resolving it dates it (today unless given)."""
    person, need = part_of_record(
        session, actor, participant_id, Need, need_id, "Ce frein n'existe pas dans ce dossier."
    )
    if "priority" in values:
        need.priority = values["priority"]
    if "status" in values:
        status = NeedStatus(values["status"])
        if status is NeedStatus.RESOLVED:
            resolved_on = values.get("resolved_on") or clock.today()
            if resolved_on < need.opened_on:
                raise InvalidInput(
                    "Un frein ne peut pas être levé avant d'avoir été ouvert.",
                    errors={"resolved_on": [f"Ouvert le {need.opened_on:%d/%m/%Y}."]},
                )
            need.resolved_on = resolved_on
        else:
            need.resolved_on = None
        need.status = status
    session.flush()
    return need


# --- Consent (accompagnement concerté) -----------------------------------------------------


def record_consent(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Consent:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id)
    given_on = values.get("given_on") or clock.today()
    if given_on > clock.today():
        raise InvalidInput(
            "Un consentement ne se date pas dans le futur.", errors={"given_on": ["Date future."]}
        )
    expires_on = values.get("expires_on")
    if expires_on is not None and expires_on <= given_on:
        raise InvalidInput(
            "La fin du consentement doit suivre son recueil.", errors={"expires_on": ["Date trop tôt."]}
        )
    recipient = ConsentRecipient(values["recipient"])
    partner_id = values.get("partner_id")
    if partner_id is not None and recipient is not ConsentRecipient.PARTNER:
        raise InvalidInput(
            "Seul un consentement aux partenaires nomme un partenaire.",
            errors={"partner_id": ["Réservé aux partenaires."]},
        )
    consent = Consent(
        participant_id=person.id,
        recipient=recipient,
        partner_id=partner_id,
        data_category=DataCategory(values["data_category"]),
        given_on=given_on,
        expires_on=expires_on,
        recorded_by_id=actor.id,
    )
    session.add(consent)
    session.flush()
    return consent


def get_consent(session: Session, actor: User, participant_id: int, consent_id: int) -> Consent:
    """A consent of a record its CIP may withdraw (for the confirmation page)."""
    _person, consent = part_of_record(
        session, actor, participant_id, Consent, consent_id, "Ce consentement n'existe pas dans ce dossier."
    )
    if consent.revoked_on is not None:
        raise Conflict("Ce consentement est déjà retiré.")
    return consent


def revoke_consent(
    session: Session, actor: User, participant_id: int, consent_id: int, revoked_on: date | None = None
) -> Consent:
    person, consent = part_of_record(
        session, actor, participant_id, Consent, consent_id, "Ce consentement n'existe pas dans ce dossier."
    )
    if consent.revoked_on is not None:
        raise Conflict("Ce consentement est déjà retiré.")
    revoked_on = revoked_on or clock.today()
    if revoked_on < consent.given_on:
        raise InvalidInput("Un retrait ne précède pas le recueil.", errors={"revoked_on": ["Date trop tôt."]})
    consent.revoked_on = revoked_on
    session.flush()
    # What was shared under it stops being shown at once; those who received it are told.
    consents.consent_withdrawn(session, consent)
    return consent


def may_share(
    session: Session,
    participant_id: int,
    *,
    recipient: ConsentRecipient,
    category: DataCategory,
    partner_id: int | None = None,
    on: date | None = None,
) -> bool:
    """« X may see Y of this person now? »: a consent for that recipient and data category is in
    force on `on` (today by default). Every service that shares anything asks this first."""
    on = on or clock.today()
    query = select(Consent.id).where(
        Consent.participant_id == participant_id,
        Consent.recipient == recipient,
        Consent.data_category == category,
        Consent.given_on <= on,
        (Consent.expires_on.is_(None)) | (Consent.expires_on > on),
        (Consent.revoked_on.is_(None)) | (Consent.revoked_on > on),
    )
    if recipient is ConsentRecipient.PARTNER:
        query = query.where((Consent.partner_id.is_(None)) | (Consent.partner_id == partner_id))
    return session.scalar(query.limit(1)) is not None


# --- External referents, notes, health -----------------------------------------------------


def add_referent(
    session: Session, actor: User, participant_id: int, values: Mapping[str, Any]
) -> ExternalReferent:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id)
    if values["role"] not in reference.code_set(session, "referent_role"):
        raise InvalidInput("Rôle inconnu.", errors={"role": [f"Code inconnu : « {values['role']} »."]})
    referent = ExternalReferent(
        participant_id=person.id,
        name=values["name"],
        organisation=values.get("organisation"),
        role=values["role"],
        email=values.get("email"),
        phone=values.get("phone"),
        started_on=values.get("started_on"),
    )
    session.add(referent)
    session.flush()
    return referent


def add_note(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> CaseNote:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id)
    domain = values.get("domain")
    if domain is not None and domain not in reference.domain_codes(session):
        raise InvalidInput("Domaine inconnu.", errors={"domain": [f"Code inconnu : « {domain} »."]})
    note = CaseNote(participant_id=person.id, author_id=actor.id, body=values["body"], domain_code=domain)
    session.add(note)
    session.flush()
    return note


def get_health(session: Session, actor: User, participant_id: int) -> HealthRecord | None:
    """Health details, for the CIP of the structure only (a CP sees them through a health
    referral the person consented to share; coordinators never)."""
    require_cip(actor)
    person = load(session, actor, participant_id)
    record_read(
        session,
        entity="health_records",
        entity_id=person.health_record.id if person.health_record else None,
        participant_id=person.id,
        what="santé",
    )
    return person.health_record


HEALTH_FIELDS = (
    "has_treating_doctor",
    "treating_doctor",
    "rqth",
    "rqth_expires_on",
    "css",
    "css_expires_on",
    "addictions",
    "psychological_follow_up",
    "notes",
)


def update_health(
    session: Session, actor: User, participant_id: int, values: Mapping[str, Any]
) -> HealthRecord:
    require_cip(actor)
    person = load_to_change(session, actor, participant_id)
    record = person.health_record
    if record is None:
        # Set through the relationship, not the foreign key alone: the record then knows its
        # health details at once, and a second update in the same session changes them rather
        # than inserting a second row (refused by the unique participant).
        record = person.health_record = HealthRecord()
    for field in HEALTH_FIELDS:
        if field in values:
            setattr(record, field, values[field])
    if record.treating_doctor and not record.has_treating_doctor:
        record.has_treating_doctor = True
    record.updated_by_id = actor.id
    session.add(record)
    session.flush()
    return record


# --- « Mes salarié·es »: search, filters, what needs attention ------------------------------


@dataclass(frozen=True)
class Attention:
    code: str
    message: str


@dataclass(frozen=True)
class Deadline:
    """A date the CIP must keep in view (summary at the top of the record)."""

    on: date
    what: str
    anchor: str  # the section of the record where it is handled


CONSENT_DAYS = 60  # a consent ending within two months is a deadline


def next_deadlines(person: Participant, today: date, limit: int = 5) -> list[Deadline]:
    """The next dates of a record, soonest first: end of path, renewal decision, follow-ups,
    consents and residence permit expiring (what is already late comes first)."""
    found: list[Deadline] = []
    if person.exit is None:
        path = path_of(person)
        found.append(Deadline(path.authorised_end, "Fin de parcours autorisée", "parcours"))
        if path.next_decision_due is not None:
            found.append(Deadline(path.next_decision_due, "Décision de renouvellement", "parcours"))
        if person.residence_permit_expires_on is not None:
            found.append(Deadline(person.residence_permit_expires_on, "Fin du titre de séjour", "situation"))
    for follow_up in person.follow_ups:
        if follow_up.done_on is None:
            found.append(Deadline(follow_up.due_on, follow_up.kind.label, "sortie"))
    for consent in person.consents:
        ends = consent.expires_on
        if consent.revoked_on is None and ends is not None and 0 <= (ends - today).days <= CONSENT_DAYS:
            label = f"Fin du consentement « {consent.data_category.label} → {consent.recipient.label} »"
            found.append(Deadline(ends, label, "consentements"))
    return sorted(found, key=lambda item: (item.on, item.what))[:limit]


def attention_points(person: Participant, today: date) -> list[Attention]:
    """What a CIP should not miss in this record, most urgent first."""
    return attention_of(
        exited=person.exit is not None,
        permit_expires_on=person.residence_permit_expires_on,
        path=path_of(person),
        follow_ups=[(f.kind, f.due_on, f.done_on) for f in person.follow_ups],
        today=today,
        consent_ends_on=min(
            (
                c.expires_on
                for c in person.consents
                if c.revoked_on is None and c.expires_on and c.expires_on >= today
            ),
            default=None,
        ),
    )


def attention_of(
    *,
    exited: bool,
    permit_expires_on: date | None,
    path: rules.PathDates,
    follow_ups: Iterable[tuple[FollowUpKind, date, date | None]],
    today: date,
    consent_ends_on: date | None = None,
) -> list[Attention]:
    """`attention_points` from plain values, for lists that read rows rather than records;
    `follow_ups` as (kind, due on, done on), by due date."""
    points: list[Attention] = []
    if not exited:
        if permit_expires_on is not None:
            days = (permit_expires_on - today).days
            if days < 0:
                points.append(
                    Attention("permit_expired", "Titre de séjour expiré : renouvellement à engager.")
                )
            elif days <= 60:
                points.append(Attention("permit_expiring", f"Titre de séjour expirant dans {days} jours."))
        if path.next_decision_due is not None and (path.next_decision_due - today).days <= 60:
            points.append(
                Attention(
                    "renewal_due",
                    f"Décision de renouvellement à obtenir avant le {path.next_decision_due:%d/%m/%Y}.",
                )
            )
        elif (path.authorised_end - today).days <= 90:
            points.append(Attention("path_ending", f"Fin de parcours le {path.authorised_end:%d/%m/%Y}."))
    for kind, due_on, done_on in follow_ups:
        if done_on is None and due_on <= today + timedelta(days=14):
            late = " (en retard)" if due_on < today else ""
            points.append(Attention("follow_up_due", f"{kind.label} prévu le {due_on:%d/%m/%Y}{late}."))
    if not exited and consent_ends_on is not None and (consent_ends_on - today).days <= CONSENT_DAYS:
        points.append(
            Attention("consent_ending", f"Consentement à renouveler avant le {consent_ends_on:%d/%m/%Y}.")
        )
    return points


NAME_MATCH_THRESHOLD = 75.0


def name_scores(query: str, names: Mapping[int, str]) -> dict[int, float]:
    """Names close to `query`, accents, case and word order aside, one typo allowed."""
    from rapidfuzz import fuzz, process

    folded = {key: fold(name) for key, name in names.items()}
    matches = process.extract(
        fold(query), folded, scorer=fuzz.WRatio, score_cutoff=NAME_MATCH_THRESHOLD, limit=None
    )
    return {key: score for _name, score, key in matches}
