"""Case-record actions (« dossier »). Each takes the acting user, applies the rules of DESIGN §4
and §8, flushes, and returns domain objects; none commits.

Only a CIP of the person's structure changes a record. Every refusal is a typed exception with a
French message and, for input, the offending fields — and happens before anything is written, so
a refused change leaves the record as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from referral.access import participant_filter
from referral.audit import services as audit
from referral.audit.models import AuditAction, AuditEntry
from referral.audit.services import record_read
from referral.cases import rules
from referral.cases.exceptions import (
    LikelyDuplicate,
    ParticipantNotFound,
    RecordAnonymised,
    RecordsNotVisible,
    TransferNotAllowed,
)
from referral.cases.models import (
    CaseNote,
    CaseTransfer,
    Consent,
    ConsentRecipient,
    Contract,
    ContractKind,
    DataCategory,
    Exit,
    ExternalReferent,
    FollowUp,
    FollowUpKind,
    HealthRecord,
    Need,
    NeedStatus,
    Participant,
    RenewalDecision,
    RenewalOutcome,
    TransferState,
)
from referral.db import LabelledEnum, utcnow
from referral.exceptions import Conflict, InvalidInput, NotFound
from referral.reference import queries as reference
from referral.tasks import services as tasks
from referral.tasks.models import TaskStatus
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
)
# Residence statuses that come with a permit whose end date matters.
PERMIT_STATUSES = frozenset({"titre_valide", "recepisse"})


def _require_cip(actor: User) -> None:
    if actor.role is not Role.CIP:
        raise RecordsNotVisible()


def _load(session: Session, actor: User, participant_id: int, *, for_update: bool = False) -> Participant:
    """The record if the actor may open it; otherwise the same answer as a missing one."""
    query = select(Participant).where(Participant.id == participant_id, participant_filter(actor))
    if for_update:
        query = query.with_for_update()
    person = session.scalar(query)
    if person is None:
        raise ParticipantNotFound()
    return person


def _load_to_change(
    session: Session, actor: User, participant_id: int, *, for_update: bool = False
) -> Participant:
    """The record if the actor may change it: as `_load`, and never once anonymised."""
    person = _load(session, actor, participant_id, for_update=for_update)
    if person.anonymised_at is not None:
        raise RecordAnonymised()
    return person


def _part_of_record(
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id, for_update=for_update)
    row = session.get(model, row_id)
    if row is None or row.participant_id != person.id:
        raise NotFound(missing)
    return person, row


# --- Reading -------------------------------------------------------------------------------


def list_participants(session: Session, actor: User) -> list[Participant]:
    """« Mes salarié·es »: the people the actor's structure accompanies, by name."""
    _require_cip(actor)
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
    if entry and entry > date.today() + timedelta(days=90):
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
    from referral.network.search import PersonRecord, person_duplicates

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

    When another structure of the territory probably follows the same person, refuse with the
    candidates (`LikelyDuplicate`) so the CIP asks for a transfer instead — unless they confirm
    it is someone else.
    """
    _require_cip(actor)
    structure = actor.structure
    assert structure is not None  # a CIP always has one (database constraint)
    _check_participant_values(session, values, structure)
    if not confirm_new:
        candidates = find_followed_elsewhere(
            session,
            actor,
            first_name=values["first_name"],
            last_name=values["last_name"],
            birth_date=values["birth_date"],
        )
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id, for_update=True)
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


# --- Transfers between structures ----------------------------------------------------------


def request_transfer(
    session: Session, actor: User, participant_id: int, *, consent_given_on: date, comment: str | None = None
) -> CaseTransfer:
    """The receiving structure's CIP asks to take over a record followed elsewhere in the
    territory (the person continues in another SIAE and consented)."""
    _require_cip(actor)
    person = session.scalar(
        select(Participant)
        .join(Participant.structure)
        .where(
            Participant.id == participant_id,
            Structure.territory_id == actor.scope_territory_id,
            Participant.anonymised_at.is_(None),
        )
    )
    if person is None or person.structure_id == actor.structure_id:
        raise TransferNotAllowed("Aucun dossier d'une autre structure du territoire ne correspond.")
    if consent_given_on > date.today():
        raise InvalidInput(
            "Le consentement ne peut pas être daté dans le futur.",
            errors={"consent_given_on": ["Date future."]},
        )
    pending = session.scalar(
        select(CaseTransfer).where(
            CaseTransfer.participant_id == person.id, CaseTransfer.state == TransferState.REQUESTED
        )
    )
    if pending is not None:
        raise Conflict("Un transfert de ce dossier est déjà en attente.")
    transfer = CaseTransfer(
        participant_id=person.id,
        from_structure_id=person.structure_id,
        to_structure_id=actor.structure_id,
        consent_given_on=consent_given_on,
        requested_by_id=actor.id,
        comment=comment,
    )
    session.add(transfer)
    session.flush()
    return transfer


def decide_transfer(session: Session, actor: User, transfer_id: int, *, accept: bool) -> CaseTransfer:
    """The current structure's CIP hands the record over (or not). History stays with the record:
    notes, contracts, needs and referrals move with it."""
    _require_cip(actor)
    transfer = session.get(CaseTransfer, transfer_id)
    if transfer is None or transfer.from_structure_id != actor.structure_id:
        raise NotFound("Ce transfert n'existe pas ou ne concerne pas votre structure.")
    if transfer.state is not TransferState.REQUESTED:
        raise Conflict("Ce transfert a déjà été traité.")
    transfer.state = TransferState.ACCEPTED if accept else TransferState.REFUSED
    transfer.decided_by_id = actor.id
    transfer.decided_at = utcnow()
    if accept:
        person = session.get(Participant, transfer.participant_id)
        assert person is not None
        person.structure_id = transfer.to_structure_id
        person.referent_id = transfer.requested_by_id
        session.add(
            Consent(
                participant_id=person.id,
                recipient=ConsentRecipient.CP,
                data_category=DataCategory.SITUATION,
                given_on=transfer.consent_given_on,
                recorded_by_id=transfer.requested_by_id,
            )
        )
    session.flush()
    return transfer


def pending_transfers(session: Session, actor: User) -> list[CaseTransfer]:
    """Transfers the actor's structure has to answer or is waiting for."""
    _require_cip(actor)
    return list(
        session.scalars(
            select(CaseTransfer)
            .where(
                CaseTransfer.state == TransferState.REQUESTED,
                (CaseTransfer.from_structure_id == actor.structure_id)
                | (CaseTransfer.to_structure_id == actor.structure_id),
            )
            .order_by(CaseTransfer.requested_at, CaseTransfer.id)
        )
    )


