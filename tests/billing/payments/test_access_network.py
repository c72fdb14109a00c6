"""The access-network webhook adapter against the fake receiver, and the receiver-side verifier."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from retaguarda.billing.access_network import (
    AccessNetworkWebhook,
    sign_access_payload,
    verify_access_signature,
)
from retaguarda.billing.gateways import PermanentGatewayError, TransientGatewayError, WebhookSignatureError

SECRET = "an-secret"


def adapter(receiver, sleeps, secret: str = SECRET, **kwargs) -> AccessNetworkWebhook:
    return AccessNetworkWebhook(receiver.url, secret, timeout=kwargs.pop("timeout", 5), backoff=0.2,
                                sleep=sleeps,
                                **kwargs)


def test_block_and_unblock_reach_the_receiver_signed(fake_network, sleeps):
    net = adapter(fake_network, sleeps)
    net.block(tenant_id="t1", customer_id="c1", reason="overdue invoice 42", event_id="evt-1")
    assert fake_network.blocked == {"c1": True}
    net.unblock(tenant_id="t1", customer_id="c1", event_id="evt-2")
    assert fake_network.blocked == {"c1": False}

    first, second = fake_network.received
    assert first == {"action": "block", "tenant_id": "t1", "customer_id": "c1",
                     "reason": "overdue invoice 42",
                     "event_id": "evt-1", "sent_at": first["sent_at"]}
    assert second["action"] == "unblock" and "reason" not in second
    call = fake_network.calls[0]
    assert call.header("x-retaguarda-event") == "block"
    assert call.header("x-retaguarda-event-id") == call.header("idempotency-key") == "evt-1"
    # The receiver-side verifier accepts what the adapter sent.
    message = verify_access_signature(call.body, call.header("x-retaguarda-signature"), SECRET,
                                      datetime.now(timezone.utc))
    assert message["customer_id"] == "c1"
    assert fake_network.rejected == [] and sleeps == []


def test_transient_receiver_faults_are_retried_with_backoff_and_the_same_bytes(fake_network, sleeps):
    fake_network.fail_next(503, times=2)
    fake_network.fail_next(429, retry_after=1)
    adapter(fake_network, sleeps).block(tenant_id="t1", customer_id="c9", reason="overdue", event_id="evt-9")

    assert fake_network.blocked == {"c9": True}
    assert sleeps == [0.2, 0.4, 1.0]
    bodies = {(c.body, c.header("x-retaguarda-signature")) for c in fake_network.calls}
    assert len(fake_network.calls) == 4 and len(bodies) == 1


def test_persistent_outage_raises_transient_so_the_job_retries_later(fake_network, sleeps):
    fake_network.fail_next(500, times=10)
    with pytest.raises(TransientGatewayError) as err:
        adapter(fake_network, sleeps, max_retries=3).block(tenant_id="t1", customer_id="c1", reason="x",
                                                           event_id="evt-1")
    assert err.value.status == 500 and len(fake_network.calls) == 4
    assert fake_network.received == []


def test_a_receiver_that_refuses_the_signature_is_a_permanent_error(fake_network, sleeps):
    with pytest.raises(PermanentGatewayError) as err:
        adapter(fake_network, sleeps, secret="wrong-secret").block(tenant_id="t1", customer_id="c1",
                                                                   reason="x",
                                                                    event_id="evt-1")
    assert err.value.status == 401 and sleeps == [] and len(fake_network.rejected) == 1
    assert fake_network.blocked == {}


def test_a_stale_clock_is_refused_by_the_receiver(fake_network, sleeps):
    late = lambda: datetime.now(timezone.utc) - timedelta(hours=1)  # noqa: E731
    with pytest.raises(PermanentGatewayError):
        adapter(fake_network, sleeps, clock=late).block(tenant_id="t1", customer_id="c1", reason="x",
                                                        event_id="evt-1")


def test_redelivery_of_an_event_is_applied_once(fake_network, sleeps):
    net = adapter(fake_network, sleeps)
    net.block(tenant_id="t1", customer_id="c1", reason="x", event_id="evt-1")
    net.block(tenant_id="t1", customer_id="c1", reason="x", event_id="evt-1")
    assert len(fake_network.received) == 1 and len(fake_network.duplicates) == 1


def test_timeouts_are_retried(fake_network, sleeps):
    fake_network.fail_next(delay=0.8)
    adapter(fake_network, sleeps, timeout=0.3).unblock(tenant_id="t1", customer_id="c1", event_id="evt-3")
    assert fake_network.blocked == {"c1": False} and len(sleeps) == 1


def test_the_secret_never_shows_and_is_required(fake_network, sleeps):
    net = adapter(fake_network, sleeps)
    assert SECRET not in repr(net)
    with pytest.raises(ValueError):
        AccessNetworkWebhook(fake_network.url, "")
    with pytest.raises(ValueError):
        net.block(tenant_id="t1", customer_id="c1", reason="x", event_id="")


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
BODY = json.dumps({"action": "block", "tenant_id": "t", "customer_id": "c", "reason": "r",
                   "event_id": "e"}).encode()


@pytest.mark.parametrize(("body", "header", "now", "reason"), [
    (BODY, sign_access_payload(BODY, "forged", int(NOW.timestamp())), NOW, "match"),
    (BODY.replace(b'"c"', b'"d"'), sign_access_payload(BODY, SECRET, int(NOW.timestamp())), NOW, "match"),
    (BODY, sign_access_payload(BODY, SECRET, int(NOW.timestamp())), NOW + timedelta(minutes=6), "tolerance"),
    (BODY, sign_access_payload(BODY, SECRET, int(NOW.timestamp())), NOW - timedelta(minutes=6), "future"),
    (BODY, "v1=00", NOW, "timestamp"),
    (b'{"action":"reboot"}', sign_access_payload(b'{"action":"reboot"}', SECRET, int(NOW.timestamp())), NOW,
     "block/unblock"),
])
def test_receiver_verifier_rejects_forged_stale_and_unknown_messages(body, header, now, reason):
    with pytest.raises(WebhookSignatureError, match=reason):
        verify_access_signature(body, header, SECRET, now)
