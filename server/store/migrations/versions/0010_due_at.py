"""Deadlines at a moment (流转不过夜): when a case was received, when a step is due, when an escalation may fire.

A limit in hours or "by 09:00 of the next working day" ends at a moment, not at the end of a day: the
deadline keeps it beside its day (`case_deadline.due_at`), the escalation schedule the moments it may fire
from and until (`case_escalation.due_at`, `until_at`), and the case the time it was received
(`petition.received_at`), which an hours limit counts from. All are NULL for limits in days, as before.

Revision ID: 0010_due_at
Revises: 0009
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_due_at'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('petition', sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('case_deadline', sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('case_escalation', sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('case_escalation', sa.Column('until_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): a batch copy of `petition` would drop the table the
    # other tables' foreign keys point at.
    op.drop_column('case_escalation', 'until_at')
    op.drop_column('case_escalation', 'due_at')
    op.drop_column('case_deadline', 'due_at')
    op.drop_column('petition', 'received_at')
