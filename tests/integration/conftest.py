"""PostgreSQL fixtures: every test gets its own schema (events and read models), dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, REDIS_URL, make_settings, require_service


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
