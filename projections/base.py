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


def _utc_row(row: dict[str, Any]) -> dict[str, Any]:
    """Rows store instants as UTC: SQLite keeps a datetime's wall clock and drops its offset, so an
    aware São Paulo time written as is would read back three hours early. A naive value is already
    UTC by the read models' convention (it came back from SQLite), so it passes unchanged."""
    if not any(isinstance(v, datetime) and v.tzinfo is not None for v in row.values()):
        return row
    return {k: v.astimezone(timezone.utc) if isinstance(v, datetime) and v.tzinfo is not None else v
            for k, v in row.items()}


class Writer:
    """Writes a projection's rows inside the batch transaction.

    Inserts and updates are queued in order and sent at the next read (`select_one`,
    `execute`), `delete`, or `flush()` (the runner flushes at the end of every batch, inside
    its transaction). Consecutive inserts into a table go out as one executemany; consecutive
    updates of the same shape (same table, same WHERE columns, same SET columns) go out as one
    executemany of a cached statement; an update of exactly the same row as the update just
    before it is merged into it, and an update by primary key of a row still queued for insert
    is applied to that row. Updates whose values are SQL expressions run at once. The result
    is always the same as running every call immediately, in order.
    """

    def __init__(self, conn: Connection, targets: dict[str, sa.Table]) -> None:
        self.conn = conn
        self._targets = targets
        # Each queued op: ["insert", live table, [rows]] or ["update", live table, shape, [params]].
        self._queue: list[list[Any]] = []
        self._statements: dict[tuple[Any, ...], Any] = {}
        # Rows queued for insert, by table name and primary key values: an update of such a row by
        # its primary key is applied to the queued row itself (same result, one statement less).
        # An update of a table by anything but its primary key forgets that table's rows here, so
        # a later change is never moved before it.
        self._queued_rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def table(self, live: sa.Table) -> sa.Table:
        return self._targets.get(live.name, live)

    def insert(self, live: sa.Table, row: dict[str, Any]) -> None:
        row = _utc_row(row)
        pk = _pk_columns(live)
        if pk and all(k in row for k in pk):
            row = dict(row)
            self._queued_rows.setdefault(live.name, {})[tuple(row[k] for k in pk)] = row
        last = self._queue[-1] if self._queue else None
        if last is not None and last[0] == "insert" and last[1] is live:
            last[2].append(row)
        else:
            self._queue.append(["insert", live, [row]])

    def update(self, live: sa.Table, where: dict[str, Any], values: dict[str, Any]) -> None:
        """Queues `UPDATE table SET values WHERE where` (applied in order, before any read)."""
        if not values:
            return
        values = _utc_row(values)
        if _has_expression(where) or _has_expression(values):
            self.flush()
            t = self.table(live)
            self.conn.execute(sa.update(t).where(*[t.c[k] == v for k, v in where.items()]).values(**values))
            return
        pk = _pk_columns(live)
        if pk and set(where) == set(pk) and not (set(values) & set(pk)):
            queued = self._queued_rows.get(live.name, {}).get(tuple(where[k] for k in pk))
            if queued is not None:
                queued.update(values)
                return
        else:
            self._queued_rows.pop(live.name, None)
        last = self._queue[-1] if self._queue else None
        if (last is not None and last[0] == "update" and last[1] is live
                and last[3][-1][0] == where and not (set(values) & set(where))
                and not (set(last[2][1]) & set(where))):
            # Same row as the update just queued: one statement with the merged values.
            merged = {**last[3][-1][1], **values}
            shape = (tuple(where), tuple(merged))
            if len(last[3]) == 1:
                last[2] = shape
                last[3][-1] = (where, merged)
                return
            last[3].pop()
            self._queue.append(["update", live, shape, [(where, merged)]])
            return
        shape = (tuple(where), tuple(values))
        if last is not None and last[0] == "update" and last[1] is live and last[2] == shape:
            last[3].append((where, values))
        else:
            self._queue.append(["update", live, shape, [(where, values)]])

    def delete(self, live: sa.Table, where: dict[str, Any]) -> None:
        self.flush()
        t = self.table(live)
        self.conn.execute(sa.delete(t).where(*[t.c[k] == v for k, v in where.items()]))

    def execute(self, statement_for: Callable[[sa.Table], Any], live: sa.Table) -> Any:
        """Any other statement, built against the target table (sees every queued write)."""
        self.flush()
        return self.conn.execute(statement_for(self.table(live)))

    def select_one(self, live: sa.Table, where: dict[str, Any]) -> Any:
        self.flush()
        t = self.table(live)
        return self.conn.execute(
            sa.select(t).where(*[t.c[k] == v for k, v in where.items()])
        ).first()

    def _update_statement(self, live: sa.Table, shape: tuple[tuple[str, ...], tuple[str, ...]]) -> Any:
        key = (live.name, shape)
        stmt = self._statements.get(key)
        if stmt is None:
            t = self.table(live)
            where_cols, value_cols = shape
            stmt = (sa.update(t)
                    .where(*[t.c[k] == sa.bindparam(f"w_{k}") for k in where_cols])
                    .values({k: sa.bindparam(f"v_{k}") for k in value_cols}))
            self._statements[key] = stmt
        return stmt

    def flush(self) -> None:
        queue, self._queue = self._queue, []
        self._queued_rows.clear()
        for op in queue:
            if op[0] == "insert":
                target = self.table(op[1])
                # executemany needs the same columns in every row: one call per run of equal keys.
                run: list[dict[str, Any]] = []
                for row in op[2]:
                    if run and row.keys() != run[0].keys():
                        self.conn.execute(sa.insert(target), run)
                        run = []
                    run.append(row)
                if run:
                    self.conn.execute(sa.insert(target), run)
            else:
                stmt = self._update_statement(op[1], op[2])
                params = [{**{f"w_{k}": v for k, v in where.items()},
                           **{f"v_{k}": v for k, v in values.items()}} for where, values in op[3]]
                self.conn.execute(stmt, params if len(params) > 1 else params[0])


def _has_expression(values: dict[str, Any]) -> bool:
    for value in values.values():
        if isinstance(value, sa.sql.ClauseElement):
            return True
    return False


def _pk_columns(live: sa.Table) -> tuple[str, ...]:
    """Primary-key column names, or () when an update could do more than set values
    (a column with an on-update default) and so must never be folded into a queued insert."""
    cached = live.info.get("_writer_pk")
    if cached is None:
        if any(c.onupdate is not None or c.server_onupdate is not None for c in live.c):
            cached = ()
        else:
            cached = tuple(c.name for c in live.primary_key.columns)
        live.info["_writer_pk"] = cached
    return cached


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


def page_result(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """The one page envelope every list query returns: items, total, page, per_page, pages."""
    return {"items": items, "total": int(total), "page": page, "per_page": per_page,
            "pages": max(1, -(-int(total) // per_page))}


def paginate(conn: Connection, table: sa.Table, where: list[Any], order_by: list[Any], page: int,
             per_page: int, row: Callable[[Any], Any]) -> dict[str, Any]:
    """Counts and fetches one page of `table` filtered by `where` (a tenant filter included)."""
    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(table).where(*where).order_by(*order_by)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([row(r) for r in rows], total, page, per_page)
