"""Alembic owns every read-model table: upgrading to head gives exactly the declared metadata."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from retaguarda.migrate import load_metadata, migrate
from tests.conftest import make_settings


def _diff(engine):
    from retaguarda.migrate import EVENT_STORE_TABLES

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and (name in EVENT_STORE_TABLES or name == "alembic_version"))

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": False})
        return compare_metadata(ctx, load_metadata())


def test_sqlite_upgrade_head_matches_metadata_and_is_idempotent(tmp_path):
    from retaguarda.bootstrap import bootstrap

    container = bootstrap(make_settings(tmp_path / "var"))
    try:
        migrate(container)
        migrate(container)  # a second run changes nothing and does not fail
        assert _diff(container.engine) == []
    finally:
        container.close()


@pytest.mark.integration
def test_postgres_upgrade_head_matches_metadata(pg_container):
    assert _diff(pg_container.engine) == []
