"""HTML pages with a session cookie: list with filters and empty state, new-contract form errors, the
contract page (actions, versions, side-by-side diff, evidence, History link), the template editor
(preview for a customer, 422 naming the body), and the public signing page (no inline JS)."""

from __future__ import annotations

import re

import pytest

from tests.support.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client, email):
    page = client.get("/login?next=/contracts")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/contracts",
                                    "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_staff_create_amend_compare_and_send_through_the_pages(client, cws):
    _login(client, cws.ws.emails["manager"])
    assert 'data-testid="contracts-empty"' in client.get("/contracts").text
    form = client.get("/contracts/new").text
    token = _csrf(form)
    bad = client.post("/contracts/new", data={"_csrf_token": token, "customer_id": cws.ws.customers[0],
                                              "plan_id": cws.plan_id, "template_id": cws.template_id,
                                              "start_date": "31/02/2026", "loyalty_months": "12", "due_day": "10"})
    assert bad.status_code == 422 and "dd/mm/aaaa" in bad.text
    r = client.post("/contracts/new", data={"_csrf_token": token, "customer_id": cws.ws.customers[0],
                                            "plan_id": cws.plan_id, "template_id": cws.template_id,
                                            "start_date": "05/01/2026", "price": "89,90", "loyalty_months": "12",
                                            "due_day": "10", "auto_renew": "on"}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    page_url = r.headers["location"]
    html = client.get(page_url).text
    assert "CT-000001" in html and "R$\xa089,90" in html and "05/01/2026" in html
    assert 'data-testid="history-tab"' not in html  # a manager has no audit:read
    r = client.post(page_url + "/actions", data={"_csrf_token": _csrf(html), "action": "amend", "price": "99,90",
                                                 "note": "reajuste anual"}, follow_redirects=True)
    assert r.status_code == 200
    html = client.get(page_url + "?a=1&b=2").text
    diff = html.split('data-testid="version-diff"', 1)[1]
    assert "ct-changed" in diff and "R$\xa089,90" in diff and "R$\xa099,90" in diff
    r = client.post(page_url + "/actions", data={"_csrf_token": _csrf(html), "action": "send"}, follow_redirects=True)
    assert 'data-testid="signing-url"' in r.text and "/contracts/sign/" in r.text
    listed = client.get("/contracts?status=awaiting_signature").text
    assert "CT-000001" in listed
    assert "CT-000001" not in client.get("/contracts?status=active").text
    # Cancel without a reason: the page says why and nothing changed
    r = client.post(page_url + "/actions", data={"_csrf_token": _csrf(html), "action": "cancel", "reason": ""},
                    follow_redirects=True)
    assert "reason is required" in r.text and 'data-testid="contract-status"' in r.text


def test_template_editor_previews_for_a_customer_and_refuses_unknown_placeholders(client, cws):
    _login(client, cws.ws.emails["admin"])
    html = client.get("/contracts/templates/new").text
    token = _csrf(html)
    r = client.post("/contracts/templates/editor", data={
        "_csrf_token": token, "name": "Curto", "body": "Contrato de {{ cliente.nome }} por {{ preco }}",
        "customer_id": cws.ws.customers[1], "do": "preview"})
    assert r.status_code == 200 and "Contrato de Cliente Dois por R$\xa099,90" in r.text
    r = client.post("/contracts/templates/editor", data={
        "_csrf_token": token, "name": "Curto", "body": "{{ cliente.__class__ }}", "do": "save"})
    assert r.status_code == 422 and 'data-testid="body-error"' in r.text
    r = client.post("/contracts/templates/editor", data={
        "_csrf_token": token, "name": "Curto", "body": "Contrato de {{ cliente.nome }}", "do": "save"},
        follow_redirects=True)
    assert r.status_code == 200 and "Curto" in r.text


def test_signing_page_is_public_has_one_form_and_no_inline_script(client, cws, as_):
    h = as_("admin")
    body = {"customer_id": cws.ws.customers[0], "plan_id": cws.plan_id, "template_id": cws.template_id,
            "start_date": "2026-01-05", "loyalty_months": 12, "auto_renew": True}
    cid = client.post("/api/v1/contracts", headers=h, json=body).json()["id"]
    url = client.post(f"/api/v1/contracts/{cid}/send-for-signature", headers=h).json()["signing_url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200
    assert page.text.count("<form") == 1 and f'action="{path}"' in page.text
    assert not re.search(r"\son[a-z]+=", page.text) and "<script>" not in page.text
    pdf = client.get(path + "/pdf")
    assert pdf.headers["content-type"].startswith("application/pdf")
    r = client.post(path, data={"name": "Cliente Um", "document": "52998224725"})  # not accepted
    assert r.status_code == 422
    assert client.get(f"/api/v1/contracts/{cid}", headers=h).json()["status"] == "awaiting_signature"
    assert client.get("/contracts/sign/not-a-token").status_code == 404
