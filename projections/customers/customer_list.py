"""Customer list: search, filters, pagination and counts by status."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.customers.domain import Customer

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("search_name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("document", sa.String(14), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("phones", sa.JSON, nullable=False),
    sa.Column("address", sa.JSON),
    sa.Column("plan", sa.String(100), nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("status_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, customers.c.tenant_id, customers.c.search_name)
sa.Index(None, customers.c.tenant_id, customers.c.status)


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


class CustomerList(Projection):
    name = "customer_list"
    tables = (customers,)

    @handles(Customer.Registered)
    def registered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(customers, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, name=e.name, search_name=_fold(e.name),
            kind=e.kind, document=e.document, email=e.email, phones=list(e.phones),
            address=e.address, plan=e.plan, status="active", status_reason="",
            version=e.originator_version, created_at=e.timestamp, updated_at=e.timestamp,
        ))

    @handles(Customer.Updated)
    def updated(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {k: v for k, v in e.changes.items() if k in customers.c and k != "notes"}
        if "phones" in values:
            values["phones"] = list(values["phones"])
        if "name" in values:
            values["search_name"] = _fold(values["name"])
        self._touch(w, env, values)

    @handles(Customer.Blocked, Customer.Unblocked, Customer.Deactivated, Customer.Reactivated)
    def status_changed(self, env: Envelope, w: Writer) -> None:
        status = {Customer.Blocked: "blocked", Customer.Unblocked: "active",
                  Customer.Deactivated: "inactive", Customer.Reactivated: "active"}[type(env.event)]
        self._touch(w, env, {"status": status, "status_reason": env.event.reason})

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(customers, {"id": str(env.event.originator_id)},
                 {**values, "version": env.event.originator_version, "updated_at": env.event.timestamp})


# Queries -------------------------------------------------------------------------------

def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "kind": r.kind, "document": r.document, "email": r.email,
        "phones": list(r.phones or []), "address": r.address, "plan": r.plan, "status": r.status,
        "status_reason": r.status_reason, "version": r.version,
        "created_at": r.created_at, "updated_at": r.updated_at,
    }


def _filter_params(tenant_id: str, search: str, status: str
                   ) -> tuple[tuple[bool, tuple[bool, bool] | None], dict[str, Any]]:
    """The filter's shape (which conditions apply) and its bind parameters."""
    params: dict[str, Any] = {"tenant_id": tenant_id}
    search_shape: tuple[bool, bool] | None = None
    if status:
        params["status"] = status
    if search:
        term = search.strip()
        digits = "".join(ch for ch in term if ch.isalnum()).upper()
        params["like"] = f"%{_fold(term)}%"
        params["email_like"] = f"%{term.lower()}%"
        has_digits = bool(digits) and len(digits) >= 3
        if has_digits:
            params["digits_like"] = f"%{digits}%"
        search_shape = (True, has_digits)
    return (bool(status), search_shape), params


def _bound_filters(status: bool, search: tuple[bool, bool] | None) -> list[Any]:
    t = customers
    where = [t.c.tenant_id == sa.bindparam("tenant_id")]
    if status:
        where.append(t.c.status == sa.bindparam("status"))
    if search is not None:
        conds = [t.c.search_name.like(sa.bindparam("like")), t.c.email.like(sa.bindparam("email_like"))]
        if search[1]:
            conds.append(t.c.document.like(sa.bindparam("digits_like")))
        where.append(sa.or_(*conds))
    return where


# One statement object per filter shape, so SQLAlchemy computes its cache key only once.
@lru_cache(maxsize=8)
def _count_statement(status: bool, search: tuple[bool, bool] | None) -> Any:
    return sa.select(sa.func.count()).select_from(customers).where(*_bound_filters(status, search))


@lru_cache(maxsize=8)
def _page_statement(status: bool, search: tuple[bool, bool] | None) -> Any:
    return (sa.select(customers).where(*_bound_filters(status, search))
            .order_by(customers.c.search_name, customers.c.id)
            .limit(sa.bindparam("limit")).offset(sa.bindparam("offset")))


def list_customers(conn: Connection, tenant_id: str, *, search: str = "", status: str = "",
                   page: int = 1, per_page: int = 20) -> dict[str, Any]:
    shape, params = _filter_params(tenant_id, search, status)
    total = conn.execute(_count_statement(*shape), params).scalar() or 0
    rows = conn.execute(_page_statement(*shape),
                        {**params, "limit": per_page, "offset": (page - 1) * per_page}).all()
    return page_result([_row(r) for r in rows], total, page, per_page)


# The JSON API's list: the same page as `list_customers`, already in its JSON form -----------

# Columns as the driver hands them over: JSON columns as their stored text (embedded verbatim
# with msgspec.Raw), times as SQLite's text or PostgreSQL's datetime, converted once per value.
_JSON_COLUMNS = (
    customers.c.id, customers.c.name, customers.c.kind, customers.c.document, customers.c.email,
    sa.cast(customers.c.phones, sa.Text).label("phones"),
    sa.cast(customers.c.address, sa.Text).label("address"),
    customers.c.plan, customers.c.status, customers.c.status_reason, customers.c.version,
    sa.type_coerce(customers.c.created_at, sa.String).label("created_at"),
    sa.type_coerce(customers.c.updated_at, sa.String).label("updated_at"),
)
_EMPTY_LIST = msgspec.Raw(b"[]")


