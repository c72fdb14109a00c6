"""Against the real services: the snapshot cache and the rate limiter on Redis; the watch-list on
PostgreSQL (migrations, row-level security) with the live chain against the fakes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from retaguarda.cnpj.cache import SnapshotCache
from retaguarda.cnpj.ratelimit import RateLimiter
from tests.fakes.cnpj import sample_company

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_redis_cache_respects_each_tenants_ttl_and_counts_hits(redis_url, tmp_path):
    import redis
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    cnpj = "11222333000181"
    cache = SnapshotCache(engine, "", redis_url)
    cache.forget(cnpj)
    cache.FRONT_TTL = 0  # every read goes to Redis
    assert cache.get(cnpj, 24, NOW) is None and cache.misses == 1
    cache.put(cnpj, "brasilapi", {"cnpj": cnpj, "razao_social": "ACME"}, {"raw": True}, NOW)
    hit = cache.get(cnpj, 24, NOW + timedelta(hours=23))
    assert hit.provider == "brasilapi" and hit.snapshot["razao_social"] == "ACME" and cache.hits == 1
    # A tenant with a 1-hour TTL sees the same entry as stale
    assert cache.get(cnpj, 1, NOW + timedelta(hours=2)) is None
    # Stored sealed: the value in Redis does not show the company data
    stored = redis.Redis.from_url(redis_url).get(f"retaguarda:cnpj:cache:{cnpj}")
    assert b"ACME" not in stored
    cache.forget(cnpj)


def test_redis_rate_limiter_is_shared_between_limiter_instances(redis_url):
    a, b = RateLimiter(redis_url), RateLimiter(redis_url)
    key = f"test:{datetime.now().timestamp()}"
    now = 1_000_040.0  # the window [1_000_020, 1_000_080)
    assert [a.hit(key, 3, now), b.hit(key, 3, now), a.hit(key, 3, now)] == [0, 0, 0]
    assert b.hit(key, 3, now) == 40  # the window of 60 s ends 40 s later
    assert a.hit(key, 3, now + 41) == 0


def test_watch_list_on_postgresql_with_row_level_security(pg_container, meta):
    from projections.cnpj.watchlist import get_target_row, list_targets
    from retaguarda.readdb import tenant_reader

    c = pg_container
    c.cnpj.configure(meta, providers=["sandbox"])
    target_id = str(c.cnpj.add_target(meta, cnpj=sample_company().cnpj, label="ACME").aggregate.id)
    saved = c.cnpj_checks.check_now(meta, target_id)
    assert saved.aggregate.provider == "sandbox"
    c.runner.catch_up(timeout=30)
    with tenant_reader(c.engine, meta.tenant_id) as conn:
        assert list_targets(conn, meta.tenant_id)["total"] == 1
    # Another tenant's reader sees nothing, even when asking for the id directly
    with tenant_reader(c.engine, "tenant-b") as conn:
        assert get_target_row(conn, meta.tenant_id, target_id) is None
