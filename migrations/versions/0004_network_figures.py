"""network: precomputed national figures of the ecosystem (one row per scope)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:59:07.006911
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "(scope = 'national') = (territory_id IS NULL)",
            name=op.f("ck_network_figures_territory_iff_territory_scope"),
        ),
        sa.CheckConstraint("scope <> ''", name=op.f("ck_network_figures_scope_not_empty")),
        sa.CheckConstraint("seconds >= 0", name=op.f("ck_network_figures_seconds_not_negative")),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_network_figures_territory_id_territories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_figures")),
        sa.UniqueConstraint("scope", name=op.f("uq_network_figures_scope")),
    )
    with op.batch_alter_table("network_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_figures_territory_id"), ["territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("network_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_figures_territory_id"))

    op.drop_table("network_figures")
