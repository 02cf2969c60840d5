"""Draft ids are never reused: SQLite handed a new draft the id of the last one once that was published (deleted),
so the audit log's "草稿 1" could open another jurisdiction's draft. AUTOINCREMENT, counting on from the highest id
the audit log has seen; PostgreSQL's sequence never reused one.

Revision ID: 0012_draft_ids
Revises: 0011_reports
Create Date: 2026-12-07 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0012_draft_ids'
down_revision: str | Sequence[str] | None = '0011_reports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("ruleset_draft", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass
    op.execute("""
        INSERT INTO sqlite_sequence (name, seq) SELECT 'ruleset_draft', 0
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'ruleset_draft')""")
    op.execute("""
        UPDATE sqlite_sequence SET seq = MAX(seq,
            COALESCE((SELECT MAX(id) FROM ruleset_draft), 0),
            COALESCE((SELECT MAX(CAST(object_id AS INTEGER)) FROM audit_log WHERE object_type = 'ruleset_draft'), 0))
        WHERE name = 'ruleset_draft'""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("ruleset_draft", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
