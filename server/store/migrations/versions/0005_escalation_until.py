"""Escalation schedule: the last day a step may fire (`until_on`), so the sweep reads the step's timing, not its action.

A warning (`before_days`) is due only through the watched deadline's day; the engine decided that by
the step's timing and the sweep by its action (`warn`), which disagreed for a `before_days` step with
another action. The schedule now stores the end with the start (config.procedure.TIMINGS).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('case_escalation') as batch:
        batch.add_column(sa.Column('until_on', sa.Date(), nullable=True))
    # The steps not fired yet that the old sweep treated as warnings end on their watched deadline.
    op.execute("""
        UPDATE case_escalation SET until_on = (
          SELECT d.due_on FROM case_deadline d
          WHERE d.petition_id = case_escalation.petition_id AND d.step = case_escalation.watch)
        WHERE action = 'warn' AND watch IS NOT NULL AND fired_at IS NULL""")


def downgrade() -> None:
    with op.batch_alter_table('case_escalation') as batch:
        batch.drop_column('until_on')
