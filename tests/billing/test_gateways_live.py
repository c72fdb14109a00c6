"""Our app on a real socket (uvicorn in a thread) against B1's fake Stripe and Mercado Pago.

The fakes send the signed webhooks themselves; our endpoint verifies them, asks Mercado Pago for
the payment before trusting it, and records exactly one payment. Forged, stale and duplicate
deliveries change nothing. Card refunds go to Stripe from the `billing.stripe_refund` actor with
an idempotency key; transient faults are retried, refusals leave a visible, retryable failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.billing.conftest import PASSWORD, PIX_SETTINGS
from tests.conftest import build_container
from tests.e2e.conftest import free_port
from tests.fakes.billing import start_fake_mercadopago, start_fake_stripe
from tests.integrations.helpers import wait_until

pytestmark = pytest.mark.e2e
STRIPE_KEY, STRIPE_SECRET = "sk_test_live", "whsec_live_secret"
MP_TOKEN, MP_SECRET = "TEST-live-token", "mp_live_secret"


@pytest.fixture
def served(tmp_path) -> Iterator[dict[str, Any]]:
    import uvicorn

    from retaguarda.main import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stripe = start_fake_stripe(webhook_url=f"{base}/api/v1/billing/webhooks/stripe", secret=STRIPE_SECRET,
                               api_key=STRIPE_KEY)
    mp = start_fake_mercadopago(secret=MP_SECRET, access_token=MP_TOKEN)
    c = build_container(tmp_path / "var", port=port, stripe_url=stripe.base_url, mercadopago_url=mp.base_url)
    c.runner.start_thread()
    c.start_embedded()
    server = uvicorn.Server(uvicorn.Config(create_app(c), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30)
    http = httpx.Client(base_url=base, timeout=30)
    try:
        r = http.post("/api/v1/auth/signup", json={"tenant_name": "Provedor Live", "name": "Admin",
                                                   "email": "admin@live.test", "password": PASSWORD})
        assert r.status_code == 201, r.text
        token = http.post("/api/v1/auth/login", json={"email": "admin@live.test", "password": PASSWORD}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        r = http.patch("/api/v1/billing/settings", json={
            **PIX_SETTINGS, "stripe_secret_key": STRIPE_KEY, "stripe_webhook_secret": STRIPE_SECRET,
            "mercadopago_access_token": MP_TOKEN, "mercadopago_webhook_secret": MP_SECRET})
        assert r.status_code == 200, r.text
        r = http.post("/api/v1/customers", json={"name": "ACME Telecom", "kind": "company",
                                                 "document": "12.ABC.345/01DE-35", "email": "fin@acme.test"})
        assert r.status_code == 201, r.text
        yield {"http": http, "stripe": stripe, "mp": mp, "container": c, "customer_id": r.json()["id"]}
    finally:
        http.close()
        server.should_exit = True
        thread.join(timeout=15)
        c.close()
        stripe.stop()
        mp.stop()


def _issued_invoice(http: httpx.Client, customer_id: str, amount: str = "120.00") -> dict[str, Any]:
    inv = http.post("/api/v1/billing/invoices", json={
        "customer_id": customer_id, "due_date": "2099-12-10",
        "items": [{"description": "Fibra 300M", "unit_price": amount}]}).json()
    r = http.post(f"/api/v1/billing/invoices/{inv['id']}/issue")
    assert r.status_code == 200, r.text
    return r.json()


def _token(inv: dict[str, Any]) -> str:
    return inv["public_url"].rsplit("/", 1)[-1]


def _gateway_events(c: Any) -> int:
    import sqlalchemy as sa

    with c.engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from billing_gateway_events")).scalar_one()


def test_stripe_checkout_paid_on_the_fake_sends_one_signed_webhook_that_pays_once(served):
    http, stripe, c = served["http"], served["stripe"], served["container"]
    inv = _issued_invoice(http, served["customer_id"])
    # The public page's card button creates a Checkout Session on the (fake) Stripe
    r = http.post(f"/api/v1/billing/pay/{inv['id']}/{_token(inv)}/card", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(stripe.base_url + "/checkout/cs_test_")
    [session] = stripe.sessions.values()
    assert session["amount_total"] == 12000 and session["metadata"]["invoice_id"] == inv["id"]
    assert stripe.calls_to("POST", r"/v1/checkout/sessions")[0].header("idempotency-key")
    # Paying on Stripe delivers checkout.session.completed, signed, to our endpoint
    event = stripe.pay(session["id"])
    assert stripe.deliveries[-1].status == 200 and '"recorded"' in stripe.deliveries[-1].body
    view = http.get(f"/api/v1/billing/invoices/{inv['id']}").json()
    assert (view["status"], view["paid"], view["balance"]) == ("paid", "120.00", "0.00")
    [payment] = view["payments"]
    assert payment["method"] == "card" and payment["reference"] == stripe.sessions[session["id"]]["payment_intent"]
    head, events = c.store.head(), _gateway_events(c)
    # Forged (other secret) and stale (6 minutes old) deliveries are refused, nothing written
    assert stripe.deliver(event, secret="whsec_forged").status == 400
    assert stripe.deliver(event, timestamp=int(time.time()) - 360).status == 400
    # The same event redelivered, several times at once, is a duplicate
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(stripe.redeliver(event["id"]))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [d.status for d in results] == [200] * 4 and all('"duplicate"' in d.body for d in results)
    assert c.store.head() == head and _gateway_events(c) == events == 1
    assert len(http.get(f"/api/v1/billing/invoices/{inv['id']}").json()["payments"]) == 1


def test_mercadopago_pix_notification_is_verified_then_fetched_before_it_pays_once(served):
    http, mp, c = served["http"], served["mp"], served["container"]
    inv = _issued_invoice(http, served["customer_id"], "89.90")
    # Our public page asks Mercado Pago for a PIX charge; its notification URL names the tenant
    r = http.post(f"/api/v1/billing/pay/{inv['id']}/{_token(inv)}/mercadopago")
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["qr_code"].startswith("000201") and started["amount"] == "89.90"
    payment = mp.payments[started["id"]]
    assert payment["external_reference"] == inv["id"] and "tenant=" in payment["notification_url"]
    assert mp.calls_to("POST", r"/v1/payments")[0].header("x-idempotency-key")
    # A notification while the payment is still pending is recorded, pays nothing
    note = mp.notify(started["id"])
    assert note.status == 200
    assert http.get(f"/api/v1/billing/invoices/{inv['id']}").json()["status"] == "issued"
    # Forged and stale notifications of the approved payment are refused before any GET
    mp.set_status(started["id"], "approved", notify=False)
    gets = len(mp.calls_to("GET", r"/v1/payments/\d+"))
    head = c.store.head()
    assert mp.notify(started["id"], secret="forged").status == 400
    assert mp.notify(started["id"], ts=str(int((time.time() - 600) * 1000))).status == 400
    assert len(mp.calls_to("GET", r"/v1/payments/\d+")) == gets and c.store.head() == head
    # A genuine one: we GET the payment, then record one PIX payment
    good = mp.notify(started["id"])
    assert good.status == 200
    assert len(mp.calls_to("GET", r"/v1/payments/\d+")) == gets + 1
    view = http.get(f"/api/v1/billing/invoices/{inv['id']}").json()
    assert (view["status"], view["balance"]) == ("paid", "0.00")
    [paid] = view["payments"]
    assert (paid["method"], paid["amount"], paid["reference"]) == ("pix", "89.90", started["id"])
    # Duplicates: the same delivery again, and new deliveries (other request ids) in parallel
    head = c.store.head()
    assert mp.notify(started["id"], request_id=good.request_id).status == 200
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(mp.notify(started["id"]))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [n.status for n in results] == [200] * 4
    assert len(http.get(f"/api/v1/billing/invoices/{inv['id']}").json()["payments"]) == 1
    assert c.store.head() == head


def test_mercadopago_outage_answers_503_so_the_notification_is_retried(served):
    http, mp = served["http"], served["mp"]
    inv = _issued_invoice(http, served["customer_id"], "50.00")
    started = http.post(f"/api/v1/billing/pay/{inv['id']}/{_token(inv)}/mercadopago").json()
    mp.set_status(started["id"], "approved", notify=False)
    # The client tries 3 times (1 + 2 retries with backoff), then our endpoint answers 503
    mp.fail_next(503, times=3, path=f"/v1/payments/{started['id']}")
    assert mp.notify(started["id"]).status == 503
    assert http.get(f"/api/v1/billing/invoices/{inv['id']}").json()["status"] == "issued"
    # Mercado Pago delivers again later; now the payment is fetched and recorded
    assert mp.notify(started["id"]).status == 200
    assert http.get(f"/api/v1/billing/invoices/{inv['id']}").json()["status"] == "paid"


def _paid_by_card(served: dict[str, Any], amount: str = "120.00") -> tuple[dict[str, Any], dict[str, Any]]:
    http, stripe = served["http"], served["stripe"]
    inv = _issued_invoice(http, served["customer_id"], amount)
    http.post(f"/api/v1/billing/pay/{inv['id']}/{_token(inv)}/card", follow_redirects=False)
    session = next(s for s in stripe.sessions.values() if s["metadata"]["invoice_id"] == inv["id"])
    stripe.pay(session["id"])
    view = http.get(f"/api/v1/billing/invoices/{inv['id']}").json()
    assert view["status"] == "paid"
    return view, view["payments"][0]


def _refund_state(http: httpx.Client, invoice_id: str, state: str) -> dict[str, Any] | None:
    view = http.get(f"/api/v1/billing/invoices/{invoice_id}").json()
    return view if view["refunds"] and view["refunds"][-1]["state"] == state else None


def test_card_refund_is_sent_to_stripe_by_the_actor_with_retries_and_an_idempotency_key(served):
    http, stripe = served["http"], served["stripe"]
    inv, payment = _paid_by_card(served)
    # Stripe answers 503 once: the client retries with the same idempotency key
    stripe.fail_next(503, times=1, path="/v1/refunds")
    r = http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds", json={"payment_id": payment["id"],
                                                                         "amount": "20.00"})
    assert r.status_code == 201, r.text
    assert r.json()["refunds"][0]["state"] == "pending" and r.json()["status"] == "paid"
    view = wait_until(lambda: _refund_state(http, inv["id"], "sent"), timeout=30)
    [refund] = stripe.refunds.values()
    assert refund["amount"] == 2000 and refund["payment_intent"] == payment["reference"]
    assert view["refunds"][0]["reference"] == refund["id"]
    calls = stripe.calls_to("POST", r"/v1/refunds")
    assert len(calls) == 2 and len({c.header("idempotency-key") for c in calls}) == 1
    # The money went back: the invoice is open again for the refunded principal
    assert (view["refunded"], view["balance"], view["status"]) == ("20.00", "20.00", "partially_paid")
    # More than what is left is refused before anything is sent
    r = http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds", json={"payment_id": payment["id"],
                                                                         "amount": "100.01"})
    assert r.status_code == 422 and "amount" in r.text


def test_a_refused_refund_is_visible_as_failed_and_can_be_retried(served):
    http, stripe = served["http"], served["stripe"]
    inv, payment = _paid_by_card(served, "80.00")
    stripe.fail_next(402, times=1, path="/v1/refunds",
                     body={"error": {"type": "card_error", "message": "Your card was declined."}})
    r = http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds", json={"payment_id": payment["id"],
                                                                         "amount": "80.00"})
    assert r.status_code == 201, r.text
    failed = wait_until(lambda: _refund_state(http, inv["id"], "failed"), timeout=30)
    refund = failed["refunds"][0]
    assert "402" in refund["error"] or "declined" in refund["error"]
    assert (failed["status"], failed["refunded"], stripe.refunds) == ("paid", "0.00", {})
    page = http.get(f"/billing/invoices/{inv['id']}")
    assert page.status_code == 200 and 'data-testid="refund-failed"' in page.text
    assert 'data-testid="retry-refund"' in page.text
    # While it is failed, the same amount cannot be requested twice (it is still reserved)…
    assert http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds", json={
        "payment_id": payment["id"], "amount": "80.00"}).status_code == 422
    # …and the retry action sends it again
    r = http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds/{refund['id']}/retry")
    assert r.status_code == 200, r.text
    sent = wait_until(lambda: _refund_state(http, inv["id"], "sent"), timeout=30)
    assert (sent["status"], sent["refunded"], sent["balance"]) == ("issued", "80.00", "80.00")
    assert len(stripe.refunds) == 1
    # A sent refund cannot be retried
    assert http.post(f"/api/v1/billing/invoices/{inv['id']}/refunds/{refund['id']}/retry").status_code == 409
