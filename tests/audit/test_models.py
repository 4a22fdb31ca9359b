"""The audit log is append-only, and the database itself holds that rule."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry
from tests.helpers import refused_by_database


def test_audit_entries_cannot_be_changed_or_deleted(session: Session) -> None:
    entry = AuditEntry(
        actor_email="cip@example.org", action=AuditAction.READ, entity="participant", entity_id=1
    )
    session.add(entry)
    session.flush()
    refused_by_database(
        session,
        lambda: session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(entity="x")),
    )
    refused_by_database(session, lambda: session.execute(delete(AuditEntry).where(AuditEntry.id == entry.id)))
    assert session.get(AuditEntry, entry.id) is not None
