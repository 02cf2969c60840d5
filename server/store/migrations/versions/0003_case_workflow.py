"""Case workflow: the outcome of a concluded case; the per-jurisdiction, per-year case number counter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_number_counter',
    sa.Column('jurisdiction_code', sa.String(length=9), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_case_number_counter_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('jurisdiction_code', 'year', name=op.f('pk_case_number_counter'))
    )
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    op.drop_table('case_number_counter')
