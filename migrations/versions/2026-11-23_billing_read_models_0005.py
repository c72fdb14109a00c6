"""billing context read models.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = (
    "billing_accounts", "billing_gateway_events", "billing_invoices", "billing_payments", "billing_plans",
    "billing_runs", "billing_subscriptions",
)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_accounts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('credit', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('block_reason', sa.String(length=200), server_default='', nullable=False),
    sa.Column('trust_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('network_state', sa.String(length=16), server_default='none', nullable=False),
    sa.Column('network_action', sa.String(length=16), server_default='', nullable=False),
    sa.Column('network_error', sa.String(length=500), server_default='', nullable=False),
    sa.Column('network_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_accounts'))
    )
    op.create_index(op.f('ix_billing_accounts_tenant_id'), 'billing_accounts', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_billing_accounts_tenant_id_customer_id'), 'billing_accounts', ['tenant_id', 'customer_id'], unique=False)
    op.create_table('billing_gateway_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_gateway_events'))
    )
    op.create_index(op.f('ix_billing_gateway_events_tenant_id'), 'billing_gateway_events', ['tenant_id'], unique=False)
    op.create_table('billing_invoices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('subscription_id', sa.String(length=36), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('credit_applied', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('principal_paid', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('charges_paid', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('months', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reminders', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoices'))
    )
    op.create_index(op.f('ix_billing_invoices_tenant_id_customer_id'), 'billing_invoices', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_billing_invoices_tenant_id_number'), 'billing_invoices', ['tenant_id', 'number'], unique=False)
    op.create_index(op.f('ix_billing_invoices_tenant_id_status_due_date'), 'billing_invoices', ['tenant_id', 'status', 'due_date'], unique=False)
    op.create_table('billing_payments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_month', sa.String(length=7), nullable=False),
    sa.Column('principal', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('fine', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('interest', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('excess', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('refunded', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=200), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payments'))
    )
    op.create_index(op.f('ix_billing_payments_invoice_id'), 'billing_payments', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_billing_payments_tenant_id_paid_month'), 'billing_payments', ['tenant_id', 'paid_month'], unique=False)
    op.create_table('billing_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('cycle', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_plans'))
    )
    op.create_index(op.f('ix_billing_plans_tenant_id'), 'billing_plans', ['tenant_id'], unique=False)
    op.create_table('billing_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_runs'))
    )
    op.create_index(op.f('ix_billing_runs_tenant_id'), 'billing_runs', ['tenant_id'], unique=False)
    op.create_table('billing_subscriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('pending_plan_id', sa.String(length=36), nullable=True),
    sa.Column('pending_from', sa.Date(), nullable=True),
    sa.Column('due_day', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('next_period_start', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_subscriptions'))
    )
    op.create_index(op.f('ix_billing_subscriptions_tenant_id_customer_id'), 'billing_subscriptions', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_billing_subscriptions_tenant_id_status_next_period_start'), 'billing_subscriptions', ['tenant_id', 'status', 'next_period_start'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_billing_subscriptions_tenant_id_status_next_period_start'), table_name='billing_subscriptions')
    op.drop_index(op.f('ix_billing_subscriptions_tenant_id_customer_id'), table_name='billing_subscriptions')
    op.drop_table('billing_subscriptions')
    op.drop_index(op.f('ix_billing_runs_tenant_id'), table_name='billing_runs')
    op.drop_table('billing_runs')
    op.drop_index(op.f('ix_billing_plans_tenant_id'), table_name='billing_plans')
    op.drop_table('billing_plans')
    op.drop_index(op.f('ix_billing_payments_tenant_id_paid_month'), table_name='billing_payments')
    op.drop_index(op.f('ix_billing_payments_invoice_id'), table_name='billing_payments')
    op.drop_table('billing_payments')
    op.drop_index(op.f('ix_billing_invoices_tenant_id_status_due_date'), table_name='billing_invoices')
    op.drop_index(op.f('ix_billing_invoices_tenant_id_number'), table_name='billing_invoices')
    op.drop_index(op.f('ix_billing_invoices_tenant_id_customer_id'), table_name='billing_invoices')
    op.drop_table('billing_invoices')
    op.drop_index(op.f('ix_billing_gateway_events_tenant_id'), table_name='billing_gateway_events')
    op.drop_table('billing_gateway_events')
    op.drop_index(op.f('ix_billing_accounts_tenant_id_customer_id'), table_name='billing_accounts')
    op.drop_index(op.f('ix_billing_accounts_tenant_id'), table_name='billing_accounts')
    op.drop_table('billing_accounts')
