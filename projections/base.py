"""Read-model building blocks: one metadata, a Projection base, and the Writer it writes through.

A projection declares its tables and one handler per event class it understands. Handlers
write through a `Writer`, which maps each live table to the table being built (the live one
during normal processing, an aside copy during replay) and batches consecutive inserts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("events_processed", sa.BigInteger, nullable=False, server_default="0"),
)


@dataclass(frozen=True)
class Envelope:
    """An event with its log position, handed to handlers."""

    position: int
    event: Any
    stored: Any = None  # the stored notification (encrypted bytes), for the audit seal

    @property
    def tenant_id(self) -> str:
        return self.event.tenant_id


class Writer:
    """Writes a projection's rows inside the batch transaction."""

    def __init__(self, conn: Connection, targets: dict[str, sa.Table]) -> None:
        self.conn = conn
        self._targets = targets
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._order: list[str] = []

    def table(self, live: sa.Table) -> sa.Table:
        return self._targets.get(live.name, live)

    def insert(self, live: sa.Table, row: dict[str, Any]) -> None:
        if live.name not in self._pending:
            self._pending[live.name] = []
            self._order.append(live.name)
        self._pending[live.name].append(row)

    def update(self, live: sa.Table, where: dict[str, Any], values: dict[str, Any]) -> int:
        self.flush()
        t = self.table(live)
        stmt = sa.update(t).where(*[t.c[k] == v for k, v in where.items()]).values(**values)
        return self.conn.execute(stmt).rowcount

    def delete(self, live: sa.Table, where: dict[str, Any]) -> None:
        self.flush()
        t = self.table(live)
        self.conn.execute(sa.delete(t).where(*[t.c[k] == v for k, v in where.items()]))

    def execute(self, statement_for: Callable[[sa.Table], Any], live: sa.Table) -> Any:
        """Any other statement, built against the target table."""
        self.flush()
        return self.conn.execute(statement_for(self.table(live)))

    def select_one(self, live: sa.Table, where: dict[str, Any]) -> Any:
        self.flush()
        t = self.table(live)
        return self.conn.execute(
            sa.select(t).where(*[t.c[k] == v for k, v in where.items()])
        ).first()

    def flush(self) -> None:
        for name in self._order:
            rows = self._pending[name]
            if rows:
                live = metadata.tables[name]
                self.conn.execute(sa.insert(self.table(live)), rows)
        self._pending.clear()
        self._order.clear()


Handler = Callable[[Any, Envelope, Writer], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Marks a projection method as the handler of the given event classes."""

    def mark(fn: Handler) -> Handler:
        fn._handles = event_classes  # type: ignore[attr-defined]
        return fn

    return mark


class Projection:
    """Subclasses set `name` and `tables` and decorate handlers with `@handles(Event, ...)`."""

    name: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]] = ()
    _handlers: ClassVar[dict[type, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for event_class in getattr(value, "_handles", ()):
                    handlers[event_class] = attr
        cls._handlers = handlers

    def handler_for(self, event: Any) -> Callable[[Envelope, Writer], None] | None:
        name = self._handlers.get(type(event))
        return getattr(self, name) if name else None

    def wants(self, event: Any) -> bool:
        return type(event) in self._handlers

    def process(self, envelopes: Iterable[Envelope], writer: Writer) -> int:
        count = 0
        for env in envelopes:
            handler = self.handler_for(env.event)
            if handler is not None:
                handler(env, writer)
                count += 1
        writer.flush()
        return count

    def after_swap(self, conn: Connection, table: sa.Table) -> None:
        """Hook for a rebuilt table (e.g. row-level security); default: tenant tables get RLS."""
        from retaguarda.readdb import enable_row_level_security

        if "tenant_id" in table.c:
            enable_row_level_security(conn, table.name)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
