"""Contract list: one row per contract (status, customer, plan, price, dates, signature) and one
per template, for the list page and API filters, the customer page, the dashboard's "ending in
7 days" card and the candidate search of the expiry/renewal jobs."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.contracts.domain import Contract, ContractTemplate

MONEY = sa.Numeric(14, 2)

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("number", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("template_id", sa.String(36), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False),
    sa.Column("plan_name", sa.String(120), nullable=False, server_default=""),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("loyalty_months", sa.Integer, nullable=False),
    sa.Column("auto_renew", sa.Boolean, nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True)),
    sa.Column("signature_provider", sa.String(20)),
    sa.Column("subscription_id", sa.String(36)),
    sa.Column("cancellation_fee", MONEY),
    sa.Column("noticed_end_date", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Index(None, contracts.c.tenant_id, contracts.c.number, unique=True)
sa.Index(None, contracts.c.tenant_id, contracts.c.status, contracts.c.end_date)
sa.Index(None, contracts.c.tenant_id, contracts.c.customer_id)

contract_templates = sa.Table(
    "contract_templates",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


class ContractList(Projection):
    name = "contracts_contract_list"
    tables = (contracts, contract_templates)

    @handles(ContractTemplate.Created)
    def template_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            contract_templates,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                name=e.name,
                created_at=utc(e.timestamp),
                updated_at=utc(e.timestamp),
                version=e.originator_version,
            ),
        )

    @handles(ContractTemplate.Changed)
    def template_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            contract_templates,
            {"id": str(e.originator_id)},
            {"name": e.name, "updated_at": utc(e.timestamp), "version": e.originator_version},
        )

    @handles(Contract.Created)
    def created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        t = e.terms
        w.insert(
            contracts,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                number=e.number,
                customer_id=e.customer_id,
                template_id=e.template_id,
                plan_id=t["plan_id"],
                plan_name=t["plan_name"],
                price=Decimal(t["price"]),
                status="draft",
                status_reason="",
                start_date=t["start_date"],
                end_date=t["end_date"],
                loyalty_months=t["loyalty_months"],
                auto_renew=t["auto_renew"],
                current_version=1,
                signed_at=None,
                signature_provider=None,
                subscription_id=None,
                cancellation_fee=None,
                noticed_end_date=None,
                created_at=utc(e.timestamp),
                updated_at=utc(e.timestamp),
                version=e.originator_version,
            ),
        )

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        e = env.event
        w.update(
            contracts,
            {"id": str(e.originator_id)},
            {**values, "updated_at": utc(e.timestamp), "version": e.originator_version},
        )

    @handles(Contract.Amended)
    def amended(self, env: Envelope, w: Writer) -> None:
        e = env.event
        t = e.terms
        self._touch(
            w,
            env,
            {
                "plan_id": t["plan_id"],
                "plan_name": t["plan_name"],
                "price": Decimal(t["price"]),
                "end_date": t["end_date"],
                "loyalty_months": t["loyalty_months"],
                "auto_renew": t["auto_renew"],
                "current_version": e.version,
                "status": e.status,
            },
        )

    @handles(Contract.Renewed)
    def renewed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, env, {"end_date": e.end_date, "current_version": e.version})

    @handles(Contract.SignatureRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"status": "awaiting_signature"})

    @handles(Contract.Signed)
    def signed(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"signed_at": utc(env.event.signed_at), "signature_provider": env.event.provider})

    @handles(Contract.Activated, Contract.Suspended, Contract.Resumed, Contract.Expired)
    def status(self, env: Envelope, w: Writer) -> None:
        status = {"Activated": "active", "Suspended": "suspended", "Resumed": "active", "Expired": "expired"}[
            type(env.event).__name__
        ]
        self._touch(w, env, {"status": status, "status_reason": env.event.reason})

    @handles(Contract.Cancelled)
    def cancelled(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(
            w, env, {"status": "cancelled", "status_reason": e.reason, "cancellation_fee": Decimal(e.fee)}
        )

    @handles(Contract.SubscriptionLinked)
    def linked(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"subscription_id": env.event.subscription_id})

    @handles(Contract.ExpiryNoticeQueued)
    def noticed(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"noticed_end_date": env.event.end_date})


# Queries ------------------------------------------------------------------------------------


def _customers() -> sa.Table:
    from projections.customers.customer_list import customers

    return customers


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["price"] = str(Decimal(d["price"]).quantize(Decimal("0.01")))
    if d.get("cancellation_fee") is not None:
        d["cancellation_fee"] = str(Decimal(d["cancellation_fee"]).quantize(Decimal("0.01")))
    for key in ("signed_at", "created_at", "updated_at"):
        d[key] = utc(d[key].replace(tzinfo=d[key].tzinfo or timezone.utc)) if d.get(key) else None
    d.pop("tenant_id", None)
    d.pop("noticed_end_date", None)
    return d


def list_contracts(
    conn: Connection,
    tenant_id: str,
    *,
    status: str = "",
    customer: str = "",
    ending_before: date | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    c = contracts
    cu = _customers()
    where: list[Any] = [c.c.tenant_id == tenant_id]
    if status == "open":
        where.append(c.c.status.in_(("draft", "awaiting_signature", "active", "suspended")))
    elif status:
        where.append(c.c.status == status)
    if customer:
        where.append(c.c.customer_id == customer)
    if ending_before is not None:
        where += [c.c.end_date.is_not(None), c.c.end_date <= ending_before]
    if search:
        like = f"%{search.strip()}%"
        where.append(sa.or_(c.c.number.ilike(like), cu.c.name.ilike(like)))
    joined = c.outerjoin(cu, cu.c.id == c.c.customer_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(c, cu.c.name.label("customer_name"))
        .select_from(joined)
        .where(*where)
        .order_by(c.c.number.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return page_result([_row(r) for r in rows], total, page, per_page)


def ending_between(conn: Connection, tenant_id: str, first: date, last: date) -> int:
    c = contracts
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(c)
            .where(
                c.c.tenant_id == tenant_id,
                c.c.status.in_(("active", "suspended")),
                c.c.end_date.is_not(None),
                c.c.end_date >= first,
                c.c.end_date <= last,
            )
        ).scalar()
        or 0
    )


def notice_candidates(conn: Connection, until: date) -> list[tuple[str, str]]:
    """(tenant, contract id) of open contracts ending by `until` whose notice for that end date is not
    recorded yet (all tenants; the job runs as the system)."""
    c = contracts
    rows = conn.execute(
        sa.select(c.c.tenant_id, c.c.id).where(
            c.c.status.in_(("active", "suspended")),
            c.c.end_date.is_not(None),
            c.c.end_date <= until,
            sa.or_(c.c.noticed_end_date.is_(None), c.c.noticed_end_date != c.c.end_date),
        )
    ).all()
    return [(r.tenant_id, r.id) for r in rows]


def term_ended(conn: Connection, today: date) -> list[tuple[str, str]]:
    c = contracts
    rows = conn.execute(
        sa.select(c.c.tenant_id, c.c.id).where(
            c.c.status.in_(("active", "suspended")), c.c.end_date.is_not(None), c.c.end_date <= today
        )
    ).all()
    return [(r.tenant_id, r.id) for r in rows]


def _aware(value: datetime | None) -> datetime | None:
    """Rows hold UTC; SQLite hands them back naive."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def list_templates(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    t = contract_templates
    rows = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.name))
    return [{"id": r.id, "name": r.name, "created_at": _aware(r.created_at),
             "updated_at": _aware(r.updated_at), "version": r.version} for r in rows]
