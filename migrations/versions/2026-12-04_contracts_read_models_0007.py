"""contracts context read models: contract list, contract templates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("contract_templates", "contracts")

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contract_templates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_templates'))
    )
    op.create_index(op.f('ix_contract_templates_tenant_id'), 'contract_templates', ['tenant_id'], unique=False)
    op.create_table('contracts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('template_id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('plan_name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.String(length=500), server_default='', nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('loyalty_months', sa.Integer(), nullable=False),
    sa.Column('auto_renew', sa.Boolean(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature_provider', sa.String(length=20), nullable=True),
    sa.Column('subscription_id', sa.String(length=36), nullable=True),
    sa.Column('cancellation_fee', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('noticed_end_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts'))
    )
    op.create_index(op.f('ix_contracts_tenant_id_customer_id'), 'contracts', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_contracts_tenant_id_number'), 'contracts', ['tenant_id', 'number'], unique=True)
    op.create_index(op.f('ix_contracts_tenant_id_status_end_date'), 'contracts', ['tenant_id', 'status', 'end_date'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_contracts_tenant_id_status_end_date'), table_name='contracts')
    op.drop_index(op.f('ix_contracts_tenant_id_number'), table_name='contracts')
    op.drop_index(op.f('ix_contracts_tenant_id_customer_id'), table_name='contracts')
    op.drop_table('contracts')
    op.drop_index(op.f('ix_contract_templates_tenant_id'), table_name='contract_templates')
    op.drop_table('contract_templates')
