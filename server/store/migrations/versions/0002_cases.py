"""Cases (petition), their events, deadlines and escalations; idempotency keys; users.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:15:03.682045
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=9), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=True),
    sa.Column('unit_name', sa.String(length=200), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_app_user_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('petition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=9), nullable=False),
    sa.Column('ruleset_version', sa.String(length=400), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('intake', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('track', sa.String(length=64), nullable=True),
    sa.Column('route_unit', sa.String(length=64), nullable=True),
    sa.Column('admissible', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('petitioner_key', sa.String(length=64), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('accused_unit', sa.String(length=200), nullable=True),
    sa.Column('case_json', sa.JSON(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['petition.id'], name=op.f('fk_petition_duplicate_of_id_petition')),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_petition_jurisdiction_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition')),
    sa.UniqueConstraint('number', name=op.f('uq_petition_number'))
    )
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.create_index('ix_petition_duplicates', ['jurisdiction_code', 'petitioner_key', 'category', 'received_on'], unique=False)
        batch_op.create_index('ix_petition_jurisdiction_stage', ['jurisdiction_code', 'stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_route_unit'), ['route_unit'], unique=False)

    op.create_table('case_deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_case_deadline_petition_id_petition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_deadline')),
    sa.UniqueConstraint('petition_id', 'step', name=op.f('uq_case_deadline_petition_id_step'))
    )
    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadline_open_due', ['done_on', 'due_on'], unique=False)

    op.create_table('case_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('watch', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('flag', sa.String(length=16), nullable=True),
    sa.Column('target', sa.String(length=32), nullable=True),
    sa.Column('letter', sa.Boolean(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fired_by', sa.String(length=200), nullable=True),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_case_escalation_petition_id_petition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_escalation')),
    sa.UniqueConstraint('petition_id', 'step', name=op.f('uq_case_escalation_petition_id_step'))
    )
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.create_index('ix_case_escalation_pending', ['fired_at', 'due_on'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('stage_before', sa.String(length=24), nullable=True),
    sa.Column('stage_after', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_case_event_petition_id_petition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_petition_id'), ['petition_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_idempotency_record_petition_id_petition')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_record'))
    )


def downgrade() -> None:
    op.drop_table('idempotency_record')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_petition_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_case_escalation_pending')

    op.drop_table('case_escalation')
    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_case_deadline_open_due')

    op.drop_table('case_deadline')
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_route_unit'))
        batch_op.drop_index('ix_petition_jurisdiction_stage')
        batch_op.drop_index('ix_petition_duplicates')

    op.drop_table('petition')
    op.drop_table('app_user')
