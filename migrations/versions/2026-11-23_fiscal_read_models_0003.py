"""fiscal context read models: NFS-e list, integration log, fiscal book, KPIs, settings view.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = (
    "fiscal_book", "fiscal_calls", "fiscal_certificates", "fiscal_kpi_latency", "fiscal_kpi_months",
    "fiscal_nfse", "fiscal_settings",
)

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fiscal_book',
    sa.Column('nfse_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('competence', sa.Date(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('access_key', sa.String(length=60), nullable=True),
    sa.Column('series', sa.String(length=5), nullable=True),
    sa.Column('dps_number', sa.BigInteger(), nullable=True),
    sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tomador_name', sa.String(length=200), nullable=False),
    sa.Column('tomador_document', sa.String(length=14), nullable=False),
    sa.Column('service_code', sa.String(length=6), nullable=False),
    sa.Column('amount', sa.String(length=20), nullable=False),
    sa.Column('deductions', sa.String(length=20), nullable=False),
    sa.Column('base', sa.String(length=20), nullable=False),
    sa.Column('iss_rate', sa.String(length=20), nullable=False),
    sa.Column('iss', sa.String(length=20), nullable=False),
    sa.Column('iss_withheld', sa.Boolean(), nullable=False),
    sa.Column('cbs', sa.String(length=20), nullable=False),
    sa.Column('ibs', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('nfse_id', name=op.f('pk_fiscal_book'))
    )
    op.create_index(op.f('ix_fiscal_book_tenant_id'), 'fiscal_book', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fiscal_book_tenant_id_month_status'), 'fiscal_book', ['tenant_id', 'month', 'status'], unique=False)
    op.create_table('fiscal_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('nfse_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fiscal_calls'))
    )
    op.create_index(op.f('ix_fiscal_calls_nfse_id'), 'fiscal_calls', ['nfse_id'], unique=False)
    op.create_index(op.f('ix_fiscal_calls_tenant_id'), 'fiscal_calls', ['tenant_id'], unique=False)
    op.create_table('fiscal_certificates',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('issuer', sa.Text(), nullable=False),
    sa.Column('serial_number', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warned_days', sa.Integer(), nullable=True),
    sa.Column('expired', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_fiscal_certificates'))
    )
    op.create_table('fiscal_kpi_latency',
    sa.Column('nfse_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('milliseconds', sa.BigInteger(), nullable=True),
    sa.Column('in_flight', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('nfse_id', name=op.f('pk_fiscal_kpi_latency'))
    )
    op.create_index(op.f('ix_fiscal_kpi_latency_tenant_id'), 'fiscal_kpi_latency', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fiscal_kpi_latency_tenant_id_month'), 'fiscal_kpi_latency', ['tenant_id', 'month'], unique=False)
    op.create_table('fiscal_kpi_months',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('issued', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'month', name=op.f('pk_fiscal_kpi_months'))
    )
    op.create_table('fiscal_nfse',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_document', sa.String(length=14), nullable=False),
    sa.Column('service_code', sa.String(length=6), nullable=False),
    sa.Column('nbs', sa.String(length=9), server_default='', nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount', sa.String(length=20), nullable=False),
    sa.Column('deductions', sa.String(length=20), nullable=False),
    sa.Column('iss_rate', sa.String(length=20), nullable=False),
    sa.Column('iss', sa.String(length=20), nullable=False),
    sa.Column('iss_withheld', sa.Boolean(), nullable=False),
    sa.Column('cbs', sa.String(length=20), nullable=False),
    sa.Column('ibs', sa.String(length=20), nullable=False),
    sa.Column('taxes', sa.JSON(), nullable=False),
    sa.Column('competence', sa.Date(), nullable=False),
    sa.Column('municipality_ibge', sa.String(length=7), nullable=False),
    sa.Column('backend', sa.String(length=20), nullable=True),
    sa.Column('environment', sa.String(length=20), nullable=True),
    sa.Column('series', sa.String(length=5), nullable=True),
    sa.Column('dps_number', sa.BigInteger(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('access_key', sa.String(length=60), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('cancel_errors', sa.JSON(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancel_reason_code', sa.String(length=2), nullable=True),
    sa.Column('cancel_reason', sa.String(length=255), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fiscal_nfse'))
    )
    op.create_index(op.f('ix_fiscal_nfse_provider_ref'), 'fiscal_nfse', ['provider_ref'], unique=False)
    op.create_index(op.f('ix_fiscal_nfse_tenant_id'), 'fiscal_nfse', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fiscal_nfse_tenant_id_competence'), 'fiscal_nfse', ['tenant_id', 'competence'], unique=False)
    op.create_index(op.f('ix_fiscal_nfse_tenant_id_customer_id'), 'fiscal_nfse', ['tenant_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_fiscal_nfse_tenant_id_status'), 'fiscal_nfse', ['tenant_id', 'status'], unique=False)
    op.create_table('fiscal_settings',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('backend', sa.String(length=20), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('issuer', sa.JSON(), nullable=False),
    sa.Column('series', sa.String(length=5), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.Column('default_service', sa.JSON(), nullable=False),
    sa.Column('cbs_rate', sa.String(length=10), nullable=False),
    sa.Column('ibs_uf_rate', sa.String(length=10), nullable=False),
    sa.Column('ibs_mun_rate', sa.String(length=10), nullable=False),
    sa.Column('emit_on_cash_confirm', sa.Boolean(), nullable=False),
    sa.Column('credentials_set', sa.JSON(), nullable=False),
    sa.Column('webhook_token_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_fiscal_settings'))
    )
    op.create_index(op.f('ix_fiscal_settings_webhook_token_hash'), 'fiscal_settings', ['webhook_token_hash'], unique=False)
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_index(op.f('ix_fiscal_settings_webhook_token_hash'), table_name='fiscal_settings')
    op.drop_table('fiscal_settings')
    op.drop_index(op.f('ix_fiscal_nfse_tenant_id_status'), table_name='fiscal_nfse')
    op.drop_index(op.f('ix_fiscal_nfse_tenant_id_customer_id'), table_name='fiscal_nfse')
    op.drop_index(op.f('ix_fiscal_nfse_tenant_id_competence'), table_name='fiscal_nfse')
    op.drop_index(op.f('ix_fiscal_nfse_tenant_id'), table_name='fiscal_nfse')
    op.drop_index(op.f('ix_fiscal_nfse_provider_ref'), table_name='fiscal_nfse')
    op.drop_table('fiscal_nfse')
    op.drop_table('fiscal_kpi_months')
    op.drop_index(op.f('ix_fiscal_kpi_latency_tenant_id_month'), table_name='fiscal_kpi_latency')
    op.drop_index(op.f('ix_fiscal_kpi_latency_tenant_id'), table_name='fiscal_kpi_latency')
    op.drop_table('fiscal_kpi_latency')
    op.drop_table('fiscal_certificates')
    op.drop_index(op.f('ix_fiscal_calls_tenant_id'), table_name='fiscal_calls')
    op.drop_index(op.f('ix_fiscal_calls_nfse_id'), table_name='fiscal_calls')
    op.drop_table('fiscal_calls')
    op.drop_index(op.f('ix_fiscal_book_tenant_id_month_status'), table_name='fiscal_book')
    op.drop_index(op.f('ix_fiscal_book_tenant_id'), table_name='fiscal_book')
    op.drop_table('fiscal_book')
