"""hardening: manual job runs (who asked, for which tenant), audit seal checkpoints.

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not tenant-scoped by RLS: platform operators read every row; the API filters by tenant.
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=80), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=500), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    op.create_index('ix_job_runs_tenant_id_job', 'job_runs', ['tenant_id', 'job'], unique=False)
    # Links sealed before this revision used the unkeyed SHA-256 chain: they stay as they are
    # (the seal is append-only) and are checked as a legacy prefix; new links are HMAC-SHA256.
    with op.batch_alter_table('audit_seal') as batch:
        batch.add_column(sa.Column('alg', sa.String(length=16), server_default='sha256', nullable=False))
    op.create_table('audit_checkpoints',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signature', sa.String(length=120), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_audit_checkpoints'))
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoints')
    with op.batch_alter_table('audit_seal') as batch:
        batch.drop_column('alg')
    op.drop_index('ix_job_runs_tenant_id_job', table_name='job_runs')
    op.drop_table('job_runs')
