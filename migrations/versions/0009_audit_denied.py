"""audit: refused attempts on records out of scope are logged as « accès refusé » (action denied)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BEFORE = ("read", "create", "update", "delete", "transition", "export", "login", "login_failed", "anonymise")
AFTER = (*BEFORE, "denied")
CONSTRAINT = "ck_audit_entries_audit_action"

# The append-only triggers of 0001 (SQLite): a rebuilt table must get them back.
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END
    """,
    """
    CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END
    """,
]


def _table(actions: tuple[str, ...]) -> sa.Table:
    """The table as 0001 made it, with `actions` as the allowed values (SQLite's rebuild)."""
    metadata = sa.MetaData()
    return sa.Table(
        "audit_entries",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("remote_addr", sa.String(length=45), nullable=True),
        sa.CheckConstraint("entity <> ''", name="ck_audit_entries_entity_not_empty"),
        sa.CheckConstraint(_condition(actions), name=CONSTRAINT),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
        sa.Index("ix_audit_entries_at", "at"),
        sa.Index("ix_audit_entries_entity_entity_id", "entity", "entity_id"),
        sa.Index("ix_audit_entries_participant_id_at", "participant_id", "at"),
    )


def _condition(actions: tuple[str, ...]) -> str:
    return "action IN ({})".format(", ".join(f"'{action}'" for action in actions))


def _allow(actions: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite changes a CHECK only by rebuilding the table (rows copied, none updated or
        # deleted, so the append-only triggers are not in the way); the rebuilt table gets its
        # triggers back.
        with op.batch_alter_table("audit_entries", recreate="always", copy_from=_table(actions)):
            pass
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.drop_constraint(op.f(CONSTRAINT), "audit_entries", type_="check")
    op.create_check_constraint(op.f(CONSTRAINT), "audit_entries", _condition(actions))


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    _allow(BEFORE)
