"""Defect 10 (#20): a refund is money going back, not a debt coming back (docs/billing.md, Refunds).

A 1.00 refund on a paid invoice used to reopen it; the next billing run marked it overdue and
blocked the customer."""

from __future__ import annotations

from typing import Any

from tests.billing.conftest import PIX_SETTINGS


def test_a_refund_on_a_paid_invoice_does_not_reopen_it_nor_block_the_customer(
        client: Any, admin: dict[str, str], customer_id: str) -> None:
    assert client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS).status_code == 200
    created = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-11-10",
        "items": [{"description": "Internet 300 Mb", "unit_price": "100.00"}]})
    assert created.status_code == 201, created.text
    invoice = created.json()["id"]
    assert client.post(f"/api/v1/billing/invoices/{invoice}/issue", headers=admin).status_code == 200
    paid = client.post(f"/api/v1/billing/invoices/{invoice}/payments", headers=admin,
                       json={"amount": "100.00", "method": "pix", "paid_at": "2026-11-05"})
    assert paid.status_code in (200, 201), paid.text
    payment = paid.json()["payments"][0]["id"]
    # When 1.00 goes back to the customer
    refunded = client.post(f"/api/v1/billing/invoices/{invoice}/refunds", headers=admin,
                           json={"payment_id": payment, "amount": "1.00"})
    assert refunded.status_code in (200, 201), refunded.text
    view = refunded.json()
    # Then the invoice stays paid, with nothing owed and the refund visible
    assert (view["status"], view["balance"], view["refunded"]) == ("paid", "0.00", "1.00")
    # And a billing run long after the due date neither marks it overdue nor blocks the customer
    run = client.post("/api/v1/billing/runs", headers=admin, json={"date": "2026-12-31"})
    assert run.status_code == 200, run.text
    assert (run.json()["overdue"], run.json()["blocked"]) == (0, 0)
    after = client.get(f"/api/v1/billing/invoices/{invoice}", headers=admin).json()
    assert (after["status"], after["balance"]) == ("paid", "0.00")
    # And the payment can give back at most what is left of it
    too_much = client.post(f"/api/v1/billing/invoices/{invoice}/refunds", headers=admin,
                           json={"payment_id": payment, "amount": "99.01"})
    assert too_much.status_code == 422 and too_much.json()["field"] == "amount"