# --- Contracts -----------------------------------------------------------------------------


def _span(contract: Contract) -> rules.ContractSpan:
    return rules.ContractSpan(
        contract.kind.value, contract.weekly_hours, contract.starts_on, contract.ends_on
    )


def add_contract(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Contract:
    """Record a contract. An open contract of the same kind that started earlier ends the day
    before (a new step of hours is a new contract, so the progression stays visible)."""
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id, for_update=True)
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id)
    domain, subtype = values["domain"], values.get("subtype")
    errors: dict[str, list[str]] = {}
    if domain not in reference.domain_codes(session):
        errors["domain"] = [f"Domaine inconnu : « {domain} »."]
    elif subtype is not None and (
        subtype not in reference.subtype_codes(session) or not subtype.startswith(f"{domain}.")
    ):
        errors["subtype"] = [f"« {subtype} » n'est pas un sous-thème du domaine « {domain} »."]
    opened_on = values.get("opened_on") or date.today()
    if opened_on < person.entered_on:
        errors["opened_on"] = ["Un frein s'ouvre au plus tôt à l'entrée dans le parcours."]
    if opened_on > date.today():
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
    person, need = _part_of_record(
        session, actor, participant_id, Need, need_id, "Ce frein n'existe pas dans ce dossier."
    )
    if "priority" in values:
        need.priority = values["priority"]
    if "status" in values:
        status = NeedStatus(values["status"])
        if status is NeedStatus.RESOLVED:
            resolved_on = values.get("resolved_on") or date.today()
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id)
    given_on = values.get("given_on") or date.today()
    if given_on > date.today():
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


def revoke_consent(
    session: Session, actor: User, participant_id: int, consent_id: int, revoked_on: date | None = None
) -> Consent:
    person, consent = _part_of_record(
        session, actor, participant_id, Consent, consent_id, "Ce consentement n'existe pas dans ce dossier."
    )
    if consent.revoked_on is not None:
        raise Conflict("Ce consentement est déjà retiré.")
    revoked_on = revoked_on or date.today()
    if revoked_on < consent.given_on:
        raise InvalidInput("Un retrait ne précède pas le recueil.", errors={"revoked_on": ["Date trop tôt."]})
    consent.revoked_on = revoked_on
    session.flush()
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
    on = on or date.today()
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id)
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id)
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
    _require_cip(actor)
    person = _load(session, actor, participant_id)
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
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id)
    record = person.health_record or HealthRecord(participant_id=person.id)
    for field in HEALTH_FIELDS:
        if field in values:
            setattr(record, field, values[field])
    if record.treating_doctor and not record.has_treating_doctor:
        record.has_treating_doctor = True
    record.updated_by_id = actor.id
    session.add(record)
    session.flush()
    return record


# --- Renewals, exit, follow-ups ------------------------------------------------------------


