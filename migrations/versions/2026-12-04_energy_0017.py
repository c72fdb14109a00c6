"""energy read models (accounts, consumer units, bills).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00

Reserved in the chain so work on separate branches never forks the head; the owning change
fills upgrade()/downgrade().
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
