"""Defect 3: what each method charges for an overdue invoice. The PIX is re-encoded for the amount
due today (tag 54, CRC valid, same key/merchant/txid); the boleto line is grouped as printed."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from retaguarda.billing.due import group_digitable_line, pix_for_amount
from retaguarda.billing.pix import build_brcode, parse_brcode

ISSUED = {"brcode": build_brcode(key="financeiro@provedor.demo", merchant_name="Provedor Demo",
                                 merchant_city="Sao Paulo", amount=Decimal("67.67"), txid="abc123"),
          "txid": "abc123"}


@given(amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2))
def test_the_pix_is_re_encoded_for_the_amount_due_with_the_same_payee(amount: Decimal) -> None:
    pix = pix_for_amount(ISSUED, amount)
    assert pix is not None
    parsed, before = parse_brcode(pix["brcode"]), parse_brcode(ISSUED["brcode"])
    assert parsed["amount"] == amount
    assert (parsed["key"], parsed["merchant_name"], parsed["merchant_city"], parsed["txid"]) == \
        (before["key"], before["merchant_name"], before["merchant_city"], before["txid"])


def test_nothing_to_pay_means_no_pix_and_the_same_amount_keeps_the_code() -> None:
    assert pix_for_amount(ISSUED, Decimal("0.00")) is None
    assert pix_for_amount(ISSUED, Decimal("67.67"))["brcode"] == ISSUED["brcode"]


def test_the_boleto_line_is_grouped_as_printed_on_the_boleto() -> None:
    # gateways-payments.md 6.5-1: 10492.00650 61000.100042 00997.263900 9 89810000021403
    assert group_digitable_line("10492006506100010004200997263900989810000021403") == \
        "10492.00650 61000.100042 00997.263900 9 89810000021403"


def test_the_overdue_reminder_carries_a_pix_for_the_amount_it_says_is_due(client, admin, customer_id,
                                                                          live_container) -> None:
    """Defect 3: the reminder said one amount while its PIX code charged the issued one."""
    from uuid import UUID

    from tests.billing.conftest import PIX_SETTINGS

    assert client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS).status_code == 200
    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra 300M", "price": "99.90", "cycle": "monthly"}).json()
    assert client.post("/api/v1/billing/subscriptions", headers=admin, json={
        "customer_id": customer_id, "plan_id": plan["id"], "due_day": 10,
        "start_date": "2026-09-10"}).status_code == 201
    assert client.post("/api/v1/billing/runs", headers=admin, json={"date": "2026-10-25"}).status_code == 200
    invoices = client.get(f"/api/v1/billing/invoices?customer={customer_id}", headers=admin).json()["items"]
    checked = 0
    for item in invoices:
        for event in live_container.store.history(UUID(item["id"])):
            if type(event).__name__ != "ReminderSent":
                continue
            email = live_container.store.get(UUID(event.email_id))
            params = email.params
            assert params["brcode"], params
            assert parse_brcode(params["brcode"])["amount"] == Decimal(params["amount"]), params
            assert Decimal(params["amount"]) > Decimal(item["total"])  # overdue: fine and interest
            checked += 1
    assert checked >= 1, "the run sends an overdue reminder"
