"""Stripe webhooks over HTTP: a signed delivery pays once; forged, stale and duplicate ones change nothing."""

from __future__ import annotations

import json
import time

import pytest

from retaguarda.billing.gateways.stripe import sign_stripe_payload
from tests.billing.conftest import PIX_SETTINGS

pytestmark = pytest.mark.e2e
SECRET = "whsec_test_secret"


def _event(invoice_id: str, event_id: str = "evt_1", intent: str = "pi_1", cents: int = 12000) -> bytes:
    return json.dumps({"id": event_id, "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_1", "payment_status": "paid", "amount_total": cents, "payment_intent": intent,
        "client_reference_id": invoice_id, "metadata": {"invoice_id": invoice_id}}}}).encode()


def _post(client, body: bytes, header: str):
    return client.post("/api/v1/billing/webhooks/stripe", content=body,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def test_signed_checkout_completed_pays_the_invoice_once(client, admin, customer_id, live_container):
    client.patch("/api/v1/billing/settings", headers=admin, json={**PIX_SETTINGS, "stripe_webhook_secret": SECRET})
    inv = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-12-10",
        "items": [{"description": "Plano", "unit_price": "120.00"}]}).json()
    client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin)
    body = _event(inv["id"])
    now = int(live_container.clock.now().timestamp())
    # Forged (wrong secret), stale (older than 5 minutes) and tampered deliveries change nothing
    head = live_container.store.head()
    assert _post(client, body, sign_stripe_payload(body, "whsec_wrong", now)).status_code == 400
    assert _post(client, body, sign_stripe_payload(body, SECRET, now - 301)).status_code == 400
    tampered = body.replace(b"12000", b"99999")
    assert _post(client, tampered, sign_stripe_payload(body, SECRET, now)).status_code == 400
    assert live_container.store.head() == head
    # A good delivery pays; the same event again, and another event for the same payment, do not
    r = _post(client, body, sign_stripe_payload(body, SECRET, now))
    assert r.status_code == 200 and r.json()["outcome"] == "recorded"
    assert _post(client, body, sign_stripe_payload(body, SECRET, now)).json()["outcome"] == "duplicate"
    other = _event(inv["id"], event_id="evt_2")
    assert _post(client, other, sign_stripe_payload(other, SECRET, now)).json()["outcome"] == "duplicate"
    view = client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()
    assert (view["status"], view["paid"], len(view["payments"])) == ("paid", "120.00", 1)
    assert view["payments"][0]["method"] == "card" and view["payments"][0]["reference"] == "pi_1"
    # The accepted event is recorded with its raw body
    from retaguarda.billing.domain import GatewayEvent, gateway_event_id

    recorded = live_container.store.get(gateway_event_id("stripe", "evt_1"))
    assert isinstance(recorded, GatewayEvent) and recorded.raw_body == body.decode()
    _ = time
