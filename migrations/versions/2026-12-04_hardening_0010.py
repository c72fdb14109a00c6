"""hardening: manual job runs (who asked, for which tenant), audit seal checkpoints.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0006'
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


def downgrade() -> None:
    op.drop_index('ix_job_runs_tenant_id_job', table_name='job_runs')
    op.drop_table('job_runs')
