"""The contracts API over HTTP with real logins: the acceptance interfaces end to end (template →
contract → e-mailed link → signature → active + billing subscription → amend → PDF → cancel with
fee), validation problems and permissions."""

from __future__ import annotations

import io
import re
import time
from datetime import date

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.e2e


def _wait(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def _contract(client, headers, cws, **over):
    body = {"customer_id": cws.ws.customers[0], "plan_id": cws.plan_id, "template_id": cws.template_id,
            "start_date": date.today().isoformat(), "loyalty_months": 12, "auto_renew": True, **over}
    r = client.post("/api/v1/contracts", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_template_with_unknown_placeholder_or_bad_syntax_is_422_naming_body(client, as_):
    h = as_("admin")
    r = client.post("/api/v1/contracts/templates", headers=h, json={"name": "x", "body": "Olá {{ cliente.nome }}"})
    assert r.status_code == 201 and r.json()["id"]
    for body in ("Olá {{ cliente.apelido }}", "Olá {{ desconhecido }}", "{% if %}", "{{ cliente.__class__ }}",
                 "{{ cliente._fields }}", "{{ cliente.nome.__class__.__mro__ }}"):
        r = client.post("/api/v1/contracts/templates", headers=h, json={"name": "x", "body": body})
        assert r.status_code == 422, (body, r.text)
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "body" in str(problem), problem
    listed = client.get("/api/v1/contracts/templates", headers=h).json()["items"]
    assert [t["name"] for t in listed].count("x") == 1


def test_sign_by_link_activates_and_billing_subscribes_then_amend_pdf_cancel(client, live_container, cws, as_):
    h = as_("admin")
    created = _contract(client, h, cws)
    assert created["number"] == "CT-000001" and created["status"] == "draft" and created["version"] == 1
    assert "Cliente Um" in created["text"] and "R$\xa099,90" in created["text"]
    assert _contract(client, h, cws, customer_id=cws.ws.customers[1])["number"] == "CT-000002"
    cid = created["id"]
    # Send for signature: the e-mail carries the same link as the answer
    r = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h)
    assert r.status_code == 200, r.text
    url = r.json()["signing_url"]
    assert url.startswith(live_container.settings.base_url.rstrip("/") + "/contracts/sign/")
    mails = _wait(lambda: [m for m in live_container.mailer.all_stored() if url in m["text"]])
    assert len(mails) == 1 and mails[0]["to"] == "c0@a.test"
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    forms = re.findall(r'<form[^>]*action="([^"]+)"', page.text)
    sign_forms = [f for f in forms if f != "/logout"]
    assert sign_forms == ["/" + path]
    signed = client.post("/" + path, data={"name": "Cliente Um", "document": "529.982.247-25", "accept": "on"},
                         headers={"User-Agent": "pytest-browser/1.0"})
    assert signed.status_code in (200, 303), signed.text
    one = client.get(f"/api/v1/contracts/{cid}", headers=h).json()
    assert one["status"] == "active"
    sig = one["signature"]
    assert sig["name"] == "Cliente Um" and sig["signed_at"] and len(sig["sha256"]) == 64
    assert sig["user_agent"] == "pytest-browser/1.0" and sig["ip"]
    # The evidence hash is the SHA-256 of the exact PDF shown for signing (version 1 without the record page)
    full = client.get(f"/api/v1/contracts/{cid}/pdf", headers=h)
    assert full.status_code == 200 and full.headers["content-type"].startswith("application/pdf")
    pages = PdfReader(io.BytesIO(full.content)).pages
    assert "Cliente Um" in pages[-1].extract_text() and sig["pdf_sha256"] in pages[-1].extract_text().replace("\n", "")
    # Billing follows: an active subscription for the customer
    subs = _wait(lambda: [s for s in client.get(f"/api/v1/billing/subscriptions?customer={cws.ws.customers[0]}",
                                                headers=h).json()["items"] if s["status"] == "active"])
    assert len(subs) == 1 and subs[0]["plan_id"] == cws.plan_id
    assert _wait(lambda: client.get(f"/api/v1/contracts/{cid}", headers=h).json()["subscription_id"]) == subs[0]["id"]
    # The link is single use
    again = client.post("/" + path, data={"name": "Cliente Um", "document": "52998224725", "accept": "on"})
    assert 400 <= again.status_code < 500
    assert client.get("/" + path).status_code in (404, 409, 410)
    # Amend the price: version 2; version 1 stays as it was; PDFs of both
    r = client.post(f"/api/v1/contracts/{cid}/amend", headers=h, json={"price": "109.90", "note": "reajuste"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["price"] == "109.90"
    v1 = client.get(f"/api/v1/contracts/{cid}/versions/1", headers=h).json()
    assert v1["price"] == "99.90" and "R$\xa099,90" in v1["text"] and v1["signed"] is True
    v2 = client.get(f"/api/v1/contracts/{cid}/versions/2", headers=h).json()
    assert "R$\xa0109,90" in v2["text"] and v2["changes"]["price"] == ["99.90", "109.90"]
    assert client.get(f"/api/v1/contracts/{cid}/versions/3", headers=h).status_code == 404
    pdf1 = client.get(f"/api/v1/contracts/{cid}/pdf?version=1", headers=h)
    assert pdf1.content == full.content
    pdf2 = client.get(f"/api/v1/contracts/{cid}/pdf", headers=h)
    assert pdf2.headers["content-type"].startswith("application/pdf") and pdf2.content != pdf1.content
    # Cancel in the first month: the whole loyalty fee (12 of 12 months left) = one monthly price
    r = client.post(f"/api/v1/contracts/{cid}/cancel", headers=h, json={"reason": "mudança de cidade"})
    assert r.status_code == 200, r.text
    assert r.json()["cancellation_fee"] == "99.90" and r.json()["status"] == "cancelled"
    ended = _wait(lambda: [s for s in client.get(f"/api/v1/billing/subscriptions?customer={cws.ws.customers[0]}",
                                                 headers=h).json()["items"] if s["status"] == "cancelled"])
    assert ended
    fee_invoices = _wait(lambda: [i for i in client.get(f"/api/v1/billing/invoices?customer={cws.ws.customers[0]}",
                                                        headers=h).json()["items"] if i["total"] == "99.90"])
    assert fee_invoices
    # History lists the contract's events
    events = [e["type"] for e in client.get(f"/api/v1/audit/aggregates/{cid}", headers=h).json()["events"]]
    assert events[:1] == ["Contract.Created"] and "Contract.Signed" in events and "Contract.Cancelled" in events


def test_expired_link_is_refused(client, live_container, cws, as_):
    h = as_("admin")
    cid = _contract(client, h, cws)["id"]
    assert client.put("/api/v1/contracts/settings", headers=h, json={"link_hours": 1}).status_code == 200
    url = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h).json()["signing_url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    from datetime import timedelta

    from retaguarda.shared.clock import FixedClock

    real = live_container.clock
    live_container.clock = FixedClock(real.now() + timedelta(hours=2))
    try:
        r = client.post(path, data={"name": "Cliente Um", "document": "52998224725", "accept": "on"})
        assert (r.status_code == 410 and "expired" in r.text.lower()) or "expirou" in r.text.lower()
    finally:
        live_container.clock = real
    assert client.get(f"/api/v1/contracts/{cid}", headers=h).json()["status"] == "awaiting_signature"


def test_validation_permissions_and_filters(client, cws, as_):
    h = as_("admin")
    r = client.post("/api/v1/contracts", headers=h, json={"customer_id": "nope", "plan_id": "nope",
                                                          "template_id": cws.template_id, "start_date": "31/12/2026"})
    assert r.status_code == 422 or r.status_code == 400
    text = r.text
    assert "customer_id" in text and "plan_id" in text and "start_date" in text
    r = client.post("/api/v1/contracts", headers=h, json={"customer_id": cws.ws.customers[0], "plan_id": cws.plan_id,
                                                          "template_id": cws.template_id, "start_date": "2026-01-01",
                                                          "loyalty_months": 99, "price": "-1"})
    assert r.status_code in (400, 422) and "loyalty_months" in r.text and "price" in r.text
    assert client.get("/api/v1/contracts", headers=h).json()["total"] == 0
    c = _contract(client, h, cws, start_date="2026-01-10", loyalty_months=12)
    _contract(client, h, cws, start_date="2026-01-10", loyalty_months=0, customer_id=cws.ws.customers[1])
    # Paper activation: managers only, with a reason
    assert client.post(f"/api/v1/contracts/{c['id']}/activate", headers=as_("tech"), json={"reason": "x"}).status_code == 403
    assert client.post(f"/api/v1/contracts/{c['id']}/activate", headers=as_("manager"), json={}).status_code in (400, 422)
    r = client.post(f"/api/v1/contracts/{c['id']}/activate", headers=as_("manager"), json={"reason": "assinado na loja"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert client.post(f"/api/v1/contracts/{c['id']}/send-for-signature", headers=h).status_code == 409
    listed = client.get("/api/v1/contracts?status=active", headers=h).json()
    assert [x["number"] for x in listed["items"]] == ["CT-000001"]
    ending = client.get("/api/v1/contracts?ending_before=2027-01-10", headers=h).json()
    assert [x["number"] for x in ending["items"]] == ["CT-000001"]
    assert client.get("/api/v1/contracts?ending_before=2027-01-09", headers=h).json()["total"] == 0
    mine = client.get(f"/api/v1/contracts?customer={cws.ws.customers[1]}", headers=h).json()
    assert [x["number"] for x in mine["items"]] == ["CT-000002"] and mine["items"][0]["end_date"] is None
    assert client.get("/api/v1/contracts?ending_before=amanha", headers=h).status_code in (400, 422)
    assert client.get("/api/v1/contracts", headers=as_("customer")).status_code == 403
