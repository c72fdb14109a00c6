"""On PostgreSQL: parallel and crashed generation runs make one invoice per period, gap-free
numbers; duplicate webhooks delivered in parallel make one payment."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from retaguarda.billing import runs
from retaguarda.shared.meta import Meta

pytestmark = pytest.mark.integration
TENANT = "tenant-pg"


def _meta() -> Meta:
    return Meta(tenant_id=TENANT, actor="user-1", correlation_id="c", at=datetime(2026, 11, 23, 12, tzinfo=timezone.utc))


def _setup(c, n: int) -> list[str]:
    c.runner.start_thread()
    customers = []
    from retaguarda.shared.documents import make_cpf

    for i in range(n):
        saved = c.customers.register_customer(_meta(), name=f"Cliente {i}", kind="person",
                                              document=make_cpf(f"{100000000 + i * 7919:09d}"),
                                              email=f"c{i}@x.test")
        customers.append(str(saved.aggregate.id))
    plan = c.billing.create_plan(_meta(), name="Fibra", price="99.90", cycle="monthly").aggregate
    for cid in customers:
        c.billing.subscribe(_meta(), customer_id=cid, plan_id=str(plan.id), due_day=5, start_date=date(2026, 10, 5))
    c.wait_for(c.store.head(), timeout=30)
    return customers


def _invoices(c) -> list[tuple]:
    with c.engine.connect() as conn:
        return conn.execute(sa.text("select subscription_id, period_start, number from billing_invoices")).all()


def test_parallel_and_crashed_generation_runs_make_one_invoice_per_period(pg_container, monkeypatch):
    c = pg_container
    _setup(c, 12)
    # A run that dies after its first batch (small batches), then two runs at once
    calls = {"n": 0}
    real = c.billing.generate_batch

    def dying(meta, candidates, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed mid-run")
        return real(meta, candidates, **kw)

    monkeypatch.setattr(c.billing, "generate_batch", dying)
    with pytest.raises(RuntimeError):
        runs.generate(c, TENANT, date(2026, 11, 23), batch=5)
    monkeypatch.setattr(c.billing, "generate_batch", real)
    c.wait_for(c.store.head(), timeout=30)
    partial = len(_invoices(c))
    assert 0 < partial < 24
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(runs.generate(c, TENANT, date(2026, 11, 23), batch=5))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    c.wait_for(c.store.head(), timeout=30)
    rows = _invoices(c)
    # 12 subscriptions × 2 periods (10-05 and 11-05; 12-05 is outside the 10-day lead)
    assert len(rows) == 24 and sum(results) == 24 - partial
    assert len({(r[0], r[1]) for r in rows}) == 24
    assert sorted(r[2] for r in rows) == list(range(1, 25))
    assert runs.generate(c, TENANT, date(2026, 11, 23)) == 0


def test_duplicate_webhook_payments_in_parallel_count_once(pg_container):
    c = pg_container
    customers = _setup(c, 1)
    inv = c.billing.create_invoice(_meta(), customer_id=customers[0], due_date=date(2026, 12, 1),
                                   items=[{"description": "x", "unit_price": "50.00"}]).aggregate
    c.billing.issue_invoice(_meta(), str(inv.id))
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def deliver(i: int) -> None:
        barrier.wait()
        outcomes.append(c.billing.accept_gateway_payment(
            _meta(), provider="stripe", event_id=f"evt_{i % 2}", raw_body="{}", invoice_id=str(inv.id),
            amount=Decimal("50.00"), method="card", paid_at=_meta().at, reference="pi_same"))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate"] * 5 + ["recorded"]
    loaded = c.billing.get_invoice(TENANT, str(inv.id))
    assert (loaded.status, len(loaded.payments), loaded.paid) == ("paid", 1, Decimal("50.00"))
