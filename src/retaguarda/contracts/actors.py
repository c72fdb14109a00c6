"""Jobs of the contracts context.

- `contracts.billing` (trigger): billing follows the contract through its events, using billing's
  public service methods only. `Activated` creates the customer's subscription (or takes over the
  active one) with the contract's plan and due day and links it to the contract; an amendment of
  the plan changes the subscription from the next period; `Suspended` suspends it, `Resumed`
  resumes it; `Cancelled` ends it with billing's final invoice plus, when the loyalty fee is
  due, an invoice for the fee; `Expired` ends it. Each step first looks at the current state, so
  a redelivered message does nothing twice (the fee invoice has an id derived from the contract:
  created once, issued once). Activation sets the subscription's price (billing's price
  override) to the contract's from the first period, an amendment from the next period.
  Suspension also blocks the customer's access (billing records the network block); resumption
  lifts that block.
- `contracts.expiry_notices` (daily): the 30-day notice e-mail, once per contract and end date.
- `contracts.end_of_term` (daily): renews (auto-renew) or expires contracts whose end date came.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retaguarda.contracts.domain import Contract
from retaguarda.integrations import job
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

BILLING_ACTOR = "contracts.billing"
NOTICES_ACTOR = "contracts.expiry_notices"
END_OF_TERM_ACTOR = "contracts.end_of_term"
FEE_SCOPE = "contract-fee-invoice"
NOTICE_DAYS = 30


def fee_invoice_id(contract_id: str) -> uuid.UUID:
    """The id of a contract's cancellation-fee invoice (one per contract, ever)."""
    return uuid.uuid5(uuid.UUID(str(contract_id)), FEE_SCOPE)


def billing_args(event: Any) -> tuple[str, int, str]:
    return str(event.originator_id), event.originator_version, type(event).__name__


def _meta(tenant_id: str, actor: str, at: Any) -> Meta:
    return Meta(tenant_id=tenant_id, actor=f"system:{actor}", correlation_id=uuid.uuid4().hex, at=at)


@job(actor_name=BILLING_ACTOR, queue_name="contracts", max_retries=8, min_backoff=1000, max_backoff=120_000)
def follow_billing(container: Container, contract_id: str, version: int, kind: str) -> str:
    return apply_to_billing(container, contract_id, version, kind)


