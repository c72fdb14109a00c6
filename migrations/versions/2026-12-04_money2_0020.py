"""billing/contracts/cash/NFCom follow-ups (price overrides, fiscal class, pix cob).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 19:00:00

Reserved in the chain so work on separate branches never forks the head; the owning change
fills upgrade()/downgrade().
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _money_upgrade()


def downgrade() -> None:
    _money_downgrade()


# money (contracts → billing price overrides) -------------------------------------------------
def _money_upgrade() -> None:
    with op.batch_alter_table('billing_subscriptions') as batch:
        batch.add_column(sa.Column('price_overrides', sa.JSON(), nullable=True))


def _money_downgrade() -> None:
    with op.batch_alter_table('billing_subscriptions') as batch:
        batch.drop_column('price_overrides')
