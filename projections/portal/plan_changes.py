"""Plans offered in the portal (billing's catalogue events with the `portal` flag) and the
customers' plan-change requests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.billing.domain import Plan
from retaguarda.portal.domain import PlanChangeRequest

portal_plans = sa.Table(
    "portal_plans",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("price", sa.Numeric(14, 2), nullable=False),
    sa.Column("cycle", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("offered", sa.Boolean, nullable=False, server_default=sa.false()),
)

portal_plan_changes = sa.Table(
    "portal_plan_changes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("subscription_id", sa.String(36), nullable=False),
    sa.Column("from_plan_id", sa.String(36), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("effective_from", sa.Date),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.String(80), nullable=False, server_default=""),
)
sa.Index(None, portal_plan_changes.c.tenant_id, portal_plan_changes.c.customer_id)
sa.Index(None, portal_plan_changes.c.tenant_id, portal_plan_changes.c.status)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class PlanChanges(Projection):
    name = "portal_plan_changes"
    tables = (portal_plans, portal_plan_changes)

    @handles(Plan.Created)
    def plan_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            portal_plans,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                name=e.name,
                price=Decimal(e.price),
                cycle=e.cycle,
                kind=e.kind,
                active=e.active,
                offered=False,
            ),
        )

    @handles(Plan.Changed)
    def plan_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values = {
            ("offered" if k == "portal" else k): (Decimal(v) if k == "price" else v)
            for k, v in e.changes.items()
            if k in portal_plans.c or k == "portal"
        }
        w.update(portal_plans, {"id": str(e.originator_id)}, values)

    @handles(PlanChangeRequest.Requested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            portal_plan_changes,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                customer_id=e.customer_id,
                subscription_id=e.subscription_id,
                from_plan_id=e.from_plan_id,
                plan_id=e.plan_id,
                status="requested",
                reason="",
                effective_from=None,
                requested_at=_utc(e.timestamp),
                decided_at=None,
                decided_by="",
            ),
        )

    @handles(PlanChangeRequest.Approved)
    def approved(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            portal_plan_changes,
            {"id": str(e.originator_id)},
            {
                "status": "approved",
                "effective_from": e.effective_from,
                "decided_at": _utc(e.timestamp),
                "decided_by": e.actor,
            },
        )

    @handles(PlanChangeRequest.Rejected)
    def rejected(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            portal_plan_changes,
            {"id": str(e.originator_id)},
            {
                "status": "rejected",
                "reason": e.reason,
                "decided_at": _utc(e.timestamp),
                "decided_by": e.actor,
            },
        )


# Queries ------------------------------------------------------------------------------------------
def _plan(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["price"] = Decimal(d["price"]).quantize(Decimal("0.01"))
    return d


def offered_plans(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Active recurring plans the tenant offers in the portal, cheapest first."""
    p = portal_plans
    rows = conn.execute(
        sa.select(p)
        .where(
            p.c.tenant_id == tenant_id,
            p.c.offered.is_(True),
            p.c.active.is_(True),
            p.c.kind == "plan",
            p.c.cycle != "once",
        )
        .order_by(p.c.price, p.c.name)
    ).all()
    return [_plan(r) for r in rows]


def get_plan(conn: Connection, tenant_id: str, plan_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(portal_plans).where(portal_plans.c.tenant_id == tenant_id, portal_plans.c.id == plan_id)
    ).first()
    return _plan(r) if r else None


def _request(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["plan_name"] = d.pop("to_name", None) or ""
    d["from_plan_name"] = d.pop("from_name", None) or ""
    return d


def _select() -> Any:
    to_plan = portal_plans.alias("to_plan")
    from_plan = portal_plans.alias("from_plan")
    c = portal_plan_changes
    return sa.select(c, to_plan.c.name.label("to_name"), from_plan.c.name.label("from_name")).select_from(
        c.outerjoin(to_plan, to_plan.c.id == c.c.plan_id).outerjoin(
            from_plan, from_plan.c.id == c.c.from_plan_id
        )
    )


def list_requests(
    conn: Connection,
    tenant_id: str,
    *,
    customer: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    c = portal_plan_changes
    where = [c.c.tenant_id == tenant_id]
    if customer:
        where.append(c.c.customer_id == customer)
    if status:
        where.append(c.c.status == status)
    total = conn.execute(sa.select(sa.func.count()).select_from(c).where(*where)).scalar() or 0
    rows = conn.execute(
        _select()
        .where(*where)
        .order_by(c.c.requested_at.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return page_result([_request(r) for r in rows], total, page, per_page)


def get_request(conn: Connection, tenant_id: str, request_id: str) -> dict[str, Any] | None:
    c = portal_plan_changes
    r = conn.execute(_select().where(c.c.tenant_id == tenant_id, c.c.id == request_id)).first()
    return _request(r) if r else None