def request_renewal(
    session: Session, actor: User, participant_id: int, values: Mapping[str, Any]
) -> RenewalDecision:
    """Ask the commission to extend a Convergence path by a year (from the third year)."""
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id, for_update=True)
    path = path_of(person)
    if person.programme is not Programme.CVG:
        raise Conflict("Seuls les parcours Convergence se prolongent au-delà de 24 mois par la commission.")
    if path.next_decision_due is None:
        raise Conflict(f"Le parcours atteint déjà sa limite de cinq ans ({path.hard_limit:%d/%m/%Y}).")
    if any(r.outcome is RenewalOutcome.PENDING for r in person.renewals):
        raise Conflict("Une demande de renouvellement attend déjà la décision de la commission.")
    requested_on = values.get("requested_on") or date.today()
    if requested_on < rules.add_months(path.authorised_end, -6):
        raise InvalidInput(
            "Trop tôt : la demande se fait dans les six mois avant la fin de parcours autorisée "
            f"({path.authorised_end:%d/%m/%Y}).",
            errors={"requested_on": ["Trop tôt."]},
        )
    if not values.get("motivation", "").strip():
        raise InvalidInput("La demande doit être motivée.", errors={"motivation": ["Champ obligatoire."]})
    tasks.close_tasks(session, f"renewal:{person.id}:", prefix=True)
    renewal = RenewalDecision(
        participant_id=person.id,
        requested_on=requested_on,
        requested_by_id=actor.id,
        motivation=values["motivation"],
        accompaniment_evaluation=values.get("accompaniment_evaluation"),
        mobilisation_evaluation=values.get("mobilisation_evaluation"),
    )
    session.add(renewal)
    session.flush()
    return renewal


def decide_renewal(
    session: Session, actor: User, participant_id: int, renewal_id: int, values: Mapping[str, Any]
) -> RenewalDecision:
    """Record the commission's decision; a renewal granted extends the path by one year."""
    person, renewal = _part_of_record(
        session,
        actor,
        participant_id,
        RenewalDecision,
        renewal_id,
        "Cette demande de renouvellement n'existe pas dans ce dossier.",
        for_update=True,
    )
    if renewal.outcome is not RenewalOutcome.PENDING:
        raise Conflict("La commission a déjà statué sur cette demande.")
    decided_on = values.get("decided_on") or date.today()
    if decided_on < renewal.requested_on:
        raise InvalidInput(
            "La décision ne précède pas la demande.", errors={"decided_on": ["Date trop tôt."]}
        )
    granted = bool(values["granted"])
    renewal.valid_until = rules.next_renewal_end(path_of(person)) if granted else None
    renewal.outcome = RenewalOutcome.GRANTED if granted else RenewalOutcome.REFUSED
    renewal.decided_on = decided_on
    renewal.decided_by = values.get("decided_by") or "Commission de renouvellement"
    session.flush()
    return renewal


def record_exit(session: Session, actor: User, participant_id: int, values: Mapping[str, Any]) -> Exit:
    """Close the path and create the follow-ups due 6 and 12 months later."""
    _require_cip(actor)
    person = _load_to_change(session, actor, participant_id, for_update=True)
    if person.exit is not None:
        raise Conflict(f"La sortie est déjà enregistrée (le {person.exit.exited_on:%d/%m/%Y}).")
    errors: dict[str, list[str]] = {}
    exited_on = values["exited_on"]
    if exited_on < person.entered_on:
        errors["exited_on"] = ["La sortie ne précède pas l'entrée."]
    if exited_on > date.today() + timedelta(days=31):
        errors["exited_on"] = ["Une sortie s'enregistre au plus un mois à l'avance."]
    if values["exit_type"] not in reference.code_set(session, "exit_type"):
        errors["exit_type"] = [f"Type de sortie inconnu : « {values['exit_type']} »."]
    for field in ("housing_status", "health_coverage"):
        code = values.get(field)
        if code is not None and code not in reference.code_set(session, field):
            errors[field] = [f"Code inconnu : « {code} »."]
    if errors:
        raise InvalidInput("La sortie ne peut pas être enregistrée.", errors=errors)
    for about in (f"renewal:{person.id}:", f"path_limit:{person.id}"):
        tasks.close_tasks(session, about, status=TaskStatus.CANCELLED, prefix=True)
    exit_row = Exit(
        participant_id=person.id,
        exited_on=exited_on,
        exit_type=values["exit_type"],
        detail=values.get("detail"),
        housing_status=values.get("housing_status"),
        health_coverage=values.get("health_coverage"),
        has_treating_doctor=values.get("has_treating_doctor"),
        rights_opened=list(values.get("rights_opened", [])),
        continued_accompaniment=bool(values.get("continued_accompaniment", False)),
        recorded_by_id=actor.id,
    )
    person.exit = exit_row
    session.flush()
    for contract in person.contracts:
        if contract.kind.value in rules.INSERTION_KINDS and (
            contract.ends_on is None or contract.ends_on > exited_on
        ):
            contract.ends_on = max(exited_on, contract.starts_on)
    for kind, months in zip(
        (FollowUpKind.SIX_MONTHS, FollowUpKind.TWELVE_MONTHS), rules.FOLLOW_UP_MONTHS, strict=True
    ):
        session.add(
            FollowUp(
                participant_id=person.id,
                exit_id=exit_row.id,
                kind=kind,
                due_on=rules.add_months(exited_on, months),
            )
        )
    session.flush()
    return exit_row


