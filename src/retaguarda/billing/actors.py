"""Actors of the billing context: the access-network notification and the daily run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.integrations import current_attempt, job
from retaguarda.integrations.errors import PermanentError, TransientError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

NETWORK_ACTOR = "billing.access_network"
REFUND_ACTOR = "billing.stripe_refund"
DAILY_ACTOR = "billing.daily_run"


def record_network_give_up(container: Container,
                           account_id: str, version: int, *, error: str, attempts: int) -> None:
    """Last retry failed: the account shows the failed delivery (dead letter) with a retry action."""
    account = container.billing.find_account(account_id)
    if account is None:
        return
    container.billing.record_network(account_id, account.network.get("action", ""), ok=False,
                                     attempts=attempts, error=error)


@job(actor_name=NETWORK_ACTOR, queue_name="billing", max_retries=5, min_backoff=1000, max_backoff=60000,
     throws=(PermanentError,), time_limit=60_000, on_give_up=record_network_give_up)
def notify_access_network(container: Container, account_id: str, version: int) -> str:
    """Tells the access network (RADIUS/NAS adapter) to block or unblock a customer.

    Idempotent: does nothing unless the account's delivery is pending; the receiver
    de-duplicates on `event_id` = account id + version of the block/unblock event.
    """
    billing = container.billing
    account = billing.find_account(account_id)
    if account is None or account.network.get("state") != "pending":
        return "skipped"
    action = account.network["action"]
    network = container.access_network_factory(billing.settings_for(account.tenant_id))
    if network is None:
        billing.record_network(account_id, action, ok=True, attempts=0)
        return "no access network configured"
    event_id = f"{account.id}:{account.version}"
    try:
        if action == "block":
            network.block(tenant_id=account.tenant_id, customer_id=account.customer_id,
                          reason=account.block_reason, event_id=event_id)
        else:
            network.unblock(tenant_id=account.tenant_id, customer_id=account.customer_id, event_id=event_id)
    except Exception as exc:
        transient = getattr(exc, "transient", None)
        if transient is False or isinstance(exc, PermanentError):
            raise PermanentError(f"{type(exc).__name__}: {exc}") from None
        raise TransientError(f"{type(exc).__name__}: {exc}") from None
    finally:
        close = getattr(network, "close", None)
        if close:
            close()
    billing.record_network(account_id, action, ok=True, attempts=current_attempt())
    return f"{action} sent"


def record_refund_give_up(container: Container,
                          invoice_id: str, refund_id: str, *, error: str, attempts: int) -> None:
    """Stripe kept failing (or refused): the refund shows as failed on the invoice, with a retry."""
    container.billing.record_refund(invoice_id, refund_id, ok=False, attempts=attempts, error=error)


@job(actor_name=REFUND_ACTOR, queue_name="billing", max_retries=5, min_backoff=1000, max_backoff=60000,
     throws=(PermanentError,), time_limit=120_000, on_give_up=record_refund_give_up)
def send_stripe_refund(container: Container, invoice_id: str, refund_id: str) -> str:
    """Sends a pending card refund to Stripe (`POST /v1/refunds` on the payment's PaymentIntent).

    The idempotency key is the refund request's id, so retries (ours and the client's) and a
    manual retry after a failure never refund twice; Stripe replays its first answer.
    """
    billing = container.billing
    inv = billing.get_invoice(None, invoice_id)
    req = inv.refund_requests.get(refund_id)
    if req is None or req["state"] != "pending":
        return "skipped"
    payment = next(p for p in inv.payments if p["id"] == req["payment_id"])
    client = container.stripe_factory(billing.settings_for(inv.tenant_id))
    if client is None:
        raise PermanentError("Stripe is not configured for this tenant (stripe_secret_key)")
    try:
        refund = client.create_refund(payment_intent=str(payment["reference"]),
                                      amount_cents=int(req["amount"] * 100),
                                      idempotency_key=f"refund:{invoice_id}:{refund_id}",
                                      reason="requested_by_customer")
    except Exception as exc:
        transient = getattr(exc, "transient", None)
        if transient is False or isinstance(exc, PermanentError):
            raise PermanentError(f"{type(exc).__name__}: {exc}") from None
        raise TransientError(f"{type(exc).__name__}: {exc}") from None
    finally:
        client.close()
    if refund.get("status") in ("failed", "canceled"):
        raise PermanentError(f"Stripe refund {refund.get('id')} is {refund.get('status')}")
    billing.record_refund(invoice_id, refund_id, ok=True, attempts=current_attempt(),
                          reference=str(refund.get("id") or ""))
    return f"refund {refund.get('id')} {refund.get('status')}"


@job(actor_name=DAILY_ACTOR, queue_name="billing", max_retries=0, time_limit=3_600_000)
def daily_run(container: Container) -> str:
    """Periodic: the billing run for today (São Paulo) in every tenant that bills."""
    from retaguarda.billing.application import local_date
    from retaguarda.billing.runs import run_all

    results: dict[str, Any] = run_all(container, local_date(container.clock.now()))
    return f"{len(results)} tenant(s): " + "; ".join(
        f"{k[:8]} generated {v.get('generated', 0)}, blocked {v.get('blocked', 0)}" for k, v in results.items())
