"""Read-side tables of the cnpj context that are not projections (Alembic sees them).

- `cnpj_data_keys`: one data key per check (created ahead in small batches, each used once),
  wrapped under a key derived from the event key; deleting the row crypto-shreds that check's
  personal fields (retention).
- `cnpj_cache`: normalized snapshots by CNPJ (sealed), when Redis is not configured.
- `cnpj_imports`: bulk CSV imports with progress and the per-row error report.
"""

from __future__ import annotations

import sqlalchemy as sa

from projections.base import metadata

data_keys = sa.Table(
    "cnpj_data_keys",
    metadata,
    sa.Column("key_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("wrapped_key", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

cache = sa.Table(
    "cnpj_cache",
    metadata,
    sa.Column("cnpj", sa.String(14), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

imports = sa.Table(
    "cnpj_imports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

TABLES = (data_keys, cache, imports)
