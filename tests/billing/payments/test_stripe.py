"""StripeClient against the fake Stripe over real sockets, and Stripe-Signature verification."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import pytest

from retaguarda.billing.gateways import (
    GatewayError,
    PermanentGatewayError,
    TransientGatewayError,
    WebhookSignatureError,
)
from retaguarda.billing.gateways.stripe import (
    StripeClient,
    form_encode,
    sign_stripe_payload,
    verify_stripe_signature,
)
from retaguarda.integrations.errors import PermanentError, TransientError

SECRET = "whsec_test_secret"


def client(fake, sleeps, **kwargs) -> StripeClient:
    return StripeClient(fake.base_url, kwargs.pop("api_key", "sk_test_fake"), timeout=kwargs.pop("timeout",
                                                                                                 5),
                        backoff=0.1, sleep=sleeps, **kwargs)


def new_session(c: StripeClient, key: str = "inv-1:checkout:1", invoice_id: str = "inv-1",
                cents: int = 12990):
    return c.create_checkout_session(
        invoice_id=invoice_id, amount_cents=cents, description="Invoice 2026-000042",
        success_url="http://127.0.0.1/pay/ok?session={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1/pay",
        customer_email="maria@example.com", idempotency_key=key)


def test_checkout_session_is_created_with_the_documented_form_and_headers(fake_stripe, sleeps):
    session = new_session(client(fake_stripe, sleeps))

    assert session["id"].startswith("cs_") and session["url"].endswith(session["id"])
    assert session["amount_total"] == 12990 and session["payment_status"] == "unpaid"
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    form = call.form()
    assert call.header("idempotency-key") == "inv-1:checkout:1"
    assert call.header("content-type").startswith("application/x-www-form-urlencoded")
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "brl"
    assert form["line_items[0][price_data][unit_amount]"] == "12990"
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == "inv-1" and form["metadata[invoice_id]"] == "inv-1"
    assert form["payment_intent_data[metadata][invoice_id]"] == "inv-1"
    assert form["success_url"].endswith("{CHECKOUT_SESSION_ID}")


def test_form_encoding_nests_like_stripe():
    assert form_encode({"a": {"b": [{"c": 1}, "x"]}, "skip": None, "flag": True}) == [
        ("a[b][0][c]", "1"), ("a[b][1]", "x"), ("flag", "true")]


def test_same_idempotency_key_replays_the_same_session(fake_stripe, sleeps):
    c = client(fake_stripe, sleeps)
    first, again = new_session(c), new_session(c)
    assert first["id"] == again["id"]
    assert len(fake_stripe.sessions) == 1
    with pytest.raises(PermanentGatewayError) as err:
        new_session(c, cents=5000)  # same key, other parameters
    assert err.value.status == 400 and err.value.code == "idempotency_error"


def test_server_errors_are_retried_with_the_same_key_then_succeed(fake_stripe, sleeps):
    fake_stripe.fail_next(500, times=2)
    session = new_session(client(fake_stripe, sleeps))

    calls = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert len(calls) == 3 and {c.header("idempotency-key") for c in calls} == {"inv-1:checkout:1"}
    assert len(fake_stripe.sessions) == 1 and session["id"] in fake_stripe.sessions
    assert sleeps == [0.1, 0.2]


def test_rate_limit_honours_retry_after(fake_stripe, sleeps):
    fake_stripe.fail_next(429, retry_after=3)
    new_session(client(fake_stripe, sleeps))
    assert sleeps == [3.0]


def test_transient_faults_that_persist_raise_a_transient_error(fake_stripe, sleeps):
    fake_stripe.fail_next(503, times=5, retry_after=1)
    with pytest.raises(TransientGatewayError) as err:
        new_session(client(fake_stripe, sleeps, max_retries=2))
    assert isinstance(err.value, TransientError) and err.value.transient
    assert err.value.status == 503 and err.value.retry_after == 1.0
    assert len(fake_stripe.calls_to("POST", "/v1/checkout/sessions")) == 3
    assert fake_stripe.sessions == {}


def test_timeouts_and_dropped_connections_are_transient(fake_stripe, sleeps):
    fake_stripe.fail_next(delay=1.0)
    fake_stripe.fail_next(drop=True)
    session = new_session(client(fake_stripe, sleeps, timeout=0.3))
    assert session["id"] in fake_stripe.sessions
    assert len(sleeps) == 2


def test_connection_refused_is_transient(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = StripeClient(f"http://127.0.0.1:{port}", "sk_test_fake", timeout=1, max_retries=1, sleep=sleeps)
    with pytest.raises(TransientGatewayError):
        new_session(c)
    assert len(sleeps) == 1


def test_a_garbled_answer_is_retried_and_the_key_replays_the_stored_session(fake_stripe, sleeps):
    c = client(fake_stripe, sleeps)
    first = new_session(c)
    fake_stripe.fail_next(malformed=True)
    again = new_session(c)  # first try garbled, second replays
    assert again["id"] == first["id"] and len(fake_stripe.sessions) == 1


def test_client_errors_are_permanent_and_not_retried(fake_stripe, sleeps):
    with pytest.raises(PermanentGatewayError) as err:
        new_session(client(fake_stripe, sleeps, api_key="sk_test_wrong"))
    assert isinstance(err.value, PermanentError) and err.value.status == 401 and sleeps == []
    assert len(fake_stripe.calls_to("POST", "/v1/checkout/sessions")) == 1
    with pytest.raises(PermanentGatewayError) as missing:
        client(fake_stripe, sleeps).retrieve_session("cs_test_missing")
    assert missing.value.status == 404 and missing.value.code == "resource_missing"


def test_gateway_error_picks_its_kind():
    assert isinstance(GatewayError("x", transient=True), TransientGatewayError)
    assert isinstance(GatewayError("x", transient=False), PermanentGatewayError)
    assert GatewayError("x", transient=True, retry_after=2).retry_after == 2


def test_bad_amounts_and_keys_never_leave_the_process(fake_stripe, sleeps):
    c = client(fake_stripe, sleeps)
    for cents in (0, -5, 12.5):
        with pytest.raises(ValueError):
            new_session(c, cents=cents)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        new_session(c, key="")
    assert fake_stripe.calls == []


def test_paying_delivers_a_signed_completed_event_that_verifies(fake_stripe, sink, sleeps):
    c = client(fake_stripe, sleeps)
    session = new_session(c)
    fake_stripe.pay(session["id"])

    [post] = sink.posts()
    event = verify_stripe_signature(post.body, post.header("stripe-signature"), SECRET,
                                    datetime.now(timezone.utc))
    assert event["type"] == "checkout.session.completed"
    obj = event["data"]["object"]
    assert obj["id"] == session["id"] and obj["payment_status"] == "paid"
    assert obj["metadata"]["invoice_id"] == "inv-1" and obj["amount_total"] == 12990
    assert c.retrieve_session(session["id"])["payment_status"] == "paid"


def test_refunds_partial_then_rest_then_refused(fake_stripe, sleeps):
    c = client(fake_stripe, sleeps)
    session = new_session(c)
    fake_stripe.pay(session["id"], deliver=False)
    pi = c.retrieve_session(session["id"])["payment_intent"]

    part = c.create_refund(payment_intent=pi, amount_cents=2990, idempotency_key="refund-1")
    assert part["status"] == "succeeded" and part["amount"] == 2990
    assert c.create_refund(payment_intent=pi, amount_cents=2990,
                           idempotency_key="refund-1")["id"] == part["id"]
    rest = c.create_refund(payment_intent=pi, amount_cents=None, idempotency_key="refund-2")
    assert rest["amount"] == 10000
    with pytest.raises(PermanentGatewayError) as err:
        c.create_refund(payment_intent=pi, amount_cents=1, idempotency_key="refund-3")
    assert err.value.code == "charge_already_refunded"
    assert [c.header("idempotency-key") for c in fake_stripe.calls_to("POST", "/v1/refunds")] == [
        "refund-1", "refund-1", "refund-2", "refund-3"]


# --- Stripe-Signature ---------------------------------------------------------------------------

BODY = b'{"id":"evt_test","type":"checkout.session.completed"}'
T = 1700000000
AT_T = datetime.fromtimestamp(T, timezone.utc)


def test_reference_signature_vector():
    header = "t=1700000000,v1=715369d9e69ebcb0b7e62a81bd79bfd0825e4a0f25a4577924dd7017a7eac01e"
    assert sign_stripe_payload(BODY, SECRET, T) == header
    assert verify_stripe_signature(BODY, header, SECRET, AT_T + timedelta(seconds=299))["id"] == "evt_test"


def test_any_v1_may_match_during_secret_rotation():
    good = sign_stripe_payload(BODY, SECRET, T).split(",")[1]
    header = f"t={T},v0=ignored,v1={'0' * 64},{good}"
    assert verify_stripe_signature(BODY, header, SECRET, AT_T)["type"] == "checkout.session.completed"


@pytest.mark.parametrize(("body", "header", "secret", "now", "reason"), [
    (BODY, sign_stripe_payload(BODY, "whsec_forged", T), SECRET, AT_T, "match"),
    (BODY.replace(b"evt_test", b"evt_evil"), sign_stripe_payload(BODY, SECRET, T), SECRET, AT_T, "match"),
    (BODY, sign_stripe_payload(BODY, SECRET, T), SECRET, AT_T + timedelta(seconds=301), "tolerance"),
    (BODY, sign_stripe_payload(BODY, SECRET, T), SECRET, AT_T - timedelta(seconds=400), "future"),
    (BODY, "", SECRET, AT_T, "timestamp"),
    (BODY, f"t={T}", SECRET, AT_T, "no v1"),
    (BODY, f"t=abc,v1={'a' * 64}", SECRET, AT_T, "timestamp"),
    (BODY, sign_stripe_payload(BODY, SECRET, T), "", AT_T, "secret"),
    (b"not json", sign_stripe_payload(b"not json", SECRET, T), SECRET, AT_T, "JSON"),
    (b'{"a":1}', sign_stripe_payload(b'{"a":1}', SECRET, T), SECRET, AT_T, "not a Stripe event"),
])
def test_forged_stale_and_malformed_deliveries_are_rejected(body, header, secret, now, reason):
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_stripe_signature(body, header, secret, now)


def test_reserialised_json_does_not_verify():
    header = sign_stripe_payload(BODY, SECRET, T)
    reserialised = json.dumps(json.loads(BODY)).encode()  # spaces after separators
    with pytest.raises(WebhookSignatureError):
        verify_stripe_signature(reserialised, header, SECRET, AT_T)


def test_forged_and_stale_deliveries_from_the_fake_fail_verification(fake_stripe, sink, sleeps):
    session = new_session(client(fake_stripe, sleeps))
    event = fake_stripe.pay(session["id"], deliver=False)
    fake_stripe.deliver(event, secret="whsec_attacker")
    fake_stripe.deliver(event, timestamp=int(datetime.now(timezone.utc).timestamp()) - 3600)
    fake_stripe.deliver(event)
    now = datetime.now(timezone.utc)
    outcomes = []
    for post in sink.posts():
        try:
            verify_stripe_signature(post.body, post.header("stripe-signature"), SECRET, now)
            outcomes.append("ok")
        except WebhookSignatureError:
            outcomes.append("rejected")
    assert outcomes == ["rejected", "rejected", "ok"]


def test_the_hosted_page_pays_delivers_the_webhook_and_redirects_to_success(fake_stripe, sink, sleeps):
    import httpx

    session = new_session(client(fake_stripe, sleeps))
    page = httpx.get(session["url"])
    assert page.status_code == 200 and 'data-testid="fake-stripe-pay"' in page.text and "R$ 129,90" in page.text

    answer = httpx.post(f"{fake_stripe.base_url}/checkout/{session['id']}/pay", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://127.0.0.1/pay/ok?session={session['id']}"
    [post] = sink.posts()
    event = verify_stripe_signature(post.body, post.header("stripe-signature"), SECRET, datetime.now(timezone.utc))
    assert event["data"]["object"]["id"] == session["id"]
    assert 'data-testid="fake-stripe-paid"' in httpx.get(session["url"]).text


def test_a_long_retry_after_is_not_slept_through_in_process(fake_stripe, sleeps):
    fake_stripe.fail_next(429, retry_after=120)
    with pytest.raises(TransientGatewayError) as err:
        new_session(client(fake_stripe, sleeps))
    assert err.value.retry_after == 120.0 and sleeps == []
    assert len(fake_stripe.calls_to("POST", "/v1/checkout/sessions")) == 1
