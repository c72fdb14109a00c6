"""cnpj context read models: watch-list, checks, usage metering; data keys, cache, CSV imports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("cnpj_checks", "cnpj_data_keys", "cnpj_imports", "cnpj_targets", "cnpj_usage")

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cnpj_targets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('search', sa.String(length=500), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('tags_text', sa.String(length=1000), nullable=False),
    sa.Column('schedule', sa.String(length=10), nullable=False),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('situation', sa.String(length=20), nullable=True),
    sa.Column('razao_social', sa.String(length=300), server_default='', nullable=False),
    sa.Column('last_check_id', sa.String(length=36), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cnpj_targets'))
    )
    with op.batch_alter_table('cnpj_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cnpj_targets_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cnpj_targets_tenant_id_archived_search'),
                              ['tenant_id', 'archived', 'search'], unique=False)
        batch_op.create_index(batch_op.f('ix_cnpj_targets_tenant_id_cnpj'), ['tenant_id', 'cnpj'], unique=False)

    op.create_table('cnpj_checks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('target_id', sa.String(length=36), nullable=False),
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('cache_hit', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('found', sa.Boolean(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('situation', sa.String(length=20), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('personal', sa.Text(), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('erased', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cnpj_checks'))
    )
    with op.batch_alter_table('cnpj_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cnpj_checks_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cnpj_checks_tenant_id_target_id_requested_at'),
                              ['tenant_id', 'target_id', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cnpj_checks_status_completed_at'), ['status', 'completed_at'],
                              unique=False)

    op.create_table('cnpj_usage',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('cache_hit', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'provider', 'cache_hit', 'outcome', name=op.f('pk_cnpj_usage'))
    )
    with op.batch_alter_table('cnpj_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cnpj_usage_tenant_id_month'), ['tenant_id', 'month'], unique=False)

    op.create_table('cnpj_data_keys',
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('wrapped_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_cnpj_data_keys'))
    )
    with op.batch_alter_table('cnpj_data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cnpj_data_keys_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cnpj_cache',
    sa.Column('cnpj', sa.String(length=14), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('cnpj', name=op.f('pk_cnpj_cache'))
    )

    op.create_table('cnpj_imports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cnpj_imports'))
    )
    with op.batch_alter_table('cnpj_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cnpj_imports_tenant_id'), ['tenant_id'], unique=False)

    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    for name in ("cnpj_imports", "cnpj_cache", "cnpj_data_keys", "cnpj_usage", "cnpj_checks", "cnpj_targets"):
        op.drop_table(name)
