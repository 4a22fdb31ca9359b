"""The append-only audit log (« journal d'accès »): who read or changed what, and when.

Append-only is held by the database itself: triggers created by the migration `0001_initial`
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on this table, so not even a bug in the
service can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db import Base, LabelledEnum, enum_type, utcnow


class AuditAction(LabelledEnum):
    READ = ("read", "Consultation")
    CREATE = ("create", "Création")
    UPDATE = ("update", "Modification")
    DELETE = ("delete", "Suppression")
    TRANSITION = ("transition", "Changement d'état")
    EXPORT = ("export", "Export")
    LOGIN = ("login", "Connexion")
    LOGIN_FAILED = ("login_failed", "Échec de connexion")
    ANONYMISE = ("anonymise", "Anonymisation")
    # An attempt on a record outside the actor's scope (answered like a missing record).
    DENIED = ("denied", "Accès refusé")


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("entity <> ''", name="entity_not_empty"),
        Index("ix_audit_entries_participant_id_at", "participant_id", "at"),
        Index("ix_audit_entries_entity_entity_id", "entity", "entity_id"),
    )

    # BigInteger on PostgreSQL (the log only grows); plain INTEGER on SQLite, where only an
    # INTEGER PRIMARY KEY autoincrements.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign key: the log outlives the accounts it mentions. The e-mail is copied for that.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, "audit_action"))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    # The person the record is about, so a right-of-access export finds every entry.
    participant_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(45))