def record_follow_up(
    session: Session, actor: User, participant_id: int, follow_up_id: int, values: Mapping[str, Any]
) -> FollowUp:
    person, follow_up = _part_of_record(
        session, actor, participant_id, FollowUp, follow_up_id, "Ce suivi n'existe pas dans ce dossier."
    )
    if follow_up.done_on is not None:
        raise Conflict("Ce suivi est déjà enregistré.")
    if values["outcome"] not in reference.code_set(session, "followup_outcome"):
        raise InvalidInput(
            "Résultat inconnu.", errors={"outcome": [f"Code inconnu : « {values['outcome']} »."]}
        )
    done_on = values.get("done_on") or date.today()
    if done_on < follow_up.exit.exited_on:
        raise InvalidInput("Un suivi post-sortie suit la sortie.", errors={"done_on": ["Date trop tôt."]})
    if done_on > date.today():
        raise InvalidInput("Date future.", errors={"done_on": ["Date future."]})
    follow_up.done_on = done_on
    follow_up.outcome = values["outcome"]
    follow_up.comment = values.get("comment")
    follow_up.recorded_by_id = actor.id
    session.flush()
    tasks.close_tasks(session, f"follow_up:{follow_up.id}")
    return follow_up


# --- « Mes salarié·es »: search, filters, what needs attention ------------------------------


@dataclass(frozen=True)
class Attention:
    code: str
    message: str


@dataclass(frozen=True)
class CaseSummary:
    participant: Participant
    path: rules.PathDates
    attention: list[Attention]
    open_needs: list[Need]
    score: float | None = None  # name match, when searching


def attention_points(person: Participant, today: date) -> list[Attention]:
    """What a CIP should not miss in this record, most urgent first."""
    points: list[Attention] = []
    path = path_of(person)
    if person.exit is None:
        if person.residence_permit_expires_on is not None:
            days = (person.residence_permit_expires_on - today).days
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
    for follow_up in person.follow_ups:
        if follow_up.done_on is None and follow_up.due_on <= today + timedelta(days=14):
            late = " (en retard)" if follow_up.due_on < today else ""
            points.append(
                Attention(
                    "follow_up_due", f"{follow_up.kind.label} prévu le {follow_up.due_on:%d/%m/%Y}{late}."
                )
            )
    return points


def search_participants(
    session: Session,
    actor: User,
    *,
    query: str | None = None,
    programme: str | None = None,
    need_domain: str | None = None,
    path_ends_within_months: int | None = None,
    follow_ups_due: bool = False,
    today: date | None = None,
) -> list[CaseSummary]:
    """The CIP's list with a typo-tolerant name search and the filters of the page."""
    today = today or date.today()
    people = list_participants(session, actor)
    summaries = []
    for person in people:
        open_needs = [need for need in person.needs if need.status is not NeedStatus.RESOLVED]
        summaries.append(CaseSummary(person, path_of(person), attention_points(person, today), open_needs))
    if programme:
        summaries = [s for s in summaries if s.participant.programme.value == programme]
    if need_domain:
        summaries = [s for s in summaries if any(n.domain_code == need_domain for n in s.open_needs)]
    if path_ends_within_months is not None:
        horizon = rules.add_months(today, path_ends_within_months)
        summaries = [s for s in summaries if s.participant.exit is None and s.path.authorised_end <= horizon]
    if follow_ups_due:
        summaries = [s for s in summaries if any(a.code == "follow_up_due" for a in s.attention)]
    if query and query.strip():
        scores = name_scores(
            query,
            {s.participant.id: f"{s.participant.first_name} {s.participant.last_name}" for s in summaries},
        )
        summaries = sorted(
            (
                CaseSummary(s.participant, s.path, s.attention, s.open_needs, scores[s.participant.id])
                for s in summaries
                if s.participant.id in scores
            ),
            key=lambda s: (-(s.score or 0), s.participant.last_name, s.participant.id),
        )
    return summaries


NAME_MATCH_THRESHOLD = 75.0


