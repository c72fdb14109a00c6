"""reports read models (kpi_monthly, scheduled reports, e-mail attachments).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 19:00:00

Reserved in the chain so work on separate branches never forks the head; the owning change
fills upgrade()/downgrade().
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ('kpi_monthly', 'outbox_attachments', 'reports_churn_reasons', 'reports_customers', 'reports_invoices', 'reports_nfse', 'reports_orders', 'reports_plans', 'reports_schedules', 'reports_sendings', 'reports_subscriptions', 'reports_tickets', 'reports_watch')

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_monthly',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('new_customers', sa.Integer(), server_default='0', nullable=False),
    sa.Column('churned_customers', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('inactive_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('blocked_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('payments', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tickets_opened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tickets_resolved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tickets_resolved_in_sla', sa.Integer(), server_default='0', nullable=False),
    sa.Column('open_tickets_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('orders_opened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('orders_completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('orders_pending_delta', sa.Integer(), server_default='0', nullable=False),
    sa.Column('nfse_issued', sa.Integer(), server_default='0', nullable=False),
    sa.Column('invoices_issued', sa.Integer(), server_default='0', nullable=False),
    sa.Column('mrr_delta', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('revenue', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('receivable_delta', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('overdue_delta', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('nfse_total', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('invoiced', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'month', name=op.f('pk_kpi_monthly'))
    )
    op.create_table('outbox_attachments',
    sa.Column('email_id', sa.String(length=36), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('email_id', 'line', name=op.f('pk_outbox_attachments'))
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attachments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_churn_reasons',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'month', 'reason', name=op.f('pk_reports_churn_reasons'))
    )
    op.create_table('reports_customers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('document', sa.String(length=20), server_default='', nullable=False),
    sa.Column('email', sa.String(length=254), server_default='', nullable=False),
    sa.Column('plan', sa.String(length=100), server_default='', nullable=False),
    sa.Column('city', sa.String(length=100), server_default='', nullable=False),
    sa.Column('uf', sa.String(length=2), server_default='', nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('churned_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_customers'))
    )
    with op.batch_alter_table('reports_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_customers_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_customers_tenant_id_status'), ['tenant_id', 'status'], unique=False)

    op.create_table('reports_invoices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), server_default='', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('outstanding', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=16, scale=2), server_default='0', nullable=False),
    sa.Column('method', sa.String(length=10), server_default='', nullable=False),
    sa.Column('receivable', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('overdue', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_invoices'))
    )
    with op.batch_alter_table('reports_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_invoices_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_invoices_tenant_id_issue_date'), ['tenant_id', 'issue_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_invoices_tenant_id_status'), ['tenant_id', 'status'], unique=False)

    op.create_table('reports_nfse',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('authorized', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_nfse'))
    )
    with op.batch_alter_table('reports_nfse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_nfse_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('technician_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_orders'))
    )
    with op.batch_alter_table('reports_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_orders_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('price', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('cycle', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_plans'))
    )
    with op.batch_alter_table('reports_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_plans_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_schedules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=5), nullable=False),
    sa.Column('frequency', sa.String(length=8), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('day', sa.Integer(), nullable=True),
    sa.Column('time', sa.String(length=5), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('last_period', sa.String(length=10), server_default='', nullable=False),
    sa.Column('sendings', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_schedules'))
    )
    with op.batch_alter_table('reports_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_schedules_deleted_paused'), ['deleted', 'paused'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_schedules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_sendings',
    sa.Column('schedule_id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=60), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('period', sa.String(length=10), server_default='', nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filename', sa.String(length=120), server_default='', nullable=False),
    sa.Column('rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('emails', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.String(length=1000), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('schedule_id', 'request_id', name=op.f('pk_reports_sendings'))
    )
    with op.batch_alter_table('reports_sendings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_sendings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_subscriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('mrr', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_subscriptions'))
    )
    with op.batch_alter_table('reports_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_subscriptions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_subscriptions_tenant_id_plan_id'), ['tenant_id', 'plan_id'], unique=False)

    op.create_table('reports_tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('breached', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports_tickets'))
    )
    with op.batch_alter_table('reports_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_tickets_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('reports_watch',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'id', name=op.f('pk_reports_watch'))
    )
    with op.batch_alter_table('reports_watch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_watch_tenant_id'), ['tenant_id'], unique=False)

    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    with op.batch_alter_table('reports_watch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_watch_tenant_id'))

    op.drop_table('reports_watch')
    with op.batch_alter_table('reports_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_tickets_tenant_id'))

    op.drop_table('reports_tickets')
    with op.batch_alter_table('reports_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_subscriptions_tenant_id_plan_id'))
        batch_op.drop_index(batch_op.f('ix_reports_subscriptions_tenant_id'))

    op.drop_table('reports_subscriptions')
    with op.batch_alter_table('reports_sendings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_sendings_tenant_id'))

    op.drop_table('reports_sendings')
    with op.batch_alter_table('reports_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_schedules_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_reports_schedules_deleted_paused'))

    op.drop_table('reports_schedules')
    with op.batch_alter_table('reports_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_plans_tenant_id'))

    op.drop_table('reports_plans')
    with op.batch_alter_table('reports_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_orders_tenant_id'))

    op.drop_table('reports_orders')
    with op.batch_alter_table('reports_nfse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_nfse_tenant_id'))

    op.drop_table('reports_nfse')
    with op.batch_alter_table('reports_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_invoices_tenant_id_status'))
        batch_op.drop_index(batch_op.f('ix_reports_invoices_tenant_id_issue_date'))
        batch_op.drop_index(batch_op.f('ix_reports_invoices_tenant_id'))

    op.drop_table('reports_invoices')
    with op.batch_alter_table('reports_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_customers_tenant_id_status'))
        batch_op.drop_index(batch_op.f('ix_reports_customers_tenant_id'))

    op.drop_table('reports_customers')
    op.drop_table('reports_churn_reasons')
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attachments_tenant_id'))

    op.drop_table('outbox_attachments')
    op.drop_table('kpi_monthly')
