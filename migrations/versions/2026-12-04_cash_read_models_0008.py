"""cash context read models.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ('cash_accounts', 'cash_imports', 'cash_movement_keys', 'cash_movements', 'cash_nfse_follow_ups', 'cash_pix_notices', 'cash_remittances')

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cash_accounts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('bank', sa.String(length=3), nullable=False),
    sa.Column('agency', sa.String(length=10), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('opening_balance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('opening_date', sa.Date(), nullable=False),
    sa.Column('csv_mapping', sa.JSON(), nullable=False),
    sa.Column('psp_configured', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('webhook_token', sa.String(length=64), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_accounts'))
    )
    op.create_index(op.f('ix_cash_accounts_tenant_id'), 'cash_accounts', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_cash_accounts_webhook_token'), 'cash_accounts', ['webhook_token'], unique=False)
    op.create_table('cash_imports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('debits', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('credit_total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('debit_total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recorded', sa.Integer(), server_default='0', nullable=False),
    sa.Column('matched', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unmatched', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_imports'))
    )
    op.create_index(op.f('ix_cash_imports_tenant_id_created_at'), 'cash_imports', ['tenant_id', 'created_at'], unique=False)
    op.create_table('cash_movement_keys',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('movement_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'key', name=op.f('pk_cash_movement_keys'))
    )
    op.create_table('cash_movements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('import_id', sa.String(length=36), server_default='', nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('kind', sa.String(length=6), nullable=False),
    sa.Column('memo', sa.String(length=255), server_default='', nullable=False),
    sa.Column('counterpart_name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('counterpart_document', sa.String(length=14), server_default='', nullable=False),
    sa.Column('fitid', sa.String(length=255), server_default='', nullable=False),
    sa.Column('txid', sa.String(length=35), server_default='', nullable=False),
    sa.Column('e2eid', sa.String(length=32), server_default='', nullable=False),
    sa.Column('nosso_numero', sa.String(length=20), server_default='', nullable=False),
    sa.Column('fees', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('interest', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=True),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('rule', sa.String(length=20), server_default='', nullable=False),
    sa.Column('category', sa.String(length=20), server_default='', nullable=False),
    sa.Column('nfse_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.String(length=300), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_movements'))
    )
    op.create_index(op.f('ix_cash_movements_tenant_id_account_id_posted_on'), 'cash_movements', ['tenant_id', 'account_id', 'posted_on'], unique=False)
    op.create_index(op.f('ix_cash_movements_tenant_id_import_id'), 'cash_movements', ['tenant_id', 'import_id'], unique=False)
    op.create_index(op.f('ix_cash_movements_tenant_id_invoice_id'), 'cash_movements', ['tenant_id', 'invoice_id'], unique=False)
    op.create_index(op.f('ix_cash_movements_tenant_id_status_posted_on'), 'cash_movements', ['tenant_id', 'status', 'posted_on'], unique=False)
    op.create_table('cash_nfse_follow_ups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('receipt', sa.String(length=80), nullable=False),
    sa.Column('movement_id', sa.String(length=36), nullable=True),
    sa.Column('invoice_id', sa.String(length=36), nullable=True),
    sa.Column('nfse_id', sa.String(length=36), nullable=False),
    sa.Column('trigger', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_nfse_follow_ups'))
    )
    op.create_index(op.f('ix_cash_nfse_follow_ups_tenant_id'), 'cash_nfse_follow_ups', ['tenant_id'], unique=False)
    op.create_table('cash_pix_notices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('e2eid', sa.String(length=32), nullable=False),
    sa.Column('txid', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('error', sa.String(length=300), server_default='', nullable=False),
    sa.Column('movement_id', sa.String(length=36), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_pix_notices'))
    )
    op.create_index(op.f('ix_cash_pix_notices_tenant_id'), 'cash_pix_notices', ['tenant_id'], unique=False)
    op.create_table('cash_remittances',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('titles', sa.Integer(), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('filename', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('invoice_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_remittances'))
    )
    op.create_index(op.f('ix_cash_remittances_tenant_id'), 'cash_remittances', ['tenant_id'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_cash_remittances_tenant_id'), table_name='cash_remittances')
    op.drop_table('cash_remittances')
    op.drop_index(op.f('ix_cash_pix_notices_tenant_id'), table_name='cash_pix_notices')
    op.drop_table('cash_pix_notices')
    op.drop_index(op.f('ix_cash_nfse_follow_ups_tenant_id'), table_name='cash_nfse_follow_ups')
    op.drop_table('cash_nfse_follow_ups')
    op.drop_index(op.f('ix_cash_movements_tenant_id_status_posted_on'), table_name='cash_movements')
    op.drop_index(op.f('ix_cash_movements_tenant_id_invoice_id'), table_name='cash_movements')
    op.drop_index(op.f('ix_cash_movements_tenant_id_import_id'), table_name='cash_movements')
    op.drop_index(op.f('ix_cash_movements_tenant_id_account_id_posted_on'), table_name='cash_movements')
    op.drop_table('cash_movements')
    op.drop_table('cash_movement_keys')
    op.drop_index(op.f('ix_cash_imports_tenant_id_created_at'), table_name='cash_imports')
    op.drop_table('cash_imports')
    op.drop_index(op.f('ix_cash_accounts_webhook_token'), table_name='cash_accounts')
    op.drop_index(op.f('ix_cash_accounts_tenant_id'), table_name='cash_accounts')
    op.drop_table('cash_accounts')
