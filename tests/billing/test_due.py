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
