"""Work orders (工单) from other systems: held until registered as petitions (视同信访事项) or closed with a reason.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'work_order',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=9), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('source_order_id', sa.String(length=100), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('case_json', sa.JSON(), nullable=False),
        sa.Column('source_row', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=True),
        sa.Column('closing_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_work_order'),
        sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'],
                                name='fk_work_order_jurisdiction_code_jurisdiction'),
        sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name='fk_work_order_petition_id_petition'),
        sa.UniqueConstraint('jurisdiction_code', 'source', 'source_order_id',
                            name='uq_work_order_jurisdiction_code_source_source_order_id'),
        sa.CheckConstraint("status IN ('held', 'registered', 'closed')", name='ck_work_order_status'),
    )
    op.create_index('ix_work_order_inbox', 'work_order', ['jurisdiction_code', 'status', 'received_on'])


def downgrade() -> None:
    op.drop_index('ix_work_order_inbox', table_name='work_order')
    op.drop_table('work_order')
