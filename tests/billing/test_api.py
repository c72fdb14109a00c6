"""The billing API over HTTP with real logins: the contract fields, PIX/boleto, payments, runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retaguarda.billing.boleto import verify_digitable_line
from retaguarda.billing.pix import parse_brcode, verify_brcode
from tests.billing.conftest import PIX_SETTINGS, signup

pytestmark = pytest.mark.e2e


def _configure(client, admin):
    r = client.patch("/api/v1/billing/settings", headers=admin, json=PIX_SETTINGS)
    assert r.status_code == 200, r.text


def _invoice(client, admin, customer_id, due="2026-12-10", price="99.90"):
    r = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": due,
        "items": [{"description": "Plano 300M", "quantity": "1", "unit_price": price},
                  {"description": "Router rental", "quantity": 2, "unit_price": "10.05"}]})
    assert r.status_code == 201, r.text
    return r.json()


def test_invoice_is_created_issued_with_a_verifiable_pix_and_boleto_then_paid(client, admin, customer_id):
    _configure(client, admin)
    # Given a draft invoice
    body = _invoice(client, admin, customer_id)
    assert {k: body[k] for k in ("number", "total", "status")} == {"number": 1, "total": "120.00", "status": "draft"}
    assert body["id"]
    # When it is issued
    r = client.post(f"/api/v1/billing/invoices/{body['id']}/issue", headers=admin)
    assert r.status_code == 200, r.text
    inv = client.get(f"/api/v1/billing/invoices/{body['id']}", headers=admin).json()
    # Then its PIX BR Code verifies and carries the amount; the boleto line has 47 verified digits
    assert inv["status"] == "issued" and (inv["total"], inv["paid"], inv["balance"]) == ("120.00", "0.00", "120.00")
    assert verify_brcode(inv["pix"]["brcode"])
    parsed = parse_brcode(inv["pix"]["brcode"])
    assert (parsed["amount"], parsed["txid"], parsed["key"]) == (Decimal("120.00"), inv["pix"]["txid"],
                                                                 "financeiro@a.test")
    line = inv["boleto"]["digitable_line"]
    assert len(line) == 47 and line.isdigit()
    verify_digitable_line(line)
    assert inv["boleto"]["barcode"][9:19] == "0000012000"
    # And a partial then a final payment settle it, in decimal strings
    r = client.post(f"/api/v1/billing/invoices/{body['id']}/payments", headers=admin,
                    json={"amount": "20.00", "method": "pix", "paid_at": "2026-12-01T10:00:00-03:00"})
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["balance"]) == ("partially_paid", "100.00")
    r = client.post(f"/api/v1/billing/invoices/{body['id']}/payments", headers=admin,
                    json={"amount": "100.00", "method": "cash", "paid_at": "2026-12-10"})
    assert (r.json()["status"], r.json()["paid"], r.json()["balance"]) == ("paid", "120.00", "0.00")
    listed = client.get("/api/v1/billing/invoices?status=paid", headers=admin).json()
    assert [i["id"] for i in listed["items"]] == [body["id"]] and listed["items"][0]["paid"] == "120.00"


def test_late_payment_pays_fine_and_pro_rata_interest_and_overpayment_becomes_credit(client, admin, customer_id):
    _configure(client, admin)
    inv = _invoice(client, admin, customer_id, due="2026-11-01", price="100.00")  # total 120.10
    client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin)
    # 15 days late: fine 2 % = 2.40, interest 1 %/month * 15/30 = 0.60 (on 120.10 → 2.402, 0.6005)
    r = client.post(f"/api/v1/billing/invoices/{inv['id']}/payments", headers=admin,
                    json={"amount": "130.00", "method": "transfer", "paid_at": "2026-11-16T12:00:00-03:00"})
    p = r.json()["payment"]
    assert (p["principal"], p["fine"], p["interest"]) == ("120.10", "2.40", "0.60")
    assert p["excess"] == "6.90" and r.json()["status"] == "paid"
    account = client.get(f"/api/v1/billing/customers/{customer_id}/account", headers=admin).json()
    assert account["credit"] == "6.90"
    # The next invoice uses the credit when issued
    nxt = _invoice(client, admin, customer_id, due="2026-12-20", price="10.00")  # 30.10
    issued = client.post(f"/api/v1/billing/invoices/{nxt['id']}/issue", headers=admin).json()
    assert (issued["credit_applied"], issued["balance"]) == ("6.90", "23.20")
    assert client.get(f"/api/v1/billing/customers/{customer_id}/account", headers=admin).json()["credit"] == "0.00"


def test_payment_of_a_cancelled_invoice_becomes_credit_and_cancel_twice_conflicts(client, admin, customer_id):
    inv = _invoice(client, admin, customer_id)
    client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin)
    r = client.post(f"/api/v1/billing/invoices/{inv['id']}/cancel", headers=admin, json={"reason": "duplicate"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/api/v1/billing/invoices/{inv['id']}/cancel", headers=admin, json={"reason": "again"})
    assert r.status_code == 409
    r = client.post(f"/api/v1/billing/invoices/{inv['id']}/payments", headers=admin,
                    json={"amount": "50.00", "method": "pix"})
    assert r.status_code == 201 and r.json()["status"] == "cancelled"
    assert client.get(f"/api/v1/billing/customers/{customer_id}/account", headers=admin).json()["credit"] == "50.00"


@pytest.mark.parametrize("body,field", [
    ({"due_date": "2026-13-01", "items": [{"description": "x", "unit_price": "1.00"}]}, "due_date"),
    ({"due_date": "2026-12-01", "items": []}, "items"),
    ({"due_date": "2026-12-01", "items": [{"description": "x", "unit_price": "1.001"}]}, "items[0].unit_price"),
    ({"due_date": "2026-12-01", "items": [{"description": "", "unit_price": "1.00"}]}, "items[0].description"),
    ({"due_date": "2026-12-01", "items": [{"description": "x", "unit_price": "1", "quantity": "0"}]},
     "items[0].quantity"),
])
def test_bad_invoice_is_a_problem_naming_the_field_and_writes_nothing(client, admin, customer_id, live_container,
                                                                      body, field):
    head = live_container.store.head()
    r = client.post("/api/v1/billing/invoices", headers=admin, json={"customer_id": customer_id, **body})
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text
    assert live_container.store.head() == head


def test_other_tenants_invoice_is_not_found_and_permissions_are_enforced(client, admin, customer_id):
    inv = _invoice(client, admin, customer_id)
    other = signup(client, "Provedor B", "admin@b.test")
    assert client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=other).status_code == 404
    assert client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=other).status_code == 404
    assert client.get("/api/v1/billing/invoices").status_code == 401
    r = client.post("/api/v1/billing/payments", headers=admin, json={})
    assert r.status_code in (404, 405)


def test_subscription_run_generates_once_marks_overdue_blocks_and_payment_unblocks(client, admin, customer_id):
    _configure(client, admin)
    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra 300M", "price": "99.90", "cycle": "monthly"})
    assert plan.status_code == 201, plan.text
    r = client.post("/api/v1/billing/subscriptions", headers=admin, json={
        "customer_id": customer_id, "plan_id": plan.json()["id"], "due_day": 10, "start_date": "2026-09-10"})
    assert r.status_code == 201, r.text
    # When the run for 2026-10-25 happens (lead 10 days): periods 09-10, 10-10 are generated
    first = client.post("/api/v1/billing/runs", headers=admin, json={"date": "2026-10-25"})
    assert first.status_code == 200, first.text
    assert first.json()["generated"] == 2 and first.json()["blocked"] == 1  # 09-10 is 45 days overdue
    again = client.post("/api/v1/billing/runs", headers=admin, json={"date": "2026-10-25"}).json()
    assert again["generated"] == 0 and again["blocked"] == 0
    invoices = client.get(f"/api/v1/billing/invoices?customer={customer_id}", headers=admin).json()["items"]
    assert sorted((i["due_date"], i["status"]) for i in invoices) == [
        ("2026-09-10", "overdue"), ("2026-10-10", "overdue")]
    assert [i["number"] for i in sorted(invoices, key=lambda i: i["due_date"])] == [1, 2]
    # An overdue invoice's PIX charges what is due today, fine and interest included (defect 3)
    from retaguarda.billing.pix import parse_brcode

    for item in invoices:
        one = client.get(f"/api/v1/billing/invoices/{item['id']}", headers=admin).json()
        assert Decimal(one["amount_due"]) > Decimal(one["balance"]), one
        assert parse_brcode(one["pix"]["brcode"])["amount"] == Decimal(one["amount_due"])
        assert one["boleto"]["after_due_date"] is True
    customer = client.get(f"/api/v1/customers/{customer_id}", headers=admin).json()
    assert (customer["status"], customer["status_reason"]) == ("blocked", "overdue invoice 1")
    # Paying the invoice that blocked unblocks the customer
    oldest = min(invoices, key=lambda i: i["due_date"])
    due = client.get(f"/api/v1/billing/invoices/{oldest['id']}", headers=admin).json()["amount_due_today"]
    r = client.post(f"/api/v1/billing/invoices/{oldest['id']}/payments", headers=admin,
                    json={"amount": due, "method": "pix"})
    assert r.json()["status"] == "paid"
    assert client.get(f"/api/v1/customers/{customer_id}", headers=admin).json()["status"] == "active"
    receivables = client.get("/api/v1/billing/receivables", headers=admin).json()
    assert receivables["by_status"]["overdue"] == {"count": 1, "amount": "99.90"}
    assert sum(Decimal(b["amount"]) for b in receivables["aging"].values()) == Decimal("99.90")
    assert client.get("/api/v1/billing/runs", headers=admin).json()["items"][0]["results"]["generated"] == 0


def test_pdf_is_a_pdf(client, admin, customer_id):
    _configure(client, admin)
    inv = _invoice(client, admin, customer_id)
    client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin)
    r = client.get(f"/api/v1/billing/invoices/{inv['id']}/pdf", headers=admin)
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"


def test_pages_render_and_the_public_page_needs_only_the_signed_link(client, admin, customer_id):
    _configure(client, admin)
    inv = _invoice(client, admin, customer_id)
    view = client.post(f"/api/v1/billing/invoices/{inv['id']}/issue", headers=admin).json()
    for path in ("/billing/invoices", f"/billing/invoices/{inv['id']}", "/billing/plans", "/billing/subscriptions",
                 "/billing/runs", "/billing/receivables"):
        r = client.get(path, headers=admin)
        assert r.status_code == 200, (path, r.text[:500])
    assert view["pix"]["brcode"] in client.get(f"/billing/invoices/{inv['id']}", headers=admin).text
    public = view["public_url"].split("8000", 1)[1] if "8000" in view["public_url"] else view["public_url"]
    client.cookies.clear()
    page = client.get(public)
    assert page.status_code == 200 and 'data-testid="amount-due"' in page.text and "<svg" in page.text
    assert client.get(public[:-3] + "xyz").status_code == 404
