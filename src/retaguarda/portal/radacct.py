"""Adapter of the `RadacctReader` port: a FreeRADIUS 3.x `radacct` table on PostgreSQL.

Reads only (every query runs in a READ ONLY transaction): rows after a `radacctid`, in id order,
plus the rows of sessions that were still open at the last read (interim updates and the stop
rewrite the same row, keyed by `acctuniqueid`). Column names are FreeRADIUS's PostgreSQL schema
(`raddb/mods-config/sql/main/postgresql/schema.sql`), folded to lower case by PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

COLUMNS = (
    "radacctid",
    "acctsessionid",
    "acctuniqueid",
    "username",
    "nasipaddress",
    "acctstarttime",
    "acctstoptime",
    "acctinputoctets",
    "acctoutputoctets",
    "framedipaddress",
    "acctterminatecause",
)


def _url(dsn: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix) :]
    return dsn


class PostgresRadacct:
    """Reads one tenant's radacct table; the connection is opened per read and closed after."""

    def __init__(self, dsn: str, table: str = "radacct", *, connect_timeout: int = 10) -> None:
        self.table = table
        self._engine = sa.create_engine(
            _url(dsn), poolclass=sa.pool.NullPool, connect_args={"connect_timeout": connect_timeout}
        )

    def _table(self) -> str:
        return ".".join(f'"{part}"' for part in self.table.split("."))

    def read(self, after_id: int, reread_ids: list[int], limit: int) -> list[dict[str, Any]]:
        cols = ", ".join(COLUMNS)
        rows: dict[int, dict[str, Any]] = {}
        with self._engine.connect() as conn:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            if reread_ids:
                for r in conn.execute(
                    sa.text(f"SELECT {cols} FROM {self._table()} WHERE radacctid = ANY(:ids)"),
                    {"ids": list(reread_ids)},
                ):
                    rows[int(r.radacctid)] = dict(r._mapping)
            for r in conn.execute(
                sa.text(
                    f"SELECT {cols} FROM {self._table()} WHERE radacctid > :after "
                    "ORDER BY radacctid LIMIT :limit"
                ),
                {"after": after_id, "limit": limit},
            ):
                rows[int(r.radacctid)] = dict(r._mapping)
            conn.rollback()
        return [rows[k] for k in sorted(rows)]

    def close(self) -> None:
        self._engine.dispose()
