"""The Clicksign adapter against its fake over real sockets: the envelope flow, provider faults, and
HMAC-signed webhooks — forged and replayed deliveries change nothing."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fakes.contracts import start_fake_clicksign

pytestmark = pytest.mark.e2e
SECRET = "whsec-contracts-test"


@pytest.fixture
def fake():
    f = start_fake_clicksign(token="cs-token", secret=SECRET)
    yield f
    f.stop()


def _setup(client, h, fake, cws):
    r = client.put("/api/v1/contracts/settings", headers=h, json={
        "provider": "clicksign", "clicksign_url": fake.base_url, "clicksign_token": "cs-token",
        "clicksign_webhook_secret": SECRET})
    assert r.status_code == 200, r.text
    assert r.json()["clicksign_token"] is True and r.json()["clicksign_webhook_secret"] is True  # never echoed
    body = {"customer_id": cws.ws.customers[0], "plan_id": cws.plan_id, "template_id": cws.template_id,
            "start_date": date.today().isoformat(), "loyalty_months": 12, "auto_renew": True}
    return client.post("/api/v1/contracts", headers=h, json=body).json()["id"]


def test_envelope_flow_and_signed_webhook_activates_once(client, fake, cws, as_):
    h = as_("admin")
    cid = _setup(client, h, fake, cws)
    r = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "clicksign" and r.json()["signing_url"] is None
    (envelope,) = fake.envelopes.values()
    assert envelope["status"] == "running" and len(envelope["documents"]) == 1
    assert {q["action"] for q in envelope["requirements"]} == {"agree", "provide_evidence"}
    assert envelope["signers"][0]["email"] == "c0@a.test"
    assert all(c.header("authorization") == "cs-token" for c in fake.calls)
    key = envelope["documents"][0]
    hook = f"/api/v1/contracts/webhooks/clicksign/{cws.ws.tenant_id}"
    body = fake.sign_body(key, name="Cliente Um", ip="203.0.113.9")
    # Forged: wrong secret, no header, a body changed after signing
    for headers, payload in (({"Content-Hmac": fake.hmac_of(body, "wrong")}, body), ({}, body),
                             ({"Content-Hmac": fake.hmac_of(body)}, body.replace(b"Cliente Um", b"Mallory"))):
        assert client.post(hook, content=payload, headers=headers).status_code == 401
    before = client.get(f"/api/v1/contracts/{cid}", headers=h).json()
    assert before["status"] == "awaiting_signature" and before["signature"] is None
    # Genuine delivery: signed, active, evidence from the provider
    r = client.post(hook, content=body, headers={"Content-Hmac": fake.hmac_of(body)})
    assert r.status_code == 200 and r.json()["result"] == "signed"
    after = client.get(f"/api/v1/contracts/{cid}", headers=h).json()
    assert after["status"] == "active" and after["signature"]["provider"] == "clicksign"
    assert after["signature"]["ip"] == "203.0.113.9" and after["signature"]["name"] == "Cliente Um"
    # Replayed: the same delivery again changes nothing
    r = client.post(hook, content=body, headers={"Content-Hmac": fake.hmac_of(body)})
    assert r.status_code == 200 and r.json()["result"] in ("duplicate", "not awaiting this document")
    events = client.get(f"/api/v1/audit/aggregates/{cid}", headers=h).json()["events"]
    assert [e["type"] for e in events].count("Contract.Signed") == 1
    # Another tenant's secret/URL cannot reach this contract
    assert client.post("/api/v1/contracts/webhooks/clicksign/other-tenant", content=body,
                       headers={"Content-Hmac": fake.hmac_of(body)}).status_code == 401


def test_provider_faults_record_nothing(client, fake, cws, as_):
    h = as_("admin")
    cid = _setup(client, h, fake, cws)
    fake.fail_next(503, path=r"/api/v3/envelopes")
    r = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h)
    assert r.status_code == 503 and r.headers.get("retry-after") == "30"
    fake.fail_next(422, path=r"/api/v3/envelopes/.*/signers", body={"errors": [{"title": "bad email"}]})
    r = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h)
    assert r.status_code == 502
    assert client.get(f"/api/v1/contracts/{cid}", headers=h).json()["status"] == "draft"
    r = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "awaiting_signature"
