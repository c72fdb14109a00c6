"""support context read models: ticket queue, technician performance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("support_perf_tickets", "support_resolutions", "support_tickets")

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('support_perf_tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), server_default='', nullable=False),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_perf_tickets'))
    )
    op.create_index(op.f('ix_support_perf_tickets_tenant_id'), 'support_perf_tickets', ['tenant_id'], unique=False)
    op.create_table('support_resolutions',
    sa.Column('ticket_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('technician_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('business_minutes', sa.Integer(), nullable=False),
    sa.Column('wall_minutes', sa.Integer(), nullable=False),
    sa.Column('sla_met', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_support_resolutions'))
    )
    op.create_index(op.f('ix_support_resolutions_tenant_id_month'), 'support_resolutions', ['tenant_id', 'month'], unique=False)
    op.create_table('support_tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=80), server_default='', nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=True),
    sa.Column('opened_by', sa.String(length=10), nullable=False),
    sa.Column('public_comments', sa.Integer(), server_default='0', nullable=False),
    sa.Column('internal_notes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_running', sa.Boolean(), nullable=False),
    sa.Column('first_response_warned', sa.Boolean(), nullable=False),
    sa.Column('first_response_breached', sa.Boolean(), nullable=False),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_running', sa.Boolean(), nullable=False),
    sa.Column('resolution_warned', sa.Boolean(), nullable=False),
    sa.Column('resolution_breached', sa.Boolean(), nullable=False),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('business_resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_tickets'))
    )
    op.create_index(op.f('ix_support_tickets_tenant_id'), 'support_tickets', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_support_tickets_tenant_id_assignee_id'), 'support_tickets', ['tenant_id', 'assignee_id'], unique=False)
    op.create_index(op.f('ix_support_tickets_tenant_id_customer_id'), 'support_tickets', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_support_tickets_tenant_id_number'), 'support_tickets', ['tenant_id', 'number'], unique=True)
    op.create_index(op.f('ix_support_tickets_tenant_id_status'), 'support_tickets', ['tenant_id', 'status'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_support_tickets_tenant_id_status'), table_name='support_tickets')
    op.drop_index(op.f('ix_support_tickets_tenant_id_number'), table_name='support_tickets')
    op.drop_index(op.f('ix_support_tickets_tenant_id_customer_id'), table_name='support_tickets')
    op.drop_index(op.f('ix_support_tickets_tenant_id_assignee_id'), table_name='support_tickets')
    op.drop_index(op.f('ix_support_tickets_tenant_id'), table_name='support_tickets')
    op.drop_table('support_tickets')
    op.drop_index(op.f('ix_support_resolutions_tenant_id_month'), table_name='support_resolutions')
    op.drop_table('support_resolutions')
    op.drop_index(op.f('ix_support_perf_tickets_tenant_id'), table_name='support_perf_tickets')
    op.drop_table('support_perf_tickets')
