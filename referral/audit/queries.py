"""Reads of the audit log: no rules (who may read it is decided by `territories.audit_log`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from referral.audit.models import AuditAction, AuditEntry


def _where(
    *, participant_id: int | None, actor_id: int | None, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if participant_id is not None:
        conditions.append(AuditEntry.participant_id == participant_id)
    if actor_id is not None:
        conditions.append(AuditEntry.actor_id == actor_id)
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    return conditions


def entries_query(
    *, participant_id: int | None, actor_id: int | None, since: datetime | None, until: datetime | None
) -> Select[AuditEntry]:
    """Entries about a person and/or by an account within [since, until), newest first."""
    return (
        select(AuditEntry)
        .where(*_where(participant_id=participant_id, actor_id=actor_id, since=since, until=until))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def count_entries(
    session: Session,
    *,
    participant_id: int | None,
    actor_id: int | None,
    since: datetime | None,
    until: datetime | None,
) -> int:
    conditions = _where(participant_id=participant_id, actor_id=actor_id, since=since, until=until)
    return int(session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0)


def logged_about(
    session: Session, participant_id: int, action: AuditAction, *, entity: str | None = None
) -> list[AuditEntry]:
    """The entries of one `action` about a person (of their `entity` rows when given), oldest
    first (index `ix_audit_entries_participant_id_at`)."""
    conditions = [AuditEntry.participant_id == participant_id, AuditEntry.action == action]
    if entity is not None:
        conditions.append(AuditEntry.entity == entity)
    return list(session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.at, AuditEntry.id)))
