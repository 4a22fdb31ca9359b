"""Writing the audit log (« journal d'accès »).

Writes are logged automatically: a session event looks at every flush and records each created,
changed or deleted row of the domain tables, with who did it (the session's *actor*, set by the
request or the command). Nobody can forget to log a write, and a write that rolls back takes its
log entry with it. Reads of a person's record are logged explicitly by the services that return
one (`record_read`), since only they know a record was shown.

Entries name fields, never their values: the log must not become a second copy of health or
residence data. A correction of the situation at entry (`cases.entry_situation`) names its
fields and carries its reason, since a figure of the indicators changes with it; its old and new
values are not written here either (a coverage « AME » says a residence status).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from referral.audit.models import AuditAction, AuditEntry
from referral.db import utcnow

# Tables whose rows are not about anyone's record and change through seeding or bookkeeping.
UNAUDITED_TABLES = frozenset(
    {"audit_entries", "login_attempts", "api_tokens", "reference_codes", "domains", "domain_subtypes"}
)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit log records it (a user, or the system for jobs and commands)."""

    user_id: int | None
    email: str | None
    role: str | None
    remote_addr: str | None = None


SYSTEM = Actor(user_id=None, email="système", role=None)


def set_actor(session: Session, actor: Actor) -> None:
    session.info["audit_actor"] = actor


def actor_of(session: Session) -> Actor:
    return session.info.get("audit_actor", SYSTEM)


def _participant_id(row: Any) -> int | None:
    if row.__class__.__name__ == "Participant":
        return row.id
    return getattr(row, "participant_id", None)


def _entry(
    session: Session,
    action: AuditAction,
    entity: str,
    entity_id: int | None,
    participant_id: int | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    actor = actor_of(session)
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_email": actor.email,
        "actor_role": actor.role,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "participant_id": participant_id,
        "details": details,
        "remote_addr": actor.remote_addr,
    }


def _pending_writes(session: Session) -> list[tuple[AuditAction, Any, dict[str, Any]]]:
    writes: list[tuple[AuditAction, Any, dict[str, Any]]] = []
    for row in session.new:
        writes.append((AuditAction.CREATE, row, {}))
    for row in session.dirty:
        state = inspect(row)
        changed = sorted(attr.key for attr in state.attrs if attr.history.has_changes())
        if changed and session.is_modified(row, include_collections=False):
            writes.append((AuditAction.UPDATE, row, {"fields": changed}))
    for row in session.deleted:
        writes.append((AuditAction.DELETE, row, {}))
    return writes


def _before_flush(session: Session, _flush_context: UOWTransaction, _instances: Any) -> None:
    # Collected before the flush (changes are still visible), written after it (ids are known).
    session.info["audit_pending"] = [
        (action, row, details)
        for action, row, details in _pending_writes(session)
        if getattr(row, "__tablename__", None) not in UNAUDITED_TABLES
    ]


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    rows = []
    for action, row, details in pending:
        key = inspect(row).mapper.primary_key_from_instance(row)
        entity_id = key[0] if len(key) == 1 and isinstance(key[0], int) else None
        rows.append(_entry(session, action, row.__tablename__, entity_id, _participant_id(row), details))
    # A Core insert in the same transaction: the entries commit or roll back with the change.
    session.connection().execute(insert(AuditEntry), rows)


def install() -> None:
    """Log every write of every session. Idempotent; called by the application and the CLI."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        # Committed reads are stored: nothing left to write again.
        event.listen(Session, "after_commit", _forget_kept)


# Reads logged in the session's transaction, kept so they can be written again if it rolls back.
KEPT_READS = "audit_kept_reads"


def _insert_kept(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    session.connection().execute(insert(AuditEntry), rows)
    session.info.setdefault(KEPT_READS, []).extend(rows)


def record_read(
    session: Session, *, entity: str, entity_id: int | None, participant_id: int | None, what: str
) -> None:
    """Log that a person's record (or part of it: `what`) was shown to the session's actor."""
    _insert_kept(
        session, [_entry(session, AuditAction.READ, entity, entity_id, participant_id, {"what": what})]
    )


@dataclass(frozen=True)
class ReadEntry:
    """One thing shown about one person (`record_reads` logs many in one statement)."""

    entity: str
    entity_id: int | None
    participant_id: int | None
    what: str


def record_reads(session: Session, reads: list[ReadEntry]) -> None:
    """Log several reads at once (a list of names, the dossiers of a list of referrals)."""
    _insert_kept(
        session,
        [
            _entry(
                session,
                AuditAction.READ,
                read.entity,
                read.entity_id,
                read.participant_id,
                {"what": read.what},
            )
            for read in reads
        ],
    )


def record_refusal(
    session: Session, *, entity: str, entity_id: int | None, participant_id: int | None
) -> None:
    """Log an attempt on a record outside the actor's scope (« accès refusé »). The answer the
    actor gets does not change (the 404 of a missing record): only the log knows."""
    _insert_kept(
        session,
        [_entry(session, AuditAction.DENIED, entity, entity_id, participant_id, {"what": "accès refusé"})],
    )


def reads_to_keep(session: Session) -> list[dict[str, Any]]:
    """The reads (and refusals) logged since the last commit, taken from the session: the
    caller rolls back and writes them again with `write_kept`. A page that shows a record
    while refusing a change (a 422) has still shown it; a refused attempt is still an attempt."""
    return session.info.pop(KEPT_READS, [])


def write_kept(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _forget_kept(session: Session) -> None:
    session.info.pop(KEPT_READS, None)


def record(
    session: Session,
    action: AuditAction,
    *,
    entity: str,
    entity_id: int | None = None,
    participant_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Log an event that is not a row write (a login, an export, a transition's reason…)."""
    session.connection().execute(
        insert(AuditEntry), [_entry(session, action, entity, entity_id, participant_id, details or {})]
    )
