"""The billing run for a date: generation, overdue marking, reminders, blocking.

Every step is idempotent, so a run may repeat, overlap another or die half-way:
- generation: one invoice per (subscription, period), guaranteed by the period Claim saved with
  the invoice (batches of `BATCH` invoices per atomic save, numbers from the tenant sequence);
- overdue: a transition the invoice makes once;
- reminders: recorded on the invoice with the key of the schedule step (each sent once);
- blocking: the account records the block once; paying unblocks.
Candidates come from the read models (caught up before each step); the aggregates decide.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import retaguarda.billing.money as m
from projections.billing.catalogue import billing_tenants, customers_with_credit, subscriptions_due
from projections.billing.invoice_list import (
    invoiced_periods,
    invoices_of_month,
    open_invoices,
    open_invoices_due,
    overdue_past,
)
from retaguarda.billing.application import public_token
from retaguarda.billing.domain.plans import override_price
from retaguarda.billing.due import pix_for_amount
from retaguarda.readdb import tenant_reader
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

BATCH = 500
PAGES_PER_READ = 10  # subscriptions read per query: 10 batches (fewer, larger keyset reads)


def _meta(tenant_id: str, actor: str, at: Any) -> Meta:
    return Meta(tenant_id=tenant_id, actor=actor, correlation_id=uuid.uuid4().hex, at=at)


def _catch_up(container: Container) -> None:
    container.wait_for(container.store.head(), timeout=max(30.0, container.settings.read_your_writes_timeout))


def run_for_tenant(container: Container, tenant_id: str, run_date: date, *, actor: str = "system:billing.run",
                   trigger: str = "api", steps: tuple[str, ...] = ("generate", "overdue", "reminders", "block"),
                   record: bool = True) -> dict[str, Any]:
    """Runs the steps for one tenant and records the counts as a BillingRun."""
    billing = container.billing
    now = container.clock.now()
    results: dict[str, Any] = {}
    _catch_up(container)
    if "generate" in steps:
        results["generated"] = generate(container, tenant_id, run_date, actor=actor)
        _catch_up(container)
    if "overdue" in steps:
        results["overdue"] = mark_overdue(container, tenant_id, run_date, actor=actor)
        _catch_up(container)
    if "reminders" in steps:
        results["reminders"] = send_reminders(container, tenant_id, run_date, actor=actor)
    if "block" in steps:
        results["blocked"] = block_overdue(container, tenant_id, run_date, actor=actor)
    if record:
        saved = billing.record_run(_meta(tenant_id, actor, now), run_date, trigger, results)
        results["run_id"] = str(saved.aggregate.id)
        container.after_write(saved.position)
    return results


def run_all(container: Container, run_date: date, trigger: str = "schedule") -> dict[str, Any]:
    _catch_up(container)
    with container.engine.connect() as conn:
        tenants = billing_tenants(conn)
    return {t: run_for_tenant(container, t, run_date, trigger=trigger) for t in tenants}


def generate(container: Container, tenant_id: str, run_date: date, *, actor: str = "system:billing.run",
             batch: int = BATCH) -> int:
    """Invoices for every active subscription whose next period starts within the lead time."""
    billing = container.billing
    settings = billing.settings_for(tenant_id)
    until = run_date + timedelta(days=int(settings.values.get("lead_days", 10)))
    created = 0
    after = ""
    now = container.clock.now()
    while True:
        with tenant_reader(container.engine, tenant_id) as conn:
            rows = subscriptions_due(conn, tenant_id, until, after_id=after, limit=batch * PAGES_PER_READ)
            with_credit = customers_with_credit(conn, tenant_id, sorted({r.customer_id for r in rows}))
        if not rows:
            break
        after = rows[-1].id
        candidates = []
        for r in rows:
            start = r.next_period_start
            # Several periods may be due (a long lead time or a late start): bill each in turn.
            while start <= until:
                use_pending = bool(r.pending_plan_id and r.pending_from and start >= r.pending_from)
                cycle = r.pending_cycle if use_pending else r.cycle
                period = m.period_at(r.start_date, r.due_day, cycle, start)
                candidates.append({
                    "subscription_id": r.id, "customer_id": r.customer_id, "period": period,
                    "plan_id": r.pending_plan_id if use_pending else r.plan_id,
                    "plan_name": r.pending_name if use_pending else r.name,
                    "price": override_price(r.price_overrides, period.start,
                                            Decimal(r.pending_price if use_pending else r.price)),
                    "credit": r.customer_id in with_credit,
                })
                start = period.end + timedelta(days=1)
        for i in range(0, len(candidates), batch):
            created += billing.generate_batch(_meta(tenant_id, actor, now), candidates[i:i + batch],
                                              claimed=lambda keys: _claimed(container, tenant_id, keys))
    return created


def invoices_of_competence(container: Container, tenant_id: str, competence: str) -> list[tuple[int, str]]:
    """(number, id) of the tenant's invoices of competence `YYYY-MM` (billing period — or due date —
    in that month; not draft or cancelled), by number: what the fiscal context documents in bulk."""
    year, month = (int(x) for x in competence.split("-"))
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    _catch_up(container)
    with tenant_reader(container.engine, tenant_id) as conn:
        return invoices_of_month(conn, tenant_id, first, last)


def _claimed(container: Container, tenant_id: str, keys: list[str]) -> set[str]:
    """Which `{subscription_id}:{period_start}` keys already have an invoice (read model, caught up)."""
    _catch_up(container)
    with tenant_reader(container.engine, tenant_id) as conn:
        return invoiced_periods(conn, tenant_id, keys)


def mark_overdue(container: Container, tenant_id: str, run_date: date, *, actor: str = "system:billing.run") -> int:
    with tenant_reader(container.engine, tenant_id) as conn:
        rows = open_invoices_due(conn, tenant_id, run_date)
    now = container.clock.now()
    return sum(1 for r in rows if container.billing.mark_overdue(_meta(tenant_id, actor, now), r.id, run_date))


def reminder_key(days_from_due: int) -> str:
    return "due" if days_from_due == 0 else f"{days_from_due:+d}"


def send_reminders(container: Container, tenant_id: str, run_date: date, *, actor: str = "system:billing.run") -> int:
    """The schedule step that applies today (or the latest one missed), each once per invoice.

    Only the latest step reached is sent: a run that missed days does not send a burst of
    old reminders.
    """
    billing = container.billing
    settings = billing.settings_for(tenant_id)
    schedule = sorted(int(d) for d in settings.values.get("reminder_days", []))
    base = container.settings.base_url
    now = container.clock.now()
    sent = 0
    with tenant_reader(container.engine, tenant_id) as conn:
        rows = open_invoices(conn, tenant_id)
    for r in rows:
        offset = (run_date - r.due_date).days
        reached = [d for d in schedule if d <= offset]
        if not reached or not r.email:
            continue
        key = reminder_key(reached[-1])
        if key in (r.reminders or []):
            continue
        inv = billing.get_invoice(tenant_id, r.id)
        link = f"{base}/pay/{inv.id}/{public_token(container.settings.secret_key, str(inv.id))}"
        params = {
            "number": inv.number, "customer_name": r.customer_name or "", "due_date": inv.due_date.isoformat(),
            "amount": str(inv.due_on(run_date, settings.terms)), "link": link, "key": key,
            "brcode": (pix_for_amount(inv.pix, inv.due_on(run_date, settings.terms)) or {}).get("brcode", ""),
            "digitable_line": (inv.boleto or {}).get("digitable_line", ""),
        }
        if billing.send_reminder(_meta(tenant_id, actor, now), r.id, key, r.email, params):
            sent += 1
    return sent


def block_overdue(container: Container, tenant_id: str, run_date: date, *, actor: str = "system:billing.run") -> int:
    billing = container.billing
    settings = billing.settings_for(tenant_id)
    limit = run_date - timedelta(days=int(settings.values.get("block_after_days", 10)))
    with tenant_reader(container.engine, tenant_id) as conn:
        rows = overdue_past(conn, tenant_id, limit)
    now = container.clock.now()
    blocked = 0
    seen: set[str] = set()
    for r in rows:
        if r.customer_id in seen:
            continue
        seen.add(r.customer_id)
        if billing.block_for(_meta(tenant_id, actor, now), r.customer_id, r.id, r.number):
            blocked += 1
    return blocked
