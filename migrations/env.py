"""Alembic environment: metadata from projections; the event store's own tables are left alone."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from retaguarda.migrate import EVENT_STORE_TABLES, load_metadata

config = context.config
target_metadata = load_metadata()


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and (name in EVENT_STORE_TABLES or "__r" in name or "__old" in name):
        return False
    return True


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=include_object, render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      include_object=include_object, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
