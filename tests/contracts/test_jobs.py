"""Jobs and billing follow-through, run directly against a container: the 30-day expiry notice is sent
once per contract and end date across repeated runs; the end of term renews or expires; suspension
and resumption reach billing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from projections.ops.outbox import outbox_emails
from retaguarda.contracts.actors import apply_to_billing, run_end_of_term, send_expiry_notices
from retaguarda.contracts.application import local_date
from retaguarda.contracts.fees import add_months
from retaguarda.shared.clock import FixedClock


def _settle(container):
    container.runner.catch_up()


def _notices(container, tenant_id):
    with container.engine.connect() as conn:
        return conn.execute(sa.select(outbox_emails.c.to).where(
            outbox_emails.c.tenant_id == tenant_id, outbox_emails.c.template == "contracts.expiry_notice")).all()


def _active(container, cws, customer, start, **over):
    meta = cws.ws.meta()
    c = container.contracts.create_contract(meta, customer_id=customer, plan_id=cws.plan_id,
                                            template_id=cws.template_id, start_date=start, loyalty_months=12,
                                            **over).aggregate
    container.contracts.activate(meta, str(c.id), "papel")
    _settle(container)
    return str(c.id)


def test_expiry_notice_once_per_contract_and_end_date(container, cws):
    today = local_date(container.clock.now())
    soon = _active(container, cws, cws.ws.customers[0], add_months(today, -12) + timedelta(days=20))
    _active(container, cws, cws.ws.customers[1], today)  # ends in a year: no notice yet
    assert send_expiry_notices(container) == "1 expiry notices queued"
    _settle(container)
    for _ in range(3):
        assert send_expiry_notices(container) == "0 expiry notices queued"
        _settle(container)
    assert [r.to for r in _notices(container, cws.ws.tenant_id)] == ["c0@a.test"]
    # Renewed: the new end date is far away; when it comes close, one more notice
    container.contracts.renew(cws.ws.meta(), soon)
    _settle(container)
    later = container.clock.now() + timedelta(days=366)
    real = container.clock
    container.clock = FixedClock(later)
    try:
        assert send_expiry_notices(container).startswith("2")  # both contracts' end dates are now close
        _settle(container)
        assert send_expiry_notices(container) == "0 expiry notices queued"
    finally:
        container.clock = real
    _settle(container)
    assert len(_notices(container, cws.ws.tenant_id)) == 3


def test_end_of_term_renews_or_expires(container, cws):
    today = local_date(container.clock.now())
    start = add_months(today, -12)
    renewing = _active(container, cws, cws.ws.customers[0], start, auto_renew=True)
    expiring = _active(container, cws, cws.ws.customers[1], start, auto_renew=False)
    assert run_end_of_term(container) == "1 expired, 1 renewed"
    _settle(container)
    r = container.contracts.get_contract(cws.ws.tenant_id, renewing)
    assert r.status == "active" and r.end_date == add_months(today, 12) and r.version_number == 2
    assert "renovado" in r.current["text"].lower() or "renewed" in r.current["text"].lower()
    assert container.contracts.get_contract(cws.ws.tenant_id, expiring).status == "expired"
    assert run_end_of_term(container) == "nothing to do"


def test_billing_follows_activation_suspension_plan_change_and_expiry(container, cws):
    start = local_date(container.clock.now())
    cid = _active(container, cws, cws.ws.customers[0], start, due_day=15)
    c = container.contracts.get_contract(cws.ws.tenant_id, cid)
    version = c.version
    assert apply_to_billing(container, cid, version, "Activated").startswith("subscribed")
    assert apply_to_billing(container, cid, version, "Activated") == "already linked"  # redelivery
    _settle(container)
    from retaguarda.billing import Subscription

    sub_id = container.contracts.get_contract(cws.ws.tenant_id, cid).subscription_id
    sub = container.billing.load(Subscription, sub_id, cws.ws.tenant_id)
    assert sub.plan_id == cws.plan_id and sub.due_day == 15 and sub.status == "active"
    saved = container.contracts.suspend(cws.ws.meta(), cid, "inadimplência")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Suspended") == \
        "subscription suspended and access blocked"
    assert apply_to_billing(container, cid, saved.aggregate.version, "Suspended").startswith("subscription is")
    saved = container.contracts.resume(cws.ws.meta(), cid, "pago")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Resumed") == "subscription resumed"
    saved = container.contracts.amend(cws.ws.meta(), cid, plan_id=cws.plan2_id, note="upgrade")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended").startswith(
        "plan changed from the next period; price 149.90 from ")
    sub = container.billing.load(Subscription, sub_id, cws.ws.tenant_id)
    assert sub.pending_plan_id == cws.plan2_id and sub.pending_from > start
    assert sub.price_for(sub.pending_from, Decimal("1")) == Decimal("149.90")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended") == "billing unchanged"
    # A second contract for the same customer takes the active subscription over instead of a new one
    other = _active(container, cws, cws.ws.customers[0], start)
    o = container.contracts.get_contract(cws.ws.tenant_id, other)
    assert apply_to_billing(container, other, o.version, "Activated") == f"took over subscription {sub_id}"
    saved, fee = container.contracts.cancel(cws.ws.meta(), cid, "mudança")
    assert fee > 0
    result = apply_to_billing(container, cid, saved.aggregate.version, "Cancelled")
    assert "subscription ended" in result and "fee invoice" in result
    assert apply_to_billing(container, cid, saved.aggregate.version, "Cancelled") == "fee already invoiced"
    assert container.billing.load(Subscription, sub_id, cws.ws.tenant_id).status == "cancelled"


def test_dashboard_card_counts_contracts_ending_in_seven_days(container, cws):
    from retaguarda.contracts.dashboard import cards
    from retaguarda.readdb import tenant_reader

    today = local_date(container.clock.now())
    _active(container, cws, cws.ws.customers[0], add_months(today, -12) + timedelta(days=5))
    _active(container, cws, cws.ws.customers[1], add_months(today, -12) + timedelta(days=9))

    class P:
        tenant_id = cws.ws.tenant_id

        def can(self, perm):
            return perm == "customers:read"

    with tenant_reader(container.engine, cws.ws.tenant_id) as conn:
        (card,) = cards(conn, P(), datetime.now(timezone.utc))
    assert card["value"] == 1 and card["tone"] == "warn" and date.fromisoformat(card["href"][-10:]) == \
        today + timedelta(days=7)


def _invoices(container, subscription_id):
    from projections.billing.invoice_list import invoices

    container.runner.catch_up()
    with container.engine.connect() as conn:
        return conn.execute(sa.select(invoices.c.period_start, invoices.c.total, invoices.c.id)
                            .where(invoices.c.subscription_id == subscription_id)
                            .order_by(invoices.c.period_start)).all()


def test_contract_price_and_price_only_amendment_reach_the_billing_run(container, cws):
    """The contract's price (not the plan's 99.90) is billed from the first period; a price-only
    amendment is billed from the next period, earlier invoices keep their price."""
    from retaguarda.billing.runs import generate

    today = local_date(container.clock.now())
    first = today.replace(day=1)
    cid = _active(container, cws, cws.ws.customers[0], first, due_day=1, price="89.90")
    c = container.contracts.get_contract(cws.ws.tenant_id, cid)
    assert apply_to_billing(container, cid, c.version, "Activated").startswith("subscribed")
    _settle(container)
    sub_id = container.contracts.get_contract(cws.ws.tenant_id, cid).subscription_id
    tenant = cws.ws.tenant_id
    assert generate(container, tenant, first) == 1
    assert [(r.period_start, r.total) for r in _invoices(container, sub_id)] == [(first, Decimal("89.90"))]

    saved = container.contracts.amend(cws.ws.meta(), cid, price="79.90", note="desconto")
    assert saved.aggregate.terms["plan_id"] == cws.plan_id  # price only
    nxt = add_months(first, 1)
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended") == f"price 79.90 from {nxt}"
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended") == "billing unchanged"
    _settle(container)
    assert generate(container, tenant, nxt) == 1
    assert generate(container, tenant, nxt) == 0
    assert [(r.period_start, r.total) for r in _invoices(container, sub_id)] == [
        (first, Decimal("89.90")), (nxt, Decimal("79.90"))]


def test_suspension_blocks_access_and_resumption_lifts_only_that_block(container, cws):
    from retaguarda.billing import Subscription

    start = local_date(container.clock.now())
    customer = cws.ws.customers[0]
    cid = _active(container, cws, customer, start)
    c = container.contracts.get_contract(cws.ws.tenant_id, cid)
    apply_to_billing(container, cid, c.version, "Activated")
    sub_id = container.contracts.get_contract(cws.ws.tenant_id, cid).subscription_id
    saved = container.contracts.suspend(cws.ws.meta(), cid, "pedido do cliente")
    apply_to_billing(container, cid, saved.aggregate.version, "Suspended")
    account = container.billing.get_account(cws.ws.tenant_id, customer)
    assert account.blocked and account.block_reason.startswith("subscription suspended")
    assert account.network == {"state": "pending", "action": "block", "error": "", "attempts": 0}
    assert container.customers.get_customer(cws.ws.tenant_id, customer).status == "blocked"
    assert container.billing.load(Subscription, sub_id, cws.ws.tenant_id).status == "suspended"
    saved = container.contracts.resume(cws.ws.meta(), cid, "voltou")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Resumed") == "subscription resumed"
    account = container.billing.get_account(cws.ws.tenant_id, customer)
    assert not account.blocked and account.network["action"] == "unblock"
    assert container.customers.get_customer(cws.ws.tenant_id, customer).status == "active"


def test_fee_invoice_is_created_once_across_redeliveries_and_a_second_cancel(container, cws):
    from projections.billing.invoice_list import invoices
    from retaguarda.contracts.actors import fee_invoice_id
    from retaguarda.shared.errors import ConflictError

    start = local_date(container.clock.now())
    cid = _active(container, cws, cws.ws.customers[1], start)
    c = container.contracts.get_contract(cws.ws.tenant_id, cid)
    apply_to_billing(container, cid, c.version, "Activated")
    saved, fee = container.contracts.cancel(cws.ws.meta(), cid, "mudança")
    assert fee > 0
    with pytest.raises(ConflictError):
        container.contracts.cancel(cws.ws.meta(), cid, "de novo")
    results = [apply_to_billing(container, cid, saved.aggregate.version, "Cancelled") for _ in range(3)]
    assert "fee invoice" in results[0] and all(r == "fee already invoiced" for r in results[1:])
    _settle(container)
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(invoices.c.id, invoices.c.total, invoices.c.status).where(
            invoices.c.customer_id == cws.ws.customers[1], invoices.c.subscription_id.is_(None))).all()
    assert [(r.id, r.total, r.status) for r in rows] == [(str(fee_invoice_id(cid)), fee, "issued")]