def name_scores(query: str, names: Mapping[int, str]) -> dict[int, float]:
    """Names close to `query`, accents, case and word order aside, one typo allowed."""
    from rapidfuzz import fuzz, process

    from referral.network.search import fold

    folded = {key: fold(name) for key, name in names.items()}
    matches = process.extract(
        fold(query), folded, scorer=fuzz.WRatio, score_cutoff=NAME_MATCH_THRESHOLD, limit=None
    )
    return {key: score for _name, score, key in matches}


# --- The timeline of a record --------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    on: date
    kind: str
    title: str
    detail: str = ""


def timeline(session: Session, actor: User, participant_id: int) -> list[TimelineEvent]:
    """Every event of the record in date order (DESIGN §4): entry, contracts, needs, consents,
    notes, referents, referrals and their moves, renewals, exit and follow-ups."""
    from referral.referrals.models import Referral

    person = get_participant(session, actor, participant_id)
    labels = reference.labels(session, "exit_type")
    domains = {domain.code: domain.label for domain in reference.domains(session)}
    events = [
        TimelineEvent(person.entered_on, "entry", f"Entrée dans le parcours ({person.programme.label})")
    ]
    for contract in person.contracts:
        employer = f" chez {contract.employer_name}" if contract.employer_name else ""
        events.append(
            TimelineEvent(
                contract.starts_on,
                "contract",
                f"{contract.kind.label}{employer} : {contract.weekly_hours:g} h par semaine",
            )
        )
        if contract.ends_on is not None:
            events.append(
                TimelineEvent(contract.ends_on, "contract_end", f"Fin du contrat {contract.kind.label}")
            )
    for need in person.needs:
        label = domains.get(need.domain_code, need.domain_code)
        events.append(
            TimelineEvent(
                need.opened_on,
                "need",
                f"Frein identifié : {label}",
                f"Priorité {need.priority}" + (" — diagnostic d'entrée" if need.at_entry else ""),
            )
        )
        if need.resolved_on is not None:
            events.append(TimelineEvent(need.resolved_on, "need_resolved", f"Frein levé : {label}"))
    for consent in person.consents:
        events.append(
            TimelineEvent(
                consent.given_on,
                "consent",
                f"Consentement : {consent.data_category.label} → {consent.recipient.label}",
            )
        )
        if consent.revoked_on is not None:
            events.append(
                TimelineEvent(
                    consent.revoked_on,
                    "consent_revoked",
                    f"Consentement retiré : {consent.data_category.label} → {consent.recipient.label}",
                )
            )
    for referent in person.external_referents:
        if referent.started_on is not None:
            events.append(
                TimelineEvent(referent.started_on, "referent", f"Référent·e extérieur·e : {referent.name}")
            )
    for note in person.notes:
        events.append(TimelineEvent(note.written_at.date(), "note", "Note de suivi", note.body))
    for renewal in person.renewals:
        events.append(
            TimelineEvent(
                renewal.requested_on, "renewal_requested", "Demande de renouvellement", renewal.motivation
            )
        )
        if renewal.decided_on is not None:
            outcome = renewal.outcome.label + (
                f" jusqu'au {renewal.valid_until:%d/%m/%Y}" if renewal.valid_until else ""
            )
            events.append(TimelineEvent(renewal.decided_on, "renewal_decided", outcome))
    referrals = session.scalars(
        select(Referral)
        .where(Referral.participant_id == person.id)
        .options(selectinload(Referral.transitions))
        .order_by(Referral.id)
    ).all()
    for referral in referrals:
        for move in referral.transitions:
            events.append(
                TimelineEvent(
                    move.at.date(),
                    "referral",
                    f"Orientation « {referral.opportunity.title} » : {move.to_state.label}",
                    move.comment or "",
                )
            )
    if person.exit is not None:
        events.append(
            TimelineEvent(
                person.exit.exited_on,
                "exit",
                f"Sortie : {labels.get(person.exit.exit_type, person.exit.exit_type)}",
                person.exit.detail or "",
            )
        )
    for follow_up in person.follow_ups:
        if follow_up.done_on is not None:
            events.append(TimelineEvent(follow_up.done_on, "follow_up", f"{follow_up.kind.label} réalisé"))
        else:
            events.append(TimelineEvent(follow_up.due_on, "follow_up_due", f"{follow_up.kind.label} prévu"))
    order = {
        kind: index
        for index, kind in enumerate(
            [
                "entry",
                "contract_end",
                "contract",
                "need",
                "consent",
                "referent",
                "note",
                "referral",
                "need_resolved",
                "consent_revoked",
                "renewal_requested",
                "renewal_decided",
                "exit",
                "follow_up",
                "follow_up_due",
            ]
        )
    }
    return sorted(events, key=lambda event: (event.on, order.get(event.kind, 99)))


