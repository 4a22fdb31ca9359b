"""The right of access (« droit d'accès », RGPD art. 15): everything the service holds about one
person, JSON-ready (DESIGN §8).

The record's own sections are read here. The referrals and the office hours about the person are
known one layer up: the `referrals` and `partners` packages register a section each
(`register_export_section`, called by their `record_sources.install()`; see
`referral.cases.providers` for who installs them and why), so this module never imports them. The
file keeps its order: the provided sections come after the transfers, before the access list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from referral.audit import services as audit
from referral.audit.models import AuditAction, AuditEntry
from referral.cases.models import CaseTransfer, Consent, Participant
from referral.cases.providers import Providers
from referral.cases.services import CODED_FIELDS, HEALTH_FIELDS, load, path_of, require_cip
from referral.db import LabelledEnum, utcnow
from referral.reference import queries as reference
from referral.territories.models import Role, Structure, User

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

# Users' names by id; `get` of a missing (None) id is None.
Names = Mapping[int | None, str]


@dataclass(frozen=True)
class ExportPart:
    """A section another room read for one person: the users it names (the whole file names them
    in one query) and how to write its rows once their names are known."""

    user_ids: Iterable[int | None]
    render: Callable[[Names], list[dict[str, Any]]]


ExportSection = Callable[[Session, Participant], ExportPart]
EXPORT_SECTIONS: Providers[ExportSection] = Providers(
    "The right-of-access export", ["referrals", "office_hours"]
)


def register_export_section(name: str, section: ExportSection) -> None:
    EXPORT_SECTIONS.register(name, section)


def iso(value: date | None) -> str | None:
    """A date, or a timestamp (a `datetime` is a `date` too), in ISO 8601."""
    return value.isoformat() if value is not None else None


def plain(value: Any) -> Any:
    return iso(value) if isinstance(value, date) else value


def coded(code: str | None, labels: Mapping[str, str]) -> dict[str, str] | None:
    """A code with its French label; a code its list no longer holds is its own label."""
    if code is None:
        return None
    return {"code": code, "label": labels.get(code, code)}


def labelled(member: LabelledEnum | None) -> dict[str, str] | None:
    return None if member is None else {"code": member.value, "label": member.label}


def _access(entry: AuditEntry, names: Names) -> dict[str, Any]:
    """One line of « who read or changed the record »: fields changed are named, never their values
    (the log holds none, but for a correction of the situation at entry, whose values are the
    file's own « situation »)."""
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
        "at": iso(entry.at),
        "who": who,
        "role": coded(entry.actor_role, ROLE_LABELS),
        "action": labelled(entry.action),
        "what": what,
    }


