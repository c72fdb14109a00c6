"""portal read models (plan-change requests, RADIUS sessions, usage).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:00:00

Reserved in the chain so work on separate branches never forks the head; the owning change
fills upgrade()/downgrade().
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from retaguarda.readdb import enable_row_level_security

# Tables with a tenant_id column get PostgreSQL row-level security (no-op on SQLite).
TENANT_TABLES: tuple[str, ...] = (
    "portal_plan_changes",
    "portal_plans",
    "portal_radius_sources",
    "portal_radius_users",
    "portal_sessions",
)

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("cycle", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("offered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_plans")),
    )
    op.create_index(op.f("ix_portal_plans_tenant_id"), "portal_plans", ["tenant_id"], unique=False)
    op.create_table(
        "portal_plan_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("from_plan_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_plan_changes")),
    )
    op.create_index(
        op.f("ix_portal_plan_changes_tenant_id"), "portal_plan_changes", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_portal_plan_changes_tenant_id_customer_id"),
        "portal_plan_changes",
        ["tenant_id", "customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_portal_plan_changes_tenant_id_status"),
        "portal_plan_changes",
        ["tenant_id", "status"],
        unique=False,
    )
    op.create_table(
        "portal_radius_users",
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=253), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_portal_radius_users")),
    )
    op.create_index(
        op.f("ix_portal_radius_users_tenant_id_username"),
        "portal_radius_users",
        ["tenant_id", "username"],
        unique=False,
    )
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=253), nullable=False),
        sa.Column("session_id", sa.String(length=253), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.BigInteger(), nullable=True),
        sa.Column("input_octets", sa.BigInteger(), nullable=False),
        sa.Column("output_octets", sa.BigInteger(), nullable=False),
        sa.Column("framed_ip", sa.String(length=45), server_default="", nullable=False),
        sa.Column("terminate_cause", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
    )
    op.create_index(
        op.f("ix_portal_sessions_tenant_id_customer_id_start"),
        "portal_sessions",
        ["tenant_id", "customer_id", "start"],
        unique=False,
    )
    op.create_table(
        "portal_radius_sources",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_portal_radius_sources")),
    )
    for name in TENANT_TABLES:
        enable_row_level_security(op.get_bind(), name)


def downgrade() -> None:
    op.drop_table("portal_radius_sources")
    op.drop_index(op.f("ix_portal_sessions_tenant_id_customer_id_start"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index(op.f("ix_portal_radius_users_tenant_id_username"), table_name="portal_radius_users")
    op.drop_table("portal_radius_users")
    op.drop_index(op.f("ix_portal_plan_changes_tenant_id_status"), table_name="portal_plan_changes")
    op.drop_index(op.f("ix_portal_plan_changes_tenant_id_customer_id"), table_name="portal_plan_changes")
    op.drop_index(op.f("ix_portal_plan_changes_tenant_id"), table_name="portal_plan_changes")
    op.drop_table("portal_plan_changes")
    op.drop_index(op.f("ix_portal_plans_tenant_id"), table_name="portal_plans")
    op.drop_table("portal_plans")