# --- Right of access (« droit d'accès », RGPD art. 15) -------------------------------------

EXPORT_ABOUT = (
    "Ce fichier est la copie de toutes les données que le service d'orientation conserve sur la "
    "personne, remise au titre de son droit d'accès (article 15 du RGPD) : identité et situation, "
    "contrats, freins, consentements, référent·es extérieur·es, notes de suivi, santé, "
    "renouvellements, sortie et suivis, transferts, orientations et permanences, puis la liste de qui "
    "a consulté ou modifié le dossier, quand et quoi. Dates au format AAAA-MM-JJ, heures en temps "
    "universel (UTC) ; chaque code est accompagné de son libellé."
)
SYSTEM_NAME = "Le service (traitement automatique)"
# The reference lists whose labels the export shows beside the codes.
EXPORT_LISTS = (
    *CODED_FIELDS.values(),
    "exit_type",
    "followup_outcome",
    "referent_role",
    "referral_outcome",
    "referral_decline_reason",
    "referral_refusal_reason",
    "referral_abandon_reason",
)
# The audit log names tables; the person reads what each one is, in the words of the record.
AUDITED_ENTITIES = {
    "participants": "Dossier",
    "contracts": "Contrat",
    "needs": "Frein",
    "consents": "Consentement",
    "external_referents": "Référent·e extérieur·e",
    "case_notes": "Note de suivi",
    "health_records": "Santé",
    "renewal_decisions": "Renouvellement",
    "exits": "Sortie",
    "follow_ups": "Suivi post-sortie",
    "case_transfers": "Transfert",
    "referrals": "Orientation",
    "office_hours": "Permanence",
    "tasks": "Tâche",
}
ROLE_LABELS = dict(Role.choices())


def _iso(value: date | None) -> str | None:
    """A date, or a timestamp (a `datetime` is a `date` too), in ISO 8601."""
    return value.isoformat() if value is not None else None


def _plain(value: Any) -> Any:
    return _iso(value) if isinstance(value, date) else value


def _coded(code: str | None, labels: Mapping[str, str]) -> dict[str, str] | None:
    """A code with its French label; a code its list no longer holds is its own label."""
    if code is None:
        return None
    return {"code": code, "label": labels.get(code, code)}


def _labelled(member: LabelledEnum | None) -> dict[str, str] | None:
    return None if member is None else {"code": member.value, "label": member.label}


def _access(entry: AuditEntry, names: Mapping[int, str]) -> dict[str, Any]:
    """One line of « who read or changed the record »: fields changed are named, never their values
    (the log holds none)."""
    subject = AUDITED_ENTITIES.get(entry.entity, entry.entity)
    if entry.action in (AuditAction.READ, AuditAction.EXPORT) and entry.details.get("what"):
        what = str(entry.details["what"])
        what = what[:1].upper() + what[1:]
    elif entry.details.get("fields"):
        what = f"{subject} (champs : {', '.join(entry.details['fields'])})"
    else:
        what = subject
    # The log outlives accounts: someone whose account is gone is named by the e-mail it copied.
    who = SYSTEM_NAME if entry.actor_id is None else names.get(entry.actor_id) or entry.actor_email
    return {
        "at": _iso(entry.at),
        "who": who,
        "role": _coded(entry.actor_role, ROLE_LABELS),
        "action": _labelled(entry.action),
        "what": what,
    }


