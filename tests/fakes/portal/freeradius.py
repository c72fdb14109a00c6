"""A FreeRADIUS `rlm_sql` stand-in: writes accounting into a real `radacct` table on PostgreSQL the
way the default PostgreSQL queries.conf does (Start inserts the row, Interim-Update and Stop update
the open row keyed by `acctuniqueid`; octets are (Gigawords << 32) + Octets)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

SCHEMA_SQL = Path(__file__).with_name("radacct_schema.sql")


class FreeRadiusDb:
    def __init__(self, admin_url: str) -> None:
        self.schema = "radius_" + uuid.uuid4().hex[:10]
        self.engine = sa.create_engine(
            admin_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=sa.pool.NullPool
        )
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            conn.execute(sa.text(f'SET LOCAL search_path TO "{self.schema}"'))
            conn.exec_driver_sql(SCHEMA_SQL.read_text())

    @property
    def table(self) -> str:
        return f"{self.schema}.radacct"

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self.engine.dispose()

    @staticmethod
    def unique_id(username: str, session_id: str, nas: str) -> str:
        # acct_unique policy without a Class: md5 of user, session id, NAS address (and port fields)
        return hashlib.md5(f"{username},{session_id},{nas},,,".encode()).hexdigest()

    def start(
        self, username: str, session_id: str, at: datetime, *, nas: str = "10.0.0.1", ip: str = "100.64.0.9"
    ) -> str:
        uid = self.unique_id(username, session_id, nas)
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f'INSERT INTO "{self.schema}".radacct (acctsessionid, acctuniqueid, username, nasipaddress, '
                    "acctstarttime, acctupdatetime, acctsessiontime, acctinputoctets, acctoutputoctets, "
                    "framedipaddress, nasporttype) VALUES (:sid, :uid, :user, :nas, :at, :at, 0, 0, 0, :ip, 'Virtual')"
                ),
                {"sid": session_id, "uid": uid, "user": username, "nas": nas, "at": at, "ip": ip},
            )
        return uid

    def interim(self, uid: str, at: datetime, *, octets_in: int, octets_out: int) -> None:
        self._update(uid, at, octets_in, octets_out, stop=False, cause=None)

    def stop(self, uid: str, at: datetime, *, octets_in: int, octets_out: int, cause: str) -> None:
        self._update(uid, at, octets_in, octets_out, stop=True, cause=cause)

    def _update(
        self, uid: str, at: datetime, octets_in: int, octets_out: int, *, stop: bool, cause: str | None
    ) -> None:
        sets = (
            "acctupdatetime = :at, acctinputoctets = :i, acctoutputoctets = :o, "
            "acctsessiontime = EXTRACT(EPOCH FROM (:at - acctstarttime))::bigint"
        )
        if stop:
            sets += ", acctstoptime = :at, acctterminatecause = :cause"
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.text(
                    f'UPDATE "{self.schema}".radacct SET {sets} '
                    "WHERE acctuniqueid = :uid AND acctstoptime IS NULL"
                ),
                {"at": at, "i": octets_in, "o": octets_out, "cause": cause, "uid": uid},
            )
            assert done.rowcount == 1

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(sa.text(f'SELECT * FROM "{self.schema}".radacct ORDER BY radacctid'))
            ]
