"""accounts people manage themselves: invitations, password resets, two-factor, ProConnect link

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=160), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "cip", "cp", "coordinator", "admin", name="role", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", referral.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", referral.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", referral.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", referral.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(role = 'cip' AND structure_id IS NOT NULL AND territory_id IS NULL) OR (role IN ('cp', 'coordinator') AND territory_id IS NOT NULL AND structure_id IS NULL) OR (role = 'admin' AND territory_id IS NULL AND structure_id IS NULL)",
            name=op.f("ck_invitations_scope_matches_role"),
        ),
        sa.CheckConstraint(
            "email = lower(email) AND email LIKE '%_@_%'", name=op.f("ck_invitations_email_normalised")
        ),
        sa.CheckConstraint(
            "accepted_at IS NULL OR cancelled_at IS NULL", name=op.f("ck_invitations_accepted_or_cancelled")
        ),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_invitations_expires_after_creation")),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_invitations_structure_id_structures"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_invitations_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_email_created_at", ["email", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_invited_by_id"), ["invited_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_structure_id"), ["structure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", referral.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", referral.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", referral.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_password_resets_expires_after_creation")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_user_id"), ["user_id"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", referral.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("proconnect_sub", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_proconnect_sub"), ["proconnect_sub"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_proconnect_sub"), type_="unique")
        batch_op.drop_column("proconnect_sub")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_user_id"))

    op.drop_table("password_resets")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_territory_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_structure_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_invited_by_id"))
        batch_op.drop_index("ix_invitations_email_created_at")

    op.drop_table("invitations")
