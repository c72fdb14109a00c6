"""fiscal context, NFCom (model 62) read models: the NFCom list (with book totals) and its
integration log.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("fiscal_nfcom", "fiscal_nfcom_calls")

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fiscal_nfcom',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_document', sa.String(length=14), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=True),
    sa.Column('competence', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('total', sa.String(length=20), nullable=False),
    sa.Column('icms_base', sa.String(length=20), nullable=False),
    sa.Column('icms', sa.String(length=20), nullable=False),
    sa.Column('pis', sa.String(length=20), nullable=False),
    sa.Column('cofins', sa.String(length=20), nullable=False),
    sa.Column('fust', sa.String(length=20), nullable=False),
    sa.Column('funttel', sa.String(length=20), nullable=False),
    sa.Column('cbs', sa.String(length=20), nullable=False),
    sa.Column('ibs', sa.String(length=20), nullable=False),
    sa.Column('backend', sa.String(length=20), nullable=True),
    sa.Column('environment', sa.String(length=20), nullable=True),
    sa.Column('series', sa.Integer(), nullable=True),
    sa.Column('number', sa.BigInteger(), nullable=True),
    sa.Column('access_key', sa.String(length=44), nullable=True),
    sa.Column('protocol', sa.String(length=20), nullable=True),
    sa.Column('cstat', sa.String(length=4), nullable=True),
    sa.Column('reason', sa.String(length=None), nullable=True),
    sa.Column('last_error', sa.String(length=None), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancel_reason', sa.String(length=255), nullable=True),
    sa.Column('cancel_protocol', sa.String(length=20), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fiscal_nfcom'))
    )
    op.create_index(op.f('ix_fiscal_nfcom_tenant_id_status'), 'fiscal_nfcom', ['tenant_id', 'status'], unique=False)
    op.create_index(op.f('ix_fiscal_nfcom_tenant_id'), 'fiscal_nfcom', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fiscal_nfcom_tenant_id_month_status'), 'fiscal_nfcom', ['tenant_id', 'month', 'status'], unique=False)
    op.create_index(op.f('ix_fiscal_nfcom_tenant_id_customer_id'), 'fiscal_nfcom', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_fiscal_nfcom_tenant_id_invoice_id'), 'fiscal_nfcom', ['tenant_id', 'invoice_id'], unique=False)
    op.create_table('fiscal_nfcom_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('nfcom_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('url', sa.String(length=None), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request', sa.String(length=None), nullable=True),
    sa.Column('response', sa.String(length=None), nullable=True),
    sa.Column('error', sa.String(length=None), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fiscal_nfcom_calls'))
    )
    op.create_index(op.f('ix_fiscal_nfcom_calls_tenant_id'), 'fiscal_nfcom_calls', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fiscal_nfcom_calls_nfcom_id'), 'fiscal_nfcom_calls', ['nfcom_id'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_table('fiscal_nfcom_calls')
    op.drop_table('fiscal_nfcom')
