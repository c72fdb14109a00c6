"""Shared fixtures: a container on SQLite files in a temp dir, its app, and logged-in clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from retaguarda.shared.meta import Meta

CI = bool(os.environ.get("CI"))
PG_URL = os.environ.get("RETAGUARDA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RETAGUARDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def make_settings(var_dir: Path, **overrides: Any) -> Any:
    from retaguarda.settings import load_settings

    return load_settings({}, var_dir=var_dir, env="test", **overrides)


def build_container(var_dir: Path, **overrides: Any) -> Any:
    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap

    container = bootstrap(make_settings(var_dir, **overrides))
    metadata.create_all(container.engine)
    container.runner.start()
    return container


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Any]:
    c = build_container(tmp_path / "var")
    yield c
    c.close()


@pytest.fixture
def meta() -> Meta:
    return Meta(tenant_id="tenant-a", actor="user-1", correlation_id="corr-1",
                at=datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc))


@pytest.fixture
def live_container(container: Any) -> Iterator[Any]:
    """The container with its projector running in a thread (read-your-writes works)."""
    container.runner.start_thread()
    start_embedded = container.start_embedded
    if start_embedded:
        start_embedded()
    yield container


@pytest.fixture
def client(live_container: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    with TestClient(create_app(live_container), base_url="http://127.0.0.1:8000") as tc:
        yield tc


def require_service(kind: str) -> None:
    """Integration tests skip locally when PostgreSQL/Redis are missing, but fail in CI."""
    import socket

    host, port = ("127.0.0.1", 5432) if kind == "postgres" else ("127.0.0.1", 6379)
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        if CI:
            raise
        pytest.skip(f"{kind} not reachable: {exc}")

# PostgreSQL: every test gets its own schema (events and read models), dropped after.


def _admin_engine() -> sa.Engine:
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                            poolclass=sa.pool.NullPool)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    require_service("postgres")
    schema = "t_" + uuid.uuid4().hex[:10]
    yield schema
    with _admin_engine().begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def pg_container(tmp_path: Any, pg_schema: str) -> Iterator[Any]:
    from retaguarda.bootstrap import bootstrap
    from retaguarda.migrate import migrate

    settings = make_settings(tmp_path / "var", database_url=PG_URL, database_schema=pg_schema)
    container = bootstrap(settings)
    migrate(container)
    container.runner.start()
    yield container
    container.close()


@pytest.fixture
def redis_url() -> str:
    require_service("redis")
    return REDIS_URL


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole run. Playwright's sync API allows one instance per thread at a
    time, so every browser test in every folder shares this fixture (never a copy of it)."""
    from pathlib import Path as _Path

    if not _Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: scripts/test installs it with apt")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic"])
        yield b
        b.close()
