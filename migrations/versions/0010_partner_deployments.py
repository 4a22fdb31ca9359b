"""partners: a territory's own contacts and notes on its deployment of a partner (issue 14)

A partner deployed in several territories has one identity (name, SIRET, national network),
edited by the national team; each territory's CPs edit their deployment: its status, local
contacts and local notes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partner_territories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("local_contacts", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(sa.Column("local_notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partner_territories", schema=None) as batch_op:
        batch_op.drop_column("local_notes")
        batch_op.drop_column("local_contacts")
