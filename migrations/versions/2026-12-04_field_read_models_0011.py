"""field context read models (orders, materials) and the notification inbox.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 16:40:24.293928
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = ("field_materials", "field_orders", "notification_inbox")

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_materials',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('sku', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=200), server_default='', nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('serial', sa.String(length=80), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('order_id', 'line', name=op.f('pk_field_materials'))
    )
    with op.batch_alter_table('field_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_materials_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_materials_tenant_id_month'), ['tenant_id', 'month'], unique=False)

    op.create_table('field_orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('ticket_id', sa.String(length=36), nullable=True),
    sa.Column('contract_id', sa.String(length=36), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('technician_id', sa.String(length=36), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reschedules', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visits', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), server_default='', nullable=False),
    sa.Column('photos', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_orders'))
    )
    with op.batch_alter_table('field_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_orders_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_orders_tenant_id_customer_id'), ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_orders_tenant_id_number'), ['tenant_id', 'number'], unique=True)
        batch_op.create_index(batch_op.f('ix_field_orders_tenant_id_status'), ['tenant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_orders_tenant_id_technician_id_window_start'), ['tenant_id', 'technician_id', 'window_start'], unique=False)

    op.create_table('notification_inbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('recipient_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('link', sa.String(length=500), server_default='', nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('source_id', sa.String(length=36), nullable=False),
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_inbox'))
    )
    with op.batch_alter_table('notification_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_inbox_tenant_id_recipient_id_read'), ['tenant_id', 'recipient_id', 'read'], unique=False)


    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)

def downgrade() -> None:
    with op.batch_alter_table('notification_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_inbox_tenant_id_recipient_id_read'))

    op.drop_table('notification_inbox')
    with op.batch_alter_table('field_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_orders_tenant_id_technician_id_window_start'))
        batch_op.drop_index(batch_op.f('ix_field_orders_tenant_id_status'))
        batch_op.drop_index(batch_op.f('ix_field_orders_tenant_id_number'))
        batch_op.drop_index(batch_op.f('ix_field_orders_tenant_id_customer_id'))
        batch_op.drop_index(batch_op.f('ix_field_orders_tenant_id'))

    op.drop_table('field_orders')
    with op.batch_alter_table('field_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_materials_tenant_id_month'))
        batch_op.drop_index(batch_op.f('ix_field_materials_tenant_id'))

    op.drop_table('field_materials')
