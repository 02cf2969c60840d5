"""Escalation sweeps: a partial index of the steps not yet fired, by due date, replacing (fired_at, due_on).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text('fired_at IS NULL')


def upgrade() -> None:
    # A fired step leaves the partial index, so it stays the size of the schedule still ahead while
    # the table keeps every step ever fired; the old index grew with the table (bench/README.md).
    op.create_index('ix_case_escalation_due', 'case_escalation', ['due_on'], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.drop_index('ix_case_escalation_pending', table_name='case_escalation')


def downgrade() -> None:
    op.create_index('ix_case_escalation_pending', 'case_escalation', ['fired_at', 'due_on'], unique=False)
    op.drop_index('ix_case_escalation_due', table_name='case_escalation')
