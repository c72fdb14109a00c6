"""i18n: each user's locale (pt_BR by default) in the user directory.

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(length=10), server_default="pt_BR", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "locale")
