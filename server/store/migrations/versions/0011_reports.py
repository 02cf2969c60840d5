"""Scheduled reports (周调度, 月通报): each generated once per jurisdiction, report and period, XLSX and PDF kept.

Revision ID: 0011_reports
Revises: 0010_due_at
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_reports'
down_revision: str | Sequence[str] | None = '0010_due_at'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stored_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=9), nullable=False),
        sa.Column('report', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('generated_by', sa.String(length=200), nullable=False),
        sa.Column('xlsx', sa.LargeBinary(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_stored_report'),
        sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'],
                                name='fk_stored_report_jurisdiction_code_jurisdiction'),
        sa.UniqueConstraint('jurisdiction_code', 'report', 'period',
                            name='uq_stored_report_jurisdiction_code_report_period'),
    )


def downgrade() -> None:
    op.drop_table('stored_report')
