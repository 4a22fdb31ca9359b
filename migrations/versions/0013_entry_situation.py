"""cases: the situation at entry kept apart from the record's current one (issue 17)

The entry → exit indicators compared the exit with the record's current housing and health
coverage, which the CIP updates as the person's situation changes: a person housed during the
path counted as housed « at entry ». The record now keeps what it said when created. Existing
records get their current values: the best known, and what the indicators used so far.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("housing_status_at_entry", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("health_coverage_at_entry", sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE participants SET housing_status_at_entry = housing_status, "
        "health_coverage_at_entry = health_coverage"
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.alter_column("housing_status_at_entry", existing_type=sa.String(length=60), nullable=False)
        batch_op.alter_column("health_coverage_at_entry", existing_type=sa.String(length=60), nullable=False)

    with op.batch_alter_table("health_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("had_treating_doctor_first", sa.Boolean(), nullable=True))
    op.execute("UPDATE health_records SET had_treating_doctor_first = has_treating_doctor")
    with op.batch_alter_table("health_records", schema=None) as batch_op:
        batch_op.alter_column("had_treating_doctor_first", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("health_records", schema=None) as batch_op:
        batch_op.drop_column("had_treating_doctor_first")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("health_coverage_at_entry")
        batch_op.drop_column("housing_status_at_entry")
