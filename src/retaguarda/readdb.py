"""The read-model database: SQLAlchemy engine, tenant scoping and row-level security."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

READER_ROLE = "retaguarda_reader"
TENANT_SETTING = "retaguarda.tenant_id"


def create_read_engine(url: str, schema: str = "") -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  pool_size=10, max_overflow=20)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    if schema:
        # The schema must exist before the pool hands out connections that point at it.
        with sa.create_engine(url, poolclass=sa.pool.NullPool).begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                            connect_args=connect_args)


def is_postgres(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


@contextmanager
def tenant_reader(engine: Engine, tenant_id: str) -> Iterator[Connection]:
    """A read-only transaction scoped to one tenant.

    Every query still filters by tenant_id (the first wall); on PostgreSQL the transaction also
    runs as the reader role with the tenant setting, so row-level security is a second wall.
    """
    with engine.connect() as conn, conn.begin():
        if is_postgres(conn):
            conn.execute(sa.text(f"SET LOCAL ROLE {READER_ROLE}"))
            conn.execute(sa.text("SELECT set_config(:k, :v, true)"),
                         {"k": TENANT_SETTING, "v": tenant_id})
        yield conn


def enable_row_level_security(conn: Connection, table_name: str) -> None:
    """Policy: rows are visible to the reader role only for the transaction's tenant."""
    if not is_postgres(conn):
        return
    conn.execute(sa.text(f'ALTER TABLE "{table_name}" ENABLE ROW LEVEL SECURITY'))
    conn.execute(sa.text(f'ALTER TABLE "{table_name}" FORCE ROW LEVEL SECURITY'))
    conn.execute(sa.text(f'DROP POLICY IF EXISTS tenant_isolation ON "{table_name}"'))
    conn.execute(sa.text(
        f'CREATE POLICY tenant_isolation ON "{table_name}" TO {READER_ROLE} '
        f"USING (tenant_id = current_setting('{TENANT_SETTING}', true))"
    ))
    conn.execute(sa.text(f'DROP POLICY IF EXISTS writer_all ON "{table_name}"'))
    conn.execute(sa.text(
        f'CREATE POLICY writer_all ON "{table_name}" TO CURRENT_USER USING (true) WITH CHECK (true)'
    ))
    conn.execute(sa.text(f'GRANT SELECT ON "{table_name}" TO {READER_ROLE}'))


def ensure_reader_role(conn: Connection) -> None:
    if not is_postgres(conn):
        return
    conn.execute(sa.text(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') "
        f"THEN CREATE ROLE {READER_ROLE} NOLOGIN; END IF; END $$"
    ))
    conn.execute(sa.text(f"GRANT {READER_ROLE} TO CURRENT_USER"))
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar() or "public"
    conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER_ROLE}'))
