"""Installs the portal context: the service with its links to billing and the RADIUS reader, and
the demo data (plans offered in the portal, an open invoice, a RADIUS login with sessions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from retaguarda.portal.application import Links, Portal, RadacctReader
from retaguarda.portal.reads import current_subscription
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ZONE = ZoneInfo("America/Sao_Paulo")
DEMO_RADIUS_USERNAME = "maria.pppoe"


def install(container: Container) -> None:
    def offered_plan(tenant_id: str, plan_id: str) -> dict[str, Any] | None:
        from projections.portal.plan_changes import offered_plans

        with container.engine.connect() as conn:
            return next((p for p in offered_plans(conn, tenant_id) if p["id"] == plan_id), None)

    def subscription_of(tenant_id: str, customer_id: str) -> dict[str, Any] | None:
        return current_subscription(container, tenant_id, customer_id)

    def change_plan(meta: Meta, subscription_id: str, plan_id: str) -> date:
        from retaguarda.billing import Subscription

        billing = container.billing
        sub = billing.load(Subscription, subscription_id, meta.tenant_id)
        effective = billing.next_period_start(meta.tenant_id, sub, meta.at.astimezone(ZONE).date())
        billing.change_subscription_plan(meta, subscription_id, plan_id, effective)
        return effective

    def customer_for(tenant_id: str, username: str) -> str | None:
        from projections.portal.connections import customer_for_username

        with container.engine.connect() as conn:
            return customer_for_username(conn, tenant_id, username)

    def reader_for(dsn: str, table: str) -> RadacctReader:
        from retaguarda.portal.radacct import PostgresRadacct

        return PostgresRadacct(dsn, table)

    container.portal = Portal(
        container.store,
        container.after_write,
        Links(
            offered_plan=offered_plan,
            subscription_of=subscription_of,
            change_plan=change_plan,
            customer_for=customer_for,
            reader_for=reader_for,
        ),
    )


# Demo data -----------------------------------------------------------------------------------------
def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Offers the demo's recurring plans in the portal, makes sure the portal's demo customer has
    an open invoice, links a RADIUS login and pushes a week of sessions. Idempotent."""
    from projections.billing.invoice_list import list_invoices
    from projections.portal.plan_changes import offered_plans
    from retaguarda.seed import CUSTOMERS
    from retaguarda.shared.documents import make_cpf

    now = container.clock.now()

    def meta(at: datetime = now) -> Meta:
        return Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=at)

    _, _kind, base, *_ = CUSTOMERS[1]
    customer_id = container.customers.owner_of(f"customer-document:{tenant_id}", make_cpf(base))
    if not customer_id:
        return
    container.wait_for(container.store.head(), timeout=10)
    from projections.billing.catalogue import list_plans

    with container.engine.connect() as conn:
        plans = list_plans(conn, tenant_id)
        already = offered_plans(conn, tenant_id)
        invoices = list_invoices(conn, tenant_id, customer=customer_id, per_page=100)["items"]
    if not already:
        for plan in plans:
            if plan["kind"] == "plan" and plan["active"]:
                container.billing.update_plan(meta(), plan["id"], portal=True)
        if not any(p["name"] == "Fibra 300M" for p in plans):
            container.billing.create_plan(
                meta(), name="Fibra 300M", price="129.90", cycle="monthly", portal=True
            )
    if not any(i["status"] in ("issued", "overdue", "partially_paid") for i in invoices):
        draft = container.billing.create_invoice(
            meta(),
            customer_id=customer_id,
            due_date=now.astimezone(ZONE).date() + timedelta(days=6),
            items=[
                {
                    "description": "Internet — monthly fee",
                    "quantity": "1",
                    "unit_price": "99.90",
                    "kind": "service",
                }
            ],
        )
        container.billing.issue_invoice(meta(), str(draft.aggregate.id))
    customer = container.customers.get_customer(tenant_id, customer_id)
    if not getattr(customer, "radius_username", ""):
        container.customers.update_customer(meta(), customer_id, radius_username=DEMO_RADIUS_USERNAME)
        container.wait_for(container.store.head(), timeout=10)
        records = []
        today = now.astimezone(ZONE).replace(hour=8, minute=0, second=0, microsecond=0)
        for d in range(7, 0, -1):
            start = today - timedelta(days=d)
            stop = start + timedelta(hours=9, minutes=d * 7)
            records.append(
                {
                    "username": DEMO_RADIUS_USERNAME,
                    "session_id": f"demo-{d:02d}",
                    "start": start.isoformat(),
                    "stop": stop.isoformat(),
                    "input_octets": 350_000_000 + d * 97_000_000,
                    "output_octets": 40_000_000 + d * 9_000_000,
                    "framed_ip": f"100.64.0.{10 + d}",
                    "terminate_cause": "Lost-Carrier" if d == 3 else "User-Request",
                }
            )
        container.portal.push_sessions(meta(), records)
    container.wait_for(container.store.head(), timeout=10)
