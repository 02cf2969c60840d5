"""Query codes of the cases petitioners submit online (网上信访): the petitioner's way back, kept as a blind index.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'query_code',
        sa.Column('petition_id', sa.Integer(), sa.ForeignKey('petition.id'), primary_key=True),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('query_code')
