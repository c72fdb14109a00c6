"""Plans, subscriptions (with the next period to bill), customer accounts (credit, block,
access-network delivery), runs and accepted gateway events."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.billing.domain import (
    BillingAccount,
    BillingRun,
    GatewayEvent,
    Invoice,
    Plan,
    Subscription,
)

MONEY = sa.Numeric(14, 2)

plans = sa.Table(
    "billing_plans",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("cycle", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

subscriptions = sa.Table(
    "billing_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False),
    sa.Column("pending_plan_id", sa.String(36)),
    sa.Column("pending_from", sa.Date),
    sa.Column("due_day", sa.Integer, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("next_period_start", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Last, as migration 0020 adds it to existing tables:
    sa.Column("price_overrides", sa.JSON),  # [[from ISO date, price], ...] (a contract's agreed price)
)
sa.Index(None, subscriptions.c.tenant_id, subscriptions.c.status, subscriptions.c.next_period_start)
sa.Index(None, subscriptions.c.tenant_id, subscriptions.c.customer_id)

accounts = sa.Table(
    "billing_accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("credit", MONEY, nullable=False),
    sa.Column("blocked", sa.Boolean, nullable=False),
    sa.Column("block_reason", sa.String(200), nullable=False, server_default=""),
    sa.Column("trust_until", sa.DateTime(timezone=True)),
    sa.Column("network_state", sa.String(16), nullable=False, server_default="none"),
    sa.Column("network_action", sa.String(16), nullable=False, server_default=""),
    sa.Column("network_error", sa.String(500), nullable=False, server_default=""),
    sa.Column("network_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, accounts.c.tenant_id, accounts.c.customer_id)

runs = sa.Table(
    "billing_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("trigger", sa.String(40), nullable=False),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
)

gateway_events = sa.Table(
    "billing_gateway_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("invoice_id", sa.String(36), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)


class BillingCatalogue(Projection):
    name = "billing_catalogue"
    tables = (plans, subscriptions, accounts, runs, gateway_events)

    @handles(Plan.Created)
    def plan_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(plans, dict(id=str(e.originator_id), tenant_id=e.tenant_id, name=e.name, price=e.price,
                             cycle=e.cycle, kind=e.kind, active=e.active, version=e.originator_version))

    @handles(Plan.Changed)
    def plan_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values = {k: (Decimal(v) if k == "price" else v) for k, v in e.changes.items() if k in plans.c}
        w.update(plans, {"id": str(e.originator_id)}, {**values, "version": e.originator_version})

    @handles(Subscription.Started)
    def sub_started(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(subscriptions, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, customer_id=e.customer_id, plan_id=e.plan_id,
            pending_plan_id=None, pending_from=None, price_overrides=None, due_day=e.due_day,
            start_date=e.start_date,
            next_period_start=e.start_date, end_date=None, status="active", version=e.originator_version))

    @handles(Subscription.PriceSet)
    def sub_price_set(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(subscriptions, {"id": str(e.originator_id)})
        day = e.effective_from.isoformat()
        kept = [o for o in ((row.price_overrides if row is not None else None) or []) if o[0] < day]
        w.update(subscriptions, {"id": str(e.originator_id)},
                 {"price_overrides": [*kept, [day, str(e.price)]], "version": e.originator_version})

    @handles(Subscription.PlanChangeScheduled, Subscription.Suspended, Subscription.Resumed,
             Subscription.Cancelled)
    def sub_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {"version": e.originator_version}
        if isinstance(e, Subscription.PlanChangeScheduled):
            values.update(pending_plan_id=e.plan_id, pending_from=e.effective_from)
        elif isinstance(e, Subscription.Suspended):
            values["status"] = "suspended"
        elif isinstance(e, Subscription.Resumed):
            values["status"] = "active"
        else:
            values.update(status="cancelled", end_date=e.end_date)
        w.update(subscriptions, {"id": str(e.originator_id)}, values)

    @handles(Invoice.Created, Invoice.Generated)
    def invoiced(self, env: Envelope, w: Writer) -> None:
        e = env.event
        if not e.subscription_id or e.period_end is None:
            return
        # A plain keyed update (batched by the Writer): periods of a subscription are invoiced in
        # order, and the read model is only a hint for the run — the period Claim is what keeps a
        # period from being billed twice if this ever lagged or went back.
        w.update(subscriptions, {"id": e.subscription_id}, {"next_period_start": e.period_end + timedelta(days=1)})

    @handles(BillingAccount.Opened)
    def account_opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(accounts, dict(id=str(e.originator_id), tenant_id=e.tenant_id, customer_id=e.customer_id,
                                credit=Decimal("0.00"), blocked=False, block_reason="", trust_until=None,
                                network_state="none", network_action="", network_error="",
                                network_attempts=0, version=e.originator_version, updated_at=e.timestamp))

    @handles(BillingAccount.Credited, BillingAccount.Debited, BillingAccount.Blocked, BillingAccount.Unblocked,
             BillingAccount.TrustUnlocked, BillingAccount.NetworkNotified, BillingAccount.NetworkFailed,
             BillingAccount.NetworkRetryRequested)
    def account_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {"version": e.originator_version, "updated_at": e.timestamp}
        if isinstance(e, (BillingAccount.Credited, BillingAccount.Debited)):
            row = w.select_one(accounts, {"id": str(e.originator_id)})
            sign = 1 if isinstance(e, BillingAccount.Credited) else -1
            values["credit"] = Decimal(row.credit) + sign * Decimal(e.amount)
        elif isinstance(e, BillingAccount.Blocked):
            values.update(blocked=True, block_reason=e.reason, trust_until=None, network_state="pending",
                          network_action="block", network_error="", network_attempts=0)
        elif isinstance(e, BillingAccount.Unblocked):
            values.update(blocked=False, block_reason="", trust_until=None, network_state="pending",
                          network_action="unblock", network_error="", network_attempts=0)
        elif isinstance(e, BillingAccount.TrustUnlocked):
            values.update(blocked=False, trust_until=e.until, network_state="pending",
                          network_action="unblock", network_error="", network_attempts=0)
        elif isinstance(e, BillingAccount.NetworkNotified):
            values.update(network_state="sent", network_action=e.action, network_error="",
                          network_attempts=e.attempts)
        elif isinstance(e, BillingAccount.NetworkFailed):
            values.update(network_state="failed", network_action=e.action, network_error=e.error,
                          network_attempts=e.attempts)
        else:
            values.update(network_state="pending", network_action=e.action, network_error="",
                          network_attempts=0)
        w.update(accounts, {"id": str(e.originator_id)}, values)

    @handles(BillingRun.Finished)
    def run_finished(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(runs, dict(id=str(e.originator_id), tenant_id=e.tenant_id, run_date=e.run_date,
                            trigger=e.trigger, results=e.results, finished_at=e.timestamp))

    @handles(GatewayEvent.Accepted)
    def gateway_event(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(gateway_events, dict(id=str(e.originator_id), tenant_id=e.tenant_id, provider=e.provider,
                                      event_id=e.event_id, invoice_id=e.invoice_id, outcome=e.outcome,
                                      received_at=e.timestamp))


# Queries -------------------------------------------------------------------------------

def list_plans(conn: Connection, tenant_id: str, active_only: bool = False) -> list[dict[str, Any]]:
    where = [plans.c.tenant_id == tenant_id]
    if active_only:
        where.append(plans.c.active.is_(True))
    return [dict(r._mapping) for r in conn.execute(sa.select(plans).where(*where).order_by(plans.c.name))]


def list_subscriptions(conn: Connection, tenant_id: str, customer_id: str = "", page: int = 1,
                       per_page: int = 50) -> dict[str, Any]:
    from projections.customers.customer_list import customers as c

    s = subscriptions
    where = [s.c.tenant_id == tenant_id]
    if customer_id:
        where.append(s.c.customer_id == customer_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(s).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(s, plans.c.name.label("plan_name"), plans.c.price, plans.c.cycle,
                  c.c.name.label("customer_name"))
        .select_from(s.join(plans, plans.c.id == s.c.plan_id).outerjoin(c, c.c.id == s.c.customer_id))
        .where(*where).order_by(c.c.name, s.c.start_date).limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([dict(r._mapping) for r in rows], total, page, per_page)


def subscriptions_due(conn: Connection, tenant_id: str, until: date, after_id: str = "",
                      limit: int = 1000) -> list[Any]:
    """Active subscriptions whose next period starts on or before `until` (keyset by id)."""
    s = subscriptions
    pending = plans.alias("pending")
    return conn.execute(
        sa.select(s.c.id, s.c.customer_id, s.c.plan_id, s.c.due_day, s.c.start_date, s.c.next_period_start,
                  s.c.pending_plan_id, s.c.pending_from, s.c.price_overrides, plans.c.name, plans.c.price,
                  plans.c.cycle, pending.c.name.label("pending_name"), pending.c.price.label("pending_price"),
                  pending.c.cycle.label("pending_cycle"))
        .select_from(s.join(plans, plans.c.id == s.c.plan_id)
                     .outerjoin(pending, pending.c.id == s.c.pending_plan_id))
        .where(s.c.tenant_id == tenant_id, s.c.status == "active", s.c.next_period_start <= until,
               s.c.id > after_id)
        .order_by(s.c.id).limit(limit)).all()


def customers_with_credit(conn: Connection, tenant_id: str, customer_ids: list[str]) -> set[str]:
    if not customer_ids:
        return set()
    return {r[0] for r in conn.execute(sa.select(accounts.c.customer_id).where(
        accounts.c.tenant_id == tenant_id, accounts.c.customer_id.in_(customer_ids), accounts.c.credit > 0))}


def get_account_row(conn: Connection, tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(accounts).where(accounts.c.tenant_id == tenant_id,
                                               accounts.c.customer_id == customer_id)).first()
    return dict(r._mapping) if r else None


def blocked_accounts(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(accounts).where(
        accounts.c.tenant_id == tenant_id, sa.or_(accounts.c.blocked.is_(True), accounts.c.network_state == "failed")))]


def count_blocked(conn: Connection, tenant_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(accounts).where(
        accounts.c.tenant_id == tenant_id, accounts.c.blocked.is_(True))).scalar() or 0


def expired_trust(conn: Connection, tenant_id: str, now: Any) -> list[Any]:
    return conn.execute(sa.select(accounts.c.customer_id).where(
        accounts.c.tenant_id == tenant_id, accounts.c.trust_until.is_not(None),
        accounts.c.trust_until < now)).all()


def list_runs(conn: Connection, tenant_id: str, limit: int = 20) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(runs).where(runs.c.tenant_id == tenant_id)
                                                   .order_by(runs.c.finished_at.desc()).limit(limit))]


def billing_tenants(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(sa.select(subscriptions.c.tenant_id).distinct())]


def pending_network(conn: Connection, older_than: Any) -> list[Any]:
    return conn.execute(sa.select(accounts.c.id, accounts.c.version).where(
        accounts.c.network_state == "pending", accounts.c.updated_at < older_than)).all()


def plan_names_by_customer(conn: Connection, tenant_id: str, customer_ids: list[str]) -> dict[str, str]:
    """customer id → the names of the plans of their live (active or suspended) subscriptions."""
    if not customer_ids:
        return {}
    rows = conn.execute(
        sa.select(subscriptions.c.customer_id, plans.c.name)
        .select_from(subscriptions.join(plans, plans.c.id == subscriptions.c.plan_id))
        .where(subscriptions.c.tenant_id == tenant_id, subscriptions.c.customer_id.in_(customer_ids),
               subscriptions.c.status.in_(("active", "suspended")))
        .order_by(subscriptions.c.customer_id, plans.c.name)).all()
    found: dict[str, list[str]] = {}
    for customer_id, name in rows:
        found.setdefault(customer_id, []).append(name)
    return {k: ", ".join(v) for k, v in found.items()}
