"""MercadoPagoClient against the fake Mercado Pago over real sockets, and x-signature checks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from retaguarda.billing import boleto, pix
from retaguarda.billing.gateways import PermanentGatewayError, TransientGatewayError, WebhookSignatureError
from retaguarda.billing.gateways.mercadopago import (
    MercadoPagoClient,
    json_body,
    sign_mercadopago,
    signature_manifest,
    verify_mercadopago_signature,
)

SECRET = "mp_test_secret"


def client(fake, sleeps, **kwargs) -> MercadoPagoClient:
    return MercadoPagoClient(fake.base_url, kwargs.pop("token", "TEST-fake-token"),
                             timeout=kwargs.pop("timeout", 5),
                             backoff=0.1, sleep=sleeps, **kwargs)


def pix_payment(c: MercadoPagoClient, key: str = "inv-1:pix:1", amount: Decimal = Decimal("129.90")):
    return c.create_pix_payment(amount=amount, description="Invoice 2026-000042",
                                payer_email="maria@example.com",
                                external_reference="inv-1", idempotency_key=key)


def test_pix_payment_sends_the_documented_request_and_returns_the_copy_paste_code(fake_mp, sleeps):
    payment = pix_payment(client(fake_mp, sleeps))

    [call] = fake_mp.calls_to("POST", "/v1/payments")
    assert call.header("x-idempotency-key") == "inv-1:pix:1"
    assert call.header("authorization") == "Bearer TEST-fake-token"
    assert b'"transaction_amount": 129.90' in call.body  # written from the Decimal, not a float
    body = call.json()
    assert body["payment_method_id"] == "pix" and body["external_reference"] == "inv-1"
    assert body["payer"] == {"email": "maria@example.com"}
    assert payment["status"] == "pending" and payment["paid"] is False
    assert payment["amount"] == Decimal("129.90")
    parsed = pix.parse_brcode(payment["qr_code"])  # a valid (dynamic) BR Code from the provider
    assert parsed["amount"] == Decimal("129.90") and parsed["dynamic"]
    assert payment["qr_code_base64"] and payment["ticket_url"].startswith(fake_mp.base_url)


def test_idempotency_key_returns_the_same_payment(fake_mp, sleeps):
    c = client(fake_mp, sleeps)
    assert pix_payment(c)["id"] == pix_payment(c)["id"]
    assert len(fake_mp.payments) == 1
    assert pix_payment(c, key="inv-1:pix:2")["id"] != pix_payment(c)["id"]


def test_boleto_payment_returns_a_line_whose_check_digits_verify(fake_mp, sleeps):
    payment = client(fake_mp, sleeps).create_boleto_payment(
        amount=Decimal("89.90"), description="Invoice 7", payer_email="joao@example.com",
        payer_first_name="João",
        payer_last_name="Silva", payer_document="529.982.247-25",
        payer_address={"zip_code": "12210000", "street_name": "Rua A", "street_number": "1",
                       "neighborhood": "Centro", "city": "São José dos Campos", "federal_unit": "SP"},
        external_reference="inv-7", idempotency_key="inv-7:boleto:1")

    body = fake_mp.calls_to("POST", "/v1/payments")[0].json()
    assert body["payment_method_id"] == "bolbradesco"
    assert body["payer"]["identification"] == {"type": "CPF", "number": "52998224725"}
    assert body["payer"]["address"]["federal_unit"] == "SP"
    assert len(payment["digitable_line"]) == 47 and len(payment["barcode"]) == 44
    parsed = boleto.parse_digitable_line(payment["digitable_line"])
    assert parsed.amount == Decimal("89.90") and parsed.bank_code == "237"
    assert parsed.barcode == payment["barcode"]


def test_get_payment_reflects_approval(fake_mp, sleeps):
    c = client(fake_mp, sleeps)
    created = pix_payment(c)
    assert c.get_payment(created["id"])["paid"] is False
    fake_mp.approve(created["id"], notify=False)
    now = c.get_payment(created["id"])
    assert now["status"] == "approved" and now["paid"] is True and now["date_approved"]
    assert now["external_reference"] == "inv-1" and now["amount"] == Decimal("129.90")
    with pytest.raises(PermanentGatewayError) as err:
        c.get_payment("999")
    assert err.value.status == 404
    with pytest.raises(ValueError):
        c.get_payment("../v1/other")


def test_faults_are_classified_and_retried(fake_mp, sleeps):
    c = client(fake_mp, sleeps)
    fake_mp.fail_next(500)
    fake_mp.fail_next(429, retry_after=2)
    payment = pix_payment(c)
    assert payment["id"] in fake_mp.payments and len(fake_mp.payments) == 1
    assert sleeps == [0.1, 2.0]
    keys = {call.header("x-idempotency-key") for call in fake_mp.calls_to("POST", "/v1/payments")}
    assert keys == {"inv-1:pix:1"}

    fake_mp.fail_next(502, times=3)
    with pytest.raises(TransientGatewayError):
        pix_payment(c, key="other")
    with pytest.raises(PermanentGatewayError) as err:
        pix_payment(client(fake_mp, sleeps, token="TEST-wrong"))
    assert err.value.status == 401


def test_amounts_that_round_to_zero_are_refused_locally(fake_mp, sleeps):
    with pytest.raises(ValueError):
        pix_payment(client(fake_mp, sleeps), amount=Decimal("0.001"))
    assert fake_mp.calls == []


def test_json_body_writes_decimals_exactly():
    assert json.loads(json_body({"a": Decimal("0.10")})) == {"a": 0.1}
    assert json_body({"a": Decimal("1234567.89"), "b": ["x"]}) == b'{"a": 1234567.89, "b": ["x"]}'


# --- x-signature --------------------------------------------------------------------------------

REQUEST_ID = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"
TS_MS = "1742505638683"
AT_TS = datetime.fromtimestamp(1742505638.683, timezone.utc)


def test_reference_signature_vector():
    assert signature_manifest(data_id="123456789", x_request_id=REQUEST_ID, ts=TS_MS) == (
        "id:123456789;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1742505638683;")
    header = sign_mercadopago(data_id="123456789", x_request_id=REQUEST_ID, ts=TS_MS, secret=SECRET)
    assert header == "ts=1742505638683,v1=965dc905f10654d792629f4706bf1697243412604df7863abc3533ea30d269ef"
    verify_mercadopago_signature(x_signature=header, x_request_id=REQUEST_ID, data_id="123456789",
                                 secret=SECRET,
                                 now=AT_TS)


def test_seconds_timestamps_are_accepted_too():
    ts = "1742505638"
    header = sign_mercadopago(data_id="42", x_request_id=REQUEST_ID, ts=ts, secret=SECRET)
    verify_mercadopago_signature(x_signature=header, x_request_id=REQUEST_ID, data_id="42", secret=SECRET,
                                 now=datetime.fromtimestamp(1742505640, timezone.utc))


def test_alphanumeric_ids_are_signed_lowercase():
    header = sign_mercadopago(data_id="ORD01ABC", x_request_id=REQUEST_ID, ts=TS_MS, secret=SECRET)
    assert "id:ord01abc;" in signature_manifest(data_id="ORD01ABC", x_request_id=REQUEST_ID, ts=TS_MS)
    verify_mercadopago_signature(x_signature=header, x_request_id=REQUEST_ID, data_id="ORD01ABC",
                                 secret=SECRET,
                                 now=AT_TS)


GOOD = sign_mercadopago(data_id="123456789", x_request_id=REQUEST_ID, ts=TS_MS, secret=SECRET)


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"x_signature": sign_mercadopago(data_id="123456789", x_request_id=REQUEST_ID, ts=TS_MS,
                                      secret="forged")},
     "does not match"),
    ({"data_id": "123456780"}, "does not match"),  # signature of another payment
    ({"x_request_id": "11111111-2222-3333-4444-555555555555"}, "does not match"),
    ({"now": AT_TS + timedelta(seconds=301)}, "tolerance"),
    ({"now": AT_TS - timedelta(seconds=301)}, "future"),
    ({"x_signature": "v1=abc"}, "ts="),
    ({"x_signature": f"ts={TS_MS}"}, "ts="),
    ({"x_request_id": ""}, "required"),
    ({"secret": ""}, "secret"),
])
def test_forged_stale_and_incomplete_notifications_are_rejected(overrides, reason):
    args = {"x_signature": GOOD, "x_request_id": REQUEST_ID, "data_id": "123456789", "secret": SECRET,
            "now": AT_TS} | overrides
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_mercadopago_signature(**args)


def test_notifications_from_the_fake_verify_unless_forged_or_stale(fake_mp, sink, sleeps):
    payment = pix_payment(client(fake_mp, sleeps))
    fake_mp.approve(payment["id"])
    fake_mp.notify(payment["id"], secret="attacker")
    fake_mp.notify(payment["id"], ts=str(int((datetime.now(timezone.utc).timestamp() - 3600) * 1000)))

    outcomes = []
    for post in sink.posts():
        assert post.query["type"] == "payment"
        assert post.json()["data"]["id"] == post.query["data.id"] == payment["id"]
        try:
            verify_mercadopago_signature(x_signature=post.header("x-signature"),
                                         x_request_id=post.header("x-request-id"),
                                         data_id=post.query["data.id"],
                                         secret=SECRET, now=datetime.now(timezone.utc))
            outcomes.append("ok")
        except WebhookSignatureError:
            outcomes.append("rejected")
    assert outcomes == ["ok", "rejected", "rejected"]