@lru_cache(maxsize=8)
def _json_page_statement(status: bool, search: tuple[bool, bool] | None) -> Any:
    return (sa.select(*_JSON_COLUMNS).where(*_bound_filters(status, search))
            .order_by(customers.c.search_name, customers.c.id)
            .limit(sa.bindparam("limit")).offset(sa.bindparam("offset")))


def _iso(value: Any) -> str | None:
    """What `jsonable` makes of a stored time: ISO 8601, naive (SQLite) values read as UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        # SQLite's DATETIME text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): reshape it without parsing.
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            fraction = value[19:]
            return f"{value[:10]}T{value[11:19]}{'' if fraction == '.000000' else fraction}+00:00"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def _raw_json(text: Any, empty: Any = None) -> Any:
    """Stored JSON text embedded as is in the response; SQL NULL or JSON null → `empty`."""
    if text is None or text == "null":
        return empty
    return msgspec.Raw(text.encode() if isinstance(text, str) else bytes(text))


def list_customers_json(conn: Connection, tenant_id: str, *, search: str = "", status: str = "",
                        page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """`list_customers` for the JSON API: same page and fields, every value JSON-ready.

    JSON columns come back as `msgspec.Raw` (their stored JSON text), times as ISO strings
    with their offset, so the response encoder does no per-row work beyond copying. On SQLite
    the whole page is built by SQLite itself in one statement (`items` is then one Raw array):
    a row-by-row fetch would hand the GIL back and forth once per row in a threaded server.
    """
    shape, params = _filter_params(tenant_id, search, status)
    params.update(limit=per_page, offset=(page - 1) * per_page)
    if _page_in_sql(conn):
        total, items_json = conn.execute(_sqlite_page_statement(*shape), params).one()
        items: Any = msgspec.Raw(items_json.encode())
    else:
        total = conn.execute(_count_statement(*shape), params).scalar() or 0
        rows = conn.execute(_json_page_statement(*shape), params).all() if total else []
        items = [
            {"id": r[0], "name": r[1], "kind": r[2], "document": r[3], "email": r[4],
             "phones": _raw_json(r[5], _EMPTY_LIST), "address": _raw_json(r[6]), "plan": r[7],
             "status": r[8], "status_reason": r[9], "version": r[10],
             "created_at": _iso(r[11]), "updated_at": _iso(r[12])}
            for r in rows
        ]
    return page_result(items, total or 0, page, per_page)


def _page_in_sql(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _sqlite_iso(column: Any) -> Any:
    """SQL for `_iso` of SQLite's DATETIME text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)."""
    fraction = sa.func.substr(column, 20, type_=sa.String)
    return (sa.func.substr(column, 1, 10, type_=sa.String) + sa.literal("T")
            + sa.func.substr(column, 12, 8, type_=sa.String)
            + sa.case((fraction.in_(["", ".000000"]), sa.literal("")), else_=fraction)
            + sa.literal("+00:00"))


@lru_cache(maxsize=8)
def _sqlite_page_statement(status: bool, search: tuple[bool, bool] | None) -> Any:
    """One row: (total, the page as a JSON array of the API's items), in `list_customers` order."""
    t = customers
    page = (sa.select(t).where(*_bound_filters(status, search))
            .order_by(t.c.search_name, t.c.id)
            .limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))).subquery()
    item = sa.func.json_object(
        "id", page.c.id, "name", page.c.name, "kind", page.c.kind, "document", page.c.document,
        "email", page.c.email,
        "phones", sa.func.json(sa.func.coalesce(sa.type_coerce(page.c.phones, sa.Text), "[]")),
        "address", sa.func.json(sa.type_coerce(page.c.address, sa.Text)),
        "plan", page.c.plan, "status", page.c.status, "status_reason", page.c.status_reason,
        "version", page.c.version,
        "created_at", _sqlite_iso(page.c.created_at), "updated_at", _sqlite_iso(page.c.updated_at),
    )
    # The LIMITed subquery is not flattened: SQLite feeds the aggregate in the subquery's order.
    items = sa.select(sa.func.json_group_array(item, type_=sa.Text)).select_from(page)
    total = sa.select(sa.func.count()).select_from(t).where(*_bound_filters(status, search))
    return sa.select(total.scalar_subquery(), items.scalar_subquery())


def get_customer_row(conn: Connection, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(customers).where(customers.c.tenant_id == tenant_id,
                                                customers.c.id == customer_id)).first()
    return _row(r) if r else None


def count_by_status(conn: Connection, tenant_id: str) -> dict[str, int]:
    rows = conn.execute(
        sa.select(customers.c.status, sa.func.count()).where(customers.c.tenant_id == tenant_id)
        .group_by(customers.c.status)
    ).all()
    counts = {"active": 0, "blocked": 0, "inactive": 0}
    counts.update({status: n for status, n in rows})
    counts["total"] = sum(counts.values())
    return counts


def active_customer_choices(conn: Connection, tenant_id: str, *, limit: int = 500,
                            statuses: tuple[str, ...] = ("active",)) -> list[dict[str, str]]:
    """Customers in `statuses` as `{"id", "name", "status"}`, in name order, for pickers in other
    contexts."""
    c = customers
    rows = conn.execute(sa.select(c.c.id, c.c.name, c.c.status)
                        .where(c.c.tenant_id == tenant_id, c.c.status.in_(statuses))
                        .order_by(c.c.search_name).limit(limit)).all()
    return [{"id": r.id, "name": r.name, "status": r.status} for r in rows]