def export_record(session: Session, actor: User, participant_id: int) -> dict[str, Any]:
    """Everything the service holds about one person, JSON-ready, for their right of access
    (DESIGN §8). Same reading rules as the record: only the CIP of the person's structure, the
    structure the person asks; another structure's person answers like a missing one.

    The export is logged as a read before the access list is gathered, so the file names its own
    export among the accesses it reports.
    """
    require_cip(actor)
    person = load(session, actor, participant_id)
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
    provided = [(name, section(session, person)) for name, section in EXPORT_SECTIONS.all()]
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
        *(user_id for _name, part in provided for user_id in part.user_ids),
        *(entry.actor_id for entry in accesses),
    } - {None}
    # Keyed by id: `names.get` of a missing (None) author is None, no test needed at each use.
    names: dict[int | None, str] = dict(
        session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()
    )
    structure_ids = {person.structure_id, *(t.from_structure_id for t in transfers)}
    structure_ids |= {t.to_structure_id for t in transfers}
    structures = {
        structure.id: structure.full_name or structure.name
        for structure in session.scalars(select(Structure).where(Structure.id.in_(structure_ids)))
    }

    path = path_of(person)
    return {
        "about": EXPORT_ABOUT,
        "exported_at": iso(utcnow()),
        "exported_by": {
            "name": actor.full_name,
            "role": labelled(actor.role),
            "structure": structures.get(person.structure_id),
        },
        "identity": {
            "id": person.id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": iso(person.birth_date),
            "record_opened_at": iso(person.created_at),
            "record_updated_at": iso(person.updated_at),
            "anonymised_at": iso(person.anonymised_at),
        },
        "situation": {
            "structure": structures.get(person.structure_id),
            "referent": names.get(person.referent_id),
            "programme": labelled(person.programme),
            "entered_on": iso(person.entered_on),
            "authorised_end": iso(path.authorised_end),
            "hard_limit": iso(path.hard_limit),
            "next_decision_due": iso(path.next_decision_due),
            **{field: coded(getattr(person, field), lists[name]) for field, name in CODED_FIELDS.items()},
            "residence_permit_expires_on": iso(person.residence_permit_expires_on),
            "driving_licence": person.driving_licence,
            "household_size": person.household_size,
            "children": person.children,
            "monthly_resources": person.monthly_resources,
            # What the record said at its creation (the entry → exit indicators read it).
            "housing_status_at_entry": coded(person.housing_status_at_entry, lists["housing_status"]),
            "health_coverage_at_entry": coded(person.health_coverage_at_entry, lists["health_coverage"]),
            "objects_to_evaluation": person.objects_to_evaluation,
        },
        "contracts": [
            {
                "kind": labelled(contract.kind),
                "employer_name": contract.employer_name,
                "weekly_hours": contract.weekly_hours,
                "starts_on": iso(contract.starts_on),
                "ends_on": iso(contract.ends_on),
            }
            for contract in person.contracts
        ],
        "needs": [
            {
                "domain": coded(need.domain_code, domains),
                "subtype": coded(need.subtype_code, subtypes),
                "priority": need.priority,
                "status": labelled(need.status),
                "opened_on": iso(need.opened_on),
                "resolved_on": iso(need.resolved_on),
                "at_entry": need.at_entry,
                "comment": need.comment,
            }
            for need in person.needs
        ],
        "consents": [
            {
                "recipient": labelled(consent.recipient),
                "partner": consent.partner.name if consent.partner else None,
                "data_category": labelled(consent.data_category),
                "given_on": iso(consent.given_on),
                "expires_on": iso(consent.expires_on),
                "revoked_on": iso(consent.revoked_on),
                "recorded_by": names.get(consent.recorded_by_id),
            }
            for consent in person.consents
        ],
        "external_referents": [
            {
                "name": referent.name,
                "organisation": referent.organisation,
                "role": coded(referent.role, lists["referent_role"]),
                "email": referent.email,
                "phone": referent.phone,
                "started_on": iso(referent.started_on),
                "ended_on": iso(referent.ended_on),
            }
            for referent in person.external_referents
        ],
        "notes": [
            {
                "written_at": iso(note.written_at),
                "author": names.get(note.author_id),
                "domain": coded(note.domain_code, domains),
                "body": note.body,
            }
            for note in person.notes
        ],
        "health": None
        if health is None
        else {
            **{field: plain(getattr(health, field)) for field in HEALTH_FIELDS},
            "had_treating_doctor_first": health.had_treating_doctor_first,
            "updated_at": iso(health.updated_at),
            "updated_by": names.get(health.updated_by_id),
        },
        "renewals": [
            {
                "requested_on": iso(renewal.requested_on),
                "requested_by": names.get(renewal.requested_by_id),
                "motivation": renewal.motivation,
                "accompaniment_evaluation": renewal.accompaniment_evaluation,
                "mobilisation_evaluation": renewal.mobilisation_evaluation,
                "outcome": labelled(renewal.outcome),
                "decided_on": iso(renewal.decided_on),
                "decided_by": renewal.decided_by,
                "valid_until": iso(renewal.valid_until),
            }
            for renewal in person.renewals
        ],
        "exit": None
        if exit_row is None
        else {
            "exited_on": iso(exit_row.exited_on),
            "exit_type": coded(exit_row.exit_type, lists["exit_type"]),
            "detail": exit_row.detail,
            "housing_status": coded(exit_row.housing_status, lists["housing_status"]),
            "health_coverage": coded(exit_row.health_coverage, lists["health_coverage"]),
            "has_treating_doctor": exit_row.has_treating_doctor,
            "rights_opened": list(exit_row.rights_opened),
            "continued_accompaniment": exit_row.continued_accompaniment,
            "recorded_by": names.get(exit_row.recorded_by_id),
        },
        "follow_ups": [
            {
                "kind": labelled(follow_up.kind),
                "due_on": iso(follow_up.due_on),
                "done_on": iso(follow_up.done_on),
                "outcome": coded(follow_up.outcome, lists["followup_outcome"]),
                "comment": follow_up.comment,
                "recorded_by": names.get(follow_up.recorded_by_id),
            }
            for follow_up in person.follow_ups
        ],
        "transfers": [
            {
                "from_structure": structures.get(transfer.from_structure_id),
                "to_structure": structures.get(transfer.to_structure_id),
                "state": labelled(transfer.state),
                "consent_given_on": iso(transfer.consent_given_on),
                "requested_at": iso(transfer.requested_at),
                "requested_by": names.get(transfer.requested_by_id),
                "decided_at": iso(transfer.decided_at),
                "decided_by": names.get(transfer.decided_by_id),
                "comment": transfer.comment,
            }
            for transfer in transfers
        ],
        **{name: part.render(names) for name, part in provided},
        "accesses": [_access(entry, names) for entry in accesses],
    }
