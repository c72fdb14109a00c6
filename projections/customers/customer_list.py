"""Customer list: search, filters, pagination and counts by status."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.customers import Customer

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


def list_customers(conn: Connection, tenant_id: str, *, search: str = "", status: str = "",
                   page: int = 1, per_page: int = 20) -> dict[str, Any]:
    t = customers
    where = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    if search:
        term = search.strip()
        digits = "".join(ch for ch in term if ch.isalnum()).upper()
        like = f"%{_fold(term)}%"
        conds = [t.c.search_name.like(like), t.c.email.like(f"%{term.lower()}%")]
        if digits and len(digits) >= 3:
            conds.append(t.c.document.like(f"%{digits}%"))
        where.append(sa.or_(*conds))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(t).where(*where).order_by(t.c.search_name, t.c.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"items": [_row(r) for r in rows], "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page))}


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
