"""energy read models (accounts, consumer units, bills).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00

Reserved in the chain so work on separate branches never forks the head; the owning change
fills upgrade()/downgrade().
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("energy_accounts", "energy_bills", "energy_units")

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('energy_accounts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('document', sa.String(length=14), nullable=False),
    sa.Column('phone_last4', sa.String(length=4), nullable=False),
    sa.Column('distributor', sa.String(length=20), nullable=False),
    sa.Column('portal', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=300), server_default='', nullable=False),
    sa.Column('session_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sync_status', sa.String(length=12), nullable=True),
    sa.Column('sync_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sync_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sync_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sync_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sync_units', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sync_bills', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sync_failed_units', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_accounts'))
    )
    op.create_index(op.f('ix_energy_accounts_tenant_id'), 'energy_accounts', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_energy_accounts_tenant_id_name'), 'energy_accounts', ['tenant_id', 'name'], unique=False)
    op.create_table('energy_bills',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('unit_number', sa.BigInteger(), nullable=False),
    sa.Column('reference_month', sa.String(length=7), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consumption_kwh', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('tariff_flag', sa.String(length=40), server_default='', nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('pix_copy_paste', sa.Text(), server_default='', nullable=False),
    sa.Column('barcode', sa.String(length=44), server_default='', nullable=False),
    sa.Column('digitable_line', sa.String(length=48), server_default='', nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_bills'))
    )
    op.create_index(op.f('ix_energy_bills_tenant_id'), 'energy_bills', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_energy_bills_tenant_id_status_due_date'), 'energy_bills', ['tenant_id', 'status', 'due_date'], unique=False)
    op.create_index(op.f('ix_energy_bills_tenant_id_unit_id_reference_month'), 'energy_bills', ['tenant_id', 'unit_id', 'reference_month'], unique=False)
    op.create_table('energy_units',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('digit', sa.Integer(), nullable=False),
    sa.Column('company_code', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), server_default='', nullable=False),
    sa.Column('city', sa.String(length=120), server_default='', nullable=False),
    sa.Column('klass', sa.String(length=40), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('cut', sa.Boolean(), nullable=False),
    sa.Column('low_income', sa.Boolean(), nullable=False),
    sa.Column('is_generator', sa.Boolean(), nullable=False),
    sa.Column('generator_number', sa.BigInteger(), nullable=True),
    sa.Column('credit_kwh', sa.Numeric(precision=16, scale=3), nullable=True),
    sa.Column('beneficiaries', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_energy_units'))
    )
    op.create_index(op.f('ix_energy_units_tenant_id'), 'energy_units', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_energy_units_tenant_id_account_id_number'), 'energy_units', ['tenant_id', 'account_id', 'number'], unique=False)

    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_energy_units_tenant_id_account_id_number'), table_name='energy_units')
    op.drop_index(op.f('ix_energy_units_tenant_id'), table_name='energy_units')
    op.drop_table('energy_units')
    op.drop_index(op.f('ix_energy_bills_tenant_id_unit_id_reference_month'), table_name='energy_bills')
    op.drop_index(op.f('ix_energy_bills_tenant_id_status_due_date'), table_name='energy_bills')
    op.drop_index(op.f('ix_energy_bills_tenant_id'), table_name='energy_bills')
    op.drop_table('energy_bills')
    op.drop_index(op.f('ix_energy_accounts_tenant_id_name'), table_name='energy_accounts')
    op.drop_index(op.f('ix_energy_accounts_tenant_id'), table_name='energy_accounts')
    op.drop_table('energy_accounts')
