"""referrals: the need a referral answers, for the CP's lists (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("need_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_referrals_need_id"), ["need_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_need_id_needs"), "needs", ["need_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_referrals_need_id_needs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_referrals_need_id"))
        batch_op.drop_column("need_id")
