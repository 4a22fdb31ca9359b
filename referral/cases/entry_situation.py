"""The situation at entry (« situation à l'entrée ») and its correction.

The record keeps what it said when it was created — housing, health coverage, and whether a
treating doctor was there when the health details were first recorded — apart from the current
situation the CIP updates (migration 0013): the entry → exit indicators compare the exit with
it. No update of the record changes it; when it was recorded wrong, the people who may change
the record correct it here, with a reason, and the correction is written to the audit log with
the fields it changed and its reason (never their values: the log is no second copy of the record).

Its own room because it is one subject (a correction with its reason and its log entry), and
`services.py` is close to the size where a module holds two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral.audit import queries as audit_queries
from referral.audit.models import AuditAction
from referral.audit.services import record
from referral.cases.models import HealthRecord, Participant
from referral.cases.services import load_to_change, require_cip
from referral.exceptions import InvalidInput
from referral.reference import queries as reference
from referral.territories.models import User

# The coded fields at entry, with the reference list their codes come from.
CODED_ENTRY_FIELDS = {
    "housing_status_at_entry": "housing_status",
    "health_coverage_at_entry": "health_coverage",
}
DOCTOR_FIELD = "had_treating_doctor_first"
ENTRY_FIELDS = (*CODED_ENTRY_FIELDS, DOCTOR_FIELD)
# As the record's history names them.
ENTRY_FIELD_LABELS = {
    "housing_status_at_entry": "logement",
    "health_coverage_at_entry": "couverture maladie",
    DOCTOR_FIELD: "médecin traitant",
}
REASON_MAX_LENGTH = 2000
CORRECTION = "correction de la situation à l'entrée"

NO_REASON = "Indiquez le motif de la correction."
NOTHING_GIVEN = "Indiquez au moins une donnée de la situation à l'entrée à corriger."
NOTHING_CHANGED = "Rien à corriger : la situation à l'entrée enregistrée est déjà celle-ci."


@dataclass(frozen=True)
class Correction:
    """A correction of the situation at entry, as its log entry keeps it."""

    at: datetime
    fields: tuple[str, ...]  # French names, in the order of the form
    reason: str


@dataclass(frozen=True)
class EntrySituation:
    """What the record says of the person's situation at entry (a missing health record reads
    as no treating doctor, as everywhere else)."""

    housing_status_at_entry: str
    health_coverage_at_entry: str
    had_treating_doctor_first: bool


def entry_situation_of(person: Participant, health: HealthRecord | None) -> EntrySituation:
    return EntrySituation(
        person.housing_status_at_entry,
        person.health_coverage_at_entry,
        bool(health and health.had_treating_doctor_first),
    )


def corrections_of(session: Session, participant_id: int) -> list[Correction]:
    """The corrections of a record's situation at entry, oldest first (read from the log,
    which is where they are kept)."""
    found = []
    for entry in audit_queries.logged_about(
        session, participant_id, AuditAction.UPDATE, entity="participants"
    ):
        details = entry.details or {}
        if details.get("what") != CORRECTION:
            continue
        fields = details.get("fields") or []
        names = tuple(ENTRY_FIELD_LABELS[field] for field in ENTRY_FIELDS if field in fields)
        found.append(Correction(entry.at, names, str(details.get("reason") or "")))
    return found


def _health_of(session: Session, person: Participant) -> HealthRecord | None:
    # Read, not taken from `person.health_record`: the session may hold that relationship as it
    # was before the health details were first written.
    return session.scalar(select(HealthRecord).where(HealthRecord.participant_id == person.id))


def _checked(session: Session, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reason and the values given, or `InvalidInput` naming every offending field."""
    errors: dict[str, list[str]] = {}
    reason = str(values.get("reason") or "").strip()
    if not reason:
        errors["reason"] = [NO_REASON]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Au plus {REASON_MAX_LENGTH} caractères."]
    given = {field: values[field] for field in ENTRY_FIELDS if values.get(field) is not None}
    for field, list_name in CODED_ENTRY_FIELDS.items():
        code = given.get(field)
        if code is not None and code not in reference.code_set(session, list_name):
            errors[field] = [f"Code inconnu : « {code} »."]
    if DOCTOR_FIELD in given and not isinstance(given[DOCTOR_FIELD], bool):
        errors[DOCTOR_FIELD] = ["Booléen attendu (true ou false)."]
    if not given:
        raise InvalidInput(NOTHING_GIVEN, errors=errors)
    if errors:
        raise InvalidInput("La correction de la situation à l'entrée est refusée.", errors=errors)
    return reason, given


def correct_entry_situation(
    session: Session, actor: User, participant_id: int, values: Mapping[str, Any]
) -> EntrySituation:
    """Correct the situation at entry of a record the actor may change (a CIP of the person's
    structure, never an anonymised record), with a mandatory `reason`.

    `values` may name `housing_status_at_entry` and `health_coverage_at_entry` (codes of their
    reference lists) and `had_treating_doctor_first`; what is absent or equal stays. Only these
    fields change: the current situation is the record's own. The log entry names
    the fields it changed and holds the reason, not their values. Every refusal happens before
    anything is written.
    """
    require_cip(actor)
    person = load_to_change(session, actor, participant_id, for_update=True)
    reason, given = _checked(session, values)
    health = _health_of(session, person)
    before = entry_situation_of(person, health)
    changes = {field: value for field, value in given.items() if getattr(before, field) != value}
    if not changes:
        raise InvalidInput(NOTHING_CHANGED, errors={next(iter(given)): [NOTHING_CHANGED]})
    for field in CODED_ENTRY_FIELDS:
        if field in changes:
            setattr(person, field, changes[field])
    if DOCTOR_FIELD in changes:
        # No health details recorded yet: the correction starts them, the current situation
        # reading as before (no treating doctor known today).
        if health is None:
            health = person.health_record = HealthRecord(has_treating_doctor=False)
        health.had_treating_doctor_first = changes[DOCTOR_FIELD]
        health.updated_by_id = actor.id
    session.flush()
    record(
        session,
        AuditAction.UPDATE,
        entity="participants",
        entity_id=person.id,
        participant_id=person.id,
        details={"what": CORRECTION, "fields": sorted(changes), "reason": reason},
    )
    return entry_situation_of(person, health)
