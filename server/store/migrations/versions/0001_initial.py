"""Initial schema: jurisdictions, published rule-set versions, drafts, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jurisdiction",
        sa.Column("code", sa.String(9), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(9), nullable=True),
        sa.CheckConstraint("level IN ('national', 'province', 'city', 'county', 'township')",
                           name=op.f("ck_jurisdiction_level")),
        sa.ForeignKeyConstraint(["parent_code"], ["jurisdiction.code"],
                                name=op.f("fk_jurisdiction_parent_code_jurisdiction")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdiction")),
    )
    op.create_index(op.f("ix_jurisdiction_parent_code"), "jurisdiction", ["parent_code"])

    op.create_table(
        "ruleset_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(9), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["jurisdiction_code"], ["jurisdiction.code"],
                                name=op.f("fk_ruleset_version_jurisdiction_code_jurisdiction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_version")),
        sa.UniqueConstraint("jurisdiction_code", "version", name=op.f("uq_ruleset_version_jurisdiction_code_version")),
    )

    op.create_table(
        "ruleset_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(9), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_version_id"], ["ruleset_version.id"],
                                name=op.f("fk_ruleset_draft_base_version_id_ruleset_version")),
        sa.ForeignKeyConstraint(["jurisdiction_code"], ["jurisdiction.code"],
                                name=op.f("fk_ruleset_draft_jurisdiction_code_jurisdiction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_draft")),
    )
    op.create_index(op.f("ix_ruleset_draft_jurisdiction_code"), "ruleset_draft", ["jurisdiction_code"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("ruleset_draft")
    op.drop_table("ruleset_version")
    op.drop_table("jurisdiction")
