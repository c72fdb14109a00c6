"""Normalized snapshots by CNPJ, shared by tenants; each tenant's TTL decides what is fresh.

Redis when `settings.redis_url` is set, else the embedded `cnpj_cache` table. Values are sealed
(AES-GCM, key derived from the event key): the snapshot holds partners and contact data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from retaguarda.cnpj.crypto import derive_key, seal, unseal
from retaguarda.cnpj.tables import cache as cache_table
from retaguarda.shared.clock import as_utc

MAX_AGE = timedelta(days=90)


@dataclass
class Cached:
    provider: str
    snapshot: dict[str, Any]
    raw: Any
    fetched_at: datetime


class SnapshotCache:
    def __init__(self, engine: sa.Engine, event_key: str, redis_url: str | None = None) -> None:
        self.engine = engine
        self.key = derive_key(event_key, "cnpj-cache")
        self.redis = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url)
        self.hits = 0
        self.misses = 0
        # A small in-process front (FRONT_TTL seconds) spares a read and an unseal per cached check.
        self._front: dict[str, tuple[float, Cached]] = {}

    FRONT_TTL = 30.0

    @property
    def backend(self) -> str:
        return "redis" if self.redis is not None else "table"

    def get(self, cnpj: str, ttl_hours: int, now: datetime) -> Cached | None:
        front = self._front.get(cnpj)
        if front is not None and time.monotonic() - front[0] < self.FRONT_TTL:
            cached = front[1]
            if ttl_hours > 0 and now - cached.fetched_at <= timedelta(hours=ttl_hours):
                self.hits += 1
                return cached
        found = self._read(cnpj)
        if found is None or ttl_hours <= 0 or now - found[2] > timedelta(hours=ttl_hours):
            self.misses += 1
            return None
        provider, sealed, fetched_at = found
        value = unseal(self.key, sealed, cnpj)
        self.hits += 1
        cached = Cached(provider, value["snapshot"], value.get("raw"), fetched_at)
        self._remember(cnpj, cached)
        return cached

    def _remember(self, cnpj: str, cached: Cached) -> None:
        if len(self._front) > 2000:
            self._front.clear()
        self._front[cnpj] = (time.monotonic(), cached)

    def put(self, cnpj: str, provider: str, snapshot: dict[str, Any], raw: Any, now: datetime) -> None:
        sealed = seal(self.key, {"snapshot": snapshot, "raw": raw}, cnpj)
        self._remember(cnpj, Cached(provider, snapshot, raw, now))
        if self.redis is not None:
            self.redis.set(f"retaguarda:cnpj:cache:{cnpj}",
                           json.dumps({"provider": provider, "sealed": sealed, "fetched_at": now.isoformat()}),
                           ex=int(MAX_AGE.total_seconds()))
            return
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(cache_table).where(cache_table.c.cnpj == cnpj)
                                   .values(provider=provider, sealed=sealed, fetched_at=now)).rowcount
            if not updated:
                conn.execute(sa.insert(cache_table).values(cnpj=cnpj, provider=provider, sealed=sealed,
                                                           fetched_at=now))

    def forget(self, cnpj: str) -> None:
        self._front.pop(cnpj, None)
        if self.redis is not None:
            self.redis.delete(f"retaguarda:cnpj:cache:{cnpj}")
            return
        with self.engine.begin() as conn:
            conn.execute(sa.delete(cache_table).where(cache_table.c.cnpj == cnpj))

    def _read(self, cnpj: str) -> tuple[str, str, datetime] | None:
        if self.redis is not None:
            raw = self.redis.get(f"retaguarda:cnpj:cache:{cnpj}")
            if raw is None:
                return None
            value = json.loads(raw)
            return value["provider"], value["sealed"], datetime.fromisoformat(value["fetched_at"])
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(cache_table.c.provider, cache_table.c.sealed, cache_table.c.fetched_at)
                               .where(cache_table.c.cnpj == cnpj)).first()
        if row is None:
            return None
        return row.provider, row.sealed, as_utc(row.fetched_at)  # type: ignore[return-value]