def export_record(session: Session, actor: User, participant_id: int) -> dict[str, Any]:
    """Everything the service holds about one person, JSON-ready, for their right of access
    (DESIGN §8). Same reading rules as the record: only the CIP of the person's structure, the
    structure the person asks; another structure's person answers like a missing one.

    The export is logged as a read before the access list is gathered, so the file names its own
    export among the accesses it reports.
    """
    from referral.partners.models import OfficeHour, Opportunity
    from referral.referrals.lifecycle import TRANSITIONS
    from referral.referrals.models import Referral, ReferralTransition

    _require_cip(actor)
    person = _load(session, actor, participant_id)
    # The file shows what the database holds, not what this session remembers: a row added by
    # its `participant_id` (a need, a health record) is missing from a relationship loaded
    # before. Reloading every part at once also spares a query per section.
    session.scalars(
        select(Participant)
        .where(Participant.id == person.id)
        .options(
            joinedload(Participant.structure),
            joinedload(Participant.health_record),
            joinedload(Participant.exit),
            selectinload(Participant.contracts),
            selectinload(Participant.needs),
            selectinload(Participant.consents).joinedload(Consent.partner),
            selectinload(Participant.external_referents),
            selectinload(Participant.notes),
            selectinload(Participant.renewals),
            selectinload(Participant.follow_ups),
        )
        .execution_options(populate_existing=True)
    ).one()
    # Logged as an export (« Export »), the action the audit log keeps for copies leaving the service.
    audit.record(
        session,
        AuditAction.EXPORT,
        entity="participants",
        entity_id=person.id,
        participant_id=person.id,
        details={"what": "export du dossier (droit d'accès)"},
    )
    lists = {name: reference.labels(session, name) for name in EXPORT_LISTS}
    domains = {domain.code: domain.label for domain in reference.domains(session)}
    subtypes = reference.subtype_labels(session)
    transfers = session.scalars(
        select(CaseTransfer)
        .where(CaseTransfer.participant_id == person.id)
        .order_by(CaseTransfer.requested_at, CaseTransfer.id)
    ).all()
    referrals = session.scalars(
        select(Referral)
        .where(Referral.participant_id == person.id)
        .options(
            selectinload(Referral.transitions),
            joinedload(Referral.opportunity).joinedload(Opportunity.partner),
        )
        .order_by(Referral.created_at, Referral.id)
    ).all()
    office_hours = session.scalars(
        select(OfficeHour)
        .where(OfficeHour.participant_id == person.id)
        .order_by(OfficeHour.starts_at, OfficeHour.id)
    ).all()
    accesses = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.participant_id == person.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    health, exit_row = person.health_record, person.exit

    # Every user the record mentions, named in one query.
    user_ids = {
        person.referent_id,
        health.updated_by_id if health else None,
        exit_row.recorded_by_id if exit_row else None,
        *(note.author_id for note in person.notes),
        *(consent.recorded_by_id for consent in person.consents),
        *(renewal.requested_by_id for renewal in person.renewals),
        *(follow_up.recorded_by_id for follow_up in person.follow_ups),
        *(t.requested_by_id for t in transfers),
        *(t.decided_by_id for t in transfers),
        *(referral.created_by_id for referral in referrals),
        *(move.actor_id for referral in referrals for move in referral.transitions),
        *(slot.cp_id for slot in office_hours),
        *(slot.booked_by_id for slot in office_hours),
        *(entry.actor_id for entry in accesses),
    } - {None}
    # Keyed by id: `names.get` of a missing (None) author is None, no test needed at each use.
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())
    structure_ids = {person.structure_id, *(t.from_structure_id for t in transfers)}
    structure_ids |= {t.to_structure_id for t in transfers}
    structures = {
        structure.id: structure.full_name or structure.name
        for structure in session.scalars(select(Structure).where(Structure.id.in_(structure_ids)))
    }

    def move_of(move: ReferralTransition) -> dict[str, Any]:
        transition = TRANSITIONS.get(move.action)
        reasons = lists[transition.reason_list] if transition and transition.reason_list else {}
        if move.actor_id is not None:
            by = names.get(move.actor_id)
        else:
            by = SYSTEM_NAME if move.actor_role is None else None  # no role: the scheduler
        return {
            "at": _iso(move.at),
            "action": {"code": move.action, "label": transition.label if transition else move.action},
            "from_state": _labelled(move.from_state),
            "to_state": _labelled(move.to_state),
            "reason": _coded(move.reason, reasons),
            "comment": move.comment,
            "by": by,
            "by_role": _labelled(move.actor_role),
        }

    path = path_of(person)
    return {
        "about": EXPORT_ABOUT,
        "exported_at": _iso(utcnow()),
        "exported_by": {
            "name": actor.full_name,
            "role": _labelled(actor.role),
            "structure": structures.get(person.structure_id),
        },
        "identity": {
            "id": person.id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": _iso(person.birth_date),
            "record_opened_at": _iso(person.created_at),
            "record_updated_at": _iso(person.updated_at),
            "anonymised_at": _iso(person.anonymised_at),
        },
        "situation": {
            "structure": structures.get(person.structure_id),
            "referent": names.get(person.referent_id),
            "programme": _labelled(person.programme),
            "entered_on": _iso(person.entered_on),
            "authorised_end": _iso(path.authorised_end),
            "hard_limit": _iso(path.hard_limit),
            "next_decision_due": _iso(path.next_decision_due),
            **{field: _coded(getattr(person, field), lists[name]) for field, name in CODED_FIELDS.items()},
            "residence_permit_expires_on": _iso(person.residence_permit_expires_on),
            "driving_licence": person.driving_licence,
            "household_size": person.household_size,
            "children": person.children,
            "monthly_resources": person.monthly_resources,
        },
        "contracts": [
            {
                "kind": _labelled(contract.kind),
                "employer_name": contract.employer_name,
                "weekly_hours": contract.weekly_hours,
                "starts_on": _iso(contract.starts_on),
                "ends_on": _iso(contract.ends_on),
            }
            for contract in person.contracts
        ],
        "needs": [
            {
                "domain": _coded(need.domain_code, domains),
                "subtype": _coded(need.subtype_code, subtypes),
                "priority": need.priority,
                "status": _labelled(need.status),
                "opened_on": _iso(need.opened_on),
                "resolved_on": _iso(need.resolved_on),
                "at_entry": need.at_entry,
                "comment": need.comment,
            }
            for need in person.needs
        ],
        "consents": [
            {
                "recipient": _labelled(consent.recipient),
                "partner": consent.partner.name if consent.partner else None,
                "data_category": _labelled(consent.data_category),
                "given_on": _iso(consent.given_on),
                "expires_on": _iso(consent.expires_on),
                "revoked_on": _iso(consent.revoked_on),
                "recorded_by": names.get(consent.recorded_by_id),
            }
            for consent in person.consents
        ],
        "external_referents": [
            {
                "name": referent.name,
                "organisation": referent.organisation,
                "role": _coded(referent.role, lists["referent_role"]),
                "email": referent.email,
                "phone": referent.phone,
                "started_on": _iso(referent.started_on),
                "ended_on": _iso(referent.ended_on),
            }
            for referent in person.external_referents
        ],
        "notes": [
            {
                "written_at": _iso(note.written_at),
                "author": names.get(note.author_id),
                "domain": _coded(note.domain_code, domains),
                "body": note.body,
            }
            for note in person.notes
        ],
        "health": None
        if health is None
        else {
            **{field: _plain(getattr(health, field)) for field in HEALTH_FIELDS},
            "updated_at": _iso(health.updated_at),
            "updated_by": names.get(health.updated_by_id),
        },
        "renewals": [
            {
                "requested_on": _iso(renewal.requested_on),
                "requested_by": names.get(renewal.requested_by_id),
                "motivation": renewal.motivation,
                "accompaniment_evaluation": renewal.accompaniment_evaluation,
                "mobilisation_evaluation": renewal.mobilisation_evaluation,
                "outcome": _labelled(renewal.outcome),
                "decided_on": _iso(renewal.decided_on),
                "decided_by": renewal.decided_by,
                "valid_until": _iso(renewal.valid_until),
            }
            for renewal in person.renewals
        ],
        "exit": None
        if exit_row is None
        else {
            "exited_on": _iso(exit_row.exited_on),
            "exit_type": _coded(exit_row.exit_type, lists["exit_type"]),
            "detail": exit_row.detail,
            "housing_status": _coded(exit_row.housing_status, lists["housing_status"]),
            "health_coverage": _coded(exit_row.health_coverage, lists["health_coverage"]),
            "has_treating_doctor": exit_row.has_treating_doctor,
            "rights_opened": list(exit_row.rights_opened),
            "continued_accompaniment": exit_row.continued_accompaniment,
            "recorded_by": names.get(exit_row.recorded_by_id),
        },
        "follow_ups": [
            {
                "kind": _labelled(follow_up.kind),
                "due_on": _iso(follow_up.due_on),
                "done_on": _iso(follow_up.done_on),
                "outcome": _coded(follow_up.outcome, lists["followup_outcome"]),
                "comment": follow_up.comment,
                "recorded_by": names.get(follow_up.recorded_by_id),
            }
            for follow_up in person.follow_ups
        ],
        "transfers": [
            {
                "from_structure": structures.get(transfer.from_structure_id),
                "to_structure": structures.get(transfer.to_structure_id),
                "state": _labelled(transfer.state),
                "consent_given_on": _iso(transfer.consent_given_on),
                "requested_at": _iso(transfer.requested_at),
                "requested_by": names.get(transfer.requested_by_id),
                "decided_at": _iso(transfer.decided_at),
                "decided_by": names.get(transfer.decided_by_id),
                "comment": transfer.comment,
            }
            for transfer in transfers
        ],
        "referrals": [
            {
                "id": referral.id,
                "opportunity": referral.opportunity.title,
                "partner": referral.opportunity.partner.name,
                "state": _labelled(referral.state),
                "created_on": _iso(referral.created_at.date()),
                "created_by": names.get(referral.created_by_id),
                "comment": referral.comment,
                "outcome": _coded(referral.outcome, lists["referral_outcome"]),
                # What the partner received, frozen when the referral left the structure.
                "shared_with_partner": referral.shared_dossier or None,
                "transitions": [move_of(move) for move in referral.transitions],
            }
            for referral in referrals
        ],
        "office_hours": [
            {
                "starts_at": _iso(slot.starts_at),
                "ends_at": _iso(slot.ends_at),
                "place": slot.place,
                "with": names.get(slot.cp_id),
                "booked_by": names.get(slot.booked_by_id),
                "topic": slot.topic,
                "notes_after": slot.notes_after,
            }
            for slot in office_hours
        ],
        "accesses": [_access(entry, names) for entry in accesses],
    }
