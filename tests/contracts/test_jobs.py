"""Jobs and billing follow-through, run directly against a container: the 30-day expiry notice is sent
once per contract and end date across repeated runs; the end of term renews or expires; suspension
and resumption reach billing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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
    assert apply_to_billing(container, cid, saved.aggregate.version, "Suspended") == "subscription suspended"
    assert apply_to_billing(container, cid, saved.aggregate.version, "Suspended").startswith("subscription is")
    saved = container.contracts.resume(cws.ws.meta(), cid, "pago")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Resumed") == "subscription resumed"
    saved = container.contracts.amend(cws.ws.meta(), cid, plan_id=cws.plan2_id, note="upgrade")
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended") == "plan changed from the next period"
    sub = container.billing.load(Subscription, sub_id, cws.ws.tenant_id)
    assert sub.pending_plan_id == cws.plan2_id and sub.pending_from > start
    assert apply_to_billing(container, cid, saved.aggregate.version, "Amended") == "plan unchanged"
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
