"""cases: indexes for the indicators (issue 17)

- `ix_participants_person`: who the person is across their records (names folded to lower case
  and birth date). The indicators group the paths of the
  period by person; SQLite reads them in the index's order instead of sorting them.
- `ix_follow_ups_due_on_done_on` now also holds the kind, outcome, exit and person: the
  follow-ups due in a period are counted from the index alone. Its first two columns are
  unchanged, so the scheduler's look-ups of the follow-ups due keep it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_participants_person",
        "participants",
        [
            sa.func.lower(sa.text("first_name")),
            sa.func.lower(sa.text("last_name")),
            "birth_date",
        ],
    )
    op.drop_index("ix_follow_ups_due_on_done_on", table_name="follow_ups")
    op.create_index(
        "ix_follow_ups_due_on_done_on",
        "follow_ups",
        ["due_on", "done_on", "kind", "outcome", "exit_id", "participant_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_follow_ups_due_on_done_on", table_name="follow_ups")
    op.create_index("ix_follow_ups_due_on_done_on", "follow_ups", ["due_on", "done_on"])
    op.drop_index("ix_participants_person", table_name="participants")