def apply_to_billing(container: Container, contract_id: str, version: int, kind: str) -> str:
    """What billing does for the contract event at `version` (idempotent)."""
    contracts = container.contracts
    billing = getattr(container, "billing", None)
    if billing is None:
        return "billing not installed"
    at_event: Contract = contracts.load(Contract, contract_id, None, version=version)
    now: Contract = contracts.load(Contract, contract_id, None)
    meta = _meta(now.tenant_id, BILLING_ACTOR, container.clock.now())
    from retaguarda.contracts.application import local_date

    today = local_date(meta.at)
    from retaguarda.billing import Subscription

    def subscription() -> Any:
        if not now.subscription_id:
            return None
        return billing.load(Subscription, now.subscription_id, now.tenant_id)

    if kind == "Activated":
        if now.subscription_id:
            return "already linked"
        terms = at_event.terms
        active = [
            s
            for s in contracts.lookups.subscriptions(now.tenant_id, now.customer_id)
            if s["status"] == "active"
        ]
        if active:
            sub = active[0]
            sub_agg = billing.load(Subscription, sub["id"], now.tenant_id)
            if sub["plan_id"] != terms["plan_id"]:
                billing.change_subscription_plan(
                    meta,
                    sub["id"],
                    terms["plan_id"],
                    billing.next_period_start(now.tenant_id, sub_agg, today),
                )
                sub_agg = billing.load(Subscription, sub["id"], now.tenant_id)
            billing.set_subscription_price(
                meta, sub["id"], terms["price"],
                billing.next_period_start(now.tenant_id, sub_agg, today), f"contract {now.number}",
            )
            contracts.link_subscription(meta, contract_id, sub["id"], True)
            return f"took over subscription {sub['id']}"
        saved = billing.subscribe(
            meta,
            customer_id=now.customer_id,
            plan_id=terms["plan_id"],
            due_day=int(terms["due_day"]),
            start_date=terms["start_date"],
        )
        # The contract's price, whatever the catalogue says now or later, from the first period.
        billing.set_subscription_price(
            meta, str(saved.aggregate.id), terms["price"], saved.aggregate.start_date,
            f"contract {now.number}",
        )
        contracts.link_subscription(meta, contract_id, str(saved.aggregate.id), False)
        return f"subscribed {saved.aggregate.id}"
    sub = subscription()
    if sub is None:
        return "no subscription linked"
    if kind == "Amended":
        if sub.status == "cancelled":
            return "subscription is cancelled"
        done = []
        start = billing.next_period_start(now.tenant_id, sub, today)
        plan_id = at_event.terms["plan_id"]
        if plan_id not in (sub.plan_id, sub.pending_plan_id):
            billing.change_subscription_plan(meta, str(sub.id), plan_id, start)
            done.append("plan changed from the next period")
        price = at_event.terms["price"]
        saved = billing.set_subscription_price(
            meta, str(sub.id), price, start, f"contract {now.number} amended"
        )
        if saved.position:
            done.append(f"price {price} from {start.isoformat()}")
        return "; ".join(done) or "billing unchanged"
    if kind == "Suspended":
        if sub.status != "active":
            return f"subscription is {sub.status}"
        billing.set_subscription_status(
            meta, str(sub.id), "suspend", f"contract {now.number} suspended", block=True
        )
        return "subscription suspended and access blocked"
    if kind == "Resumed":
        if sub.status != "suspended":
            return f"subscription is {sub.status}"
        billing.set_subscription_status(
            meta, str(sub.id), "resume", f"contract {now.number} resumed", block=True
        )
        return "subscription resumed"
    if kind in ("Cancelled", "Expired"):
        done = []
        if sub.status != "cancelled":
            reason = f"contract {now.number} {'cancelled' if kind == 'Cancelled' else 'expired'}"
            billing.cancel_subscription(meta, str(sub.id), reason, final_invoice=True)
            done.append("subscription ended with final invoice")
        fee = now.cancellation_fee
        if kind == "Cancelled" and fee and Decimal(fee) > 0:
            if contracts.find(Claim, claim_id(FEE_SCOPE, contract_id)) is not None:
                return "; ".join([*done, "fee already invoiced"])  # claimed by an earlier release
            # Exactly once: the fee invoice has an id derived from the contract, so a redelivered
            # message (or a second cancel event) finds it instead of creating another; a crash
            # between creating and issuing it is finished by the retry.
            inv = billing.create_invoice(
                meta,
                customer_id=now.customer_id,
                due_date=today + timedelta(days=7),
                items=[
                    {
                        "description": f"Multa de fidelidade - contrato {now.number} "
                        f"(cancelamento em {today:%d/%m/%Y})",
                        "quantity": "1",
                        "unit_price": str(fee),
                    }
                ],
                invoice_id=fee_invoice_id(contract_id),
            ).aggregate
            if inv.status == "draft":
                billing.issue_invoice(meta, str(inv.id))
                done.append(f"fee invoice {inv.number}")
            else:
                done.append("fee already invoiced")
        return "; ".join(done) or "nothing to do"
    return f"ignored {kind}"


@job(
    actor_name=NOTICES_ACTOR,
    queue_name="contracts",
    max_retries=2,
    min_backoff=1000,
    max_backoff=30_000,
    time_limit=600_000,
)
def expiry_notices(container: Container) -> str:
    return send_expiry_notices(container)


def send_expiry_notices(container: Container) -> str:
    from projections.contracts.contract_list import notice_candidates
    from retaguarda.contracts.application import local_date

    now = container.clock.now()
    with container.engine.connect() as conn:
        candidates = notice_candidates(conn, local_date(now) + timedelta(days=NOTICE_DAYS))
    sent = 0
    for tenant_id, contract_id in candidates:
        if container.contracts.queue_expiry_notice(
            _meta(tenant_id, NOTICES_ACTOR, now), contract_id
        ):
            sent += 1
    return f"{sent} expiry notices queued"


@job(
    actor_name=END_OF_TERM_ACTOR,
    queue_name="contracts",
    max_retries=2,
    min_backoff=1000,
    max_backoff=30_000,
    time_limit=600_000,
)
def end_of_term(container: Container) -> str:
    return run_end_of_term(container)


def run_end_of_term(container: Container) -> str:
    from projections.contracts.contract_list import term_ended
    from retaguarda.contracts.application import local_date

    now = container.clock.now()
    with container.engine.connect() as conn:
        candidates = term_ended(conn, local_date(now))
    results: dict[str, int] = {}
    for tenant_id, contract_id in candidates:
        outcome = container.contracts.end_of_term(
            _meta(tenant_id, END_OF_TERM_ACTOR, now), contract_id
        )
        results[outcome] = results.get(outcome, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(results.items())) or "nothing to do"
