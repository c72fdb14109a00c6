"""Defect 4 (#20): no input makes the server answer 5xx; bad input is a 4xx problem naming what was wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.billing.conftest import signup

NESTED = "[" * 20_000


@pytest.fixture
def admin(client: Any) -> dict[str, str]:
    return signup(client, "Provedor A", "admin@a.test")


@pytest.fixture
def customer_id(client: Any, admin: dict[str, str]) -> str:
    r = client.post("/api/v1/customers", headers=admin, json={
        "name": "ACME Telecom", "kind": "company", "document": "12.ABC.345/01DE-35", "email": "fin@acme.test"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.mark.parametrize("path", ["/pay/x/%C3%A9", "/pay/%C3%A9/%C3%A9", "/pay/x/%F0%9F%92%A9"])
def test_a_non_ascii_public_token_is_not_found(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("suffix", ["card", "mercadopago"])
def test_a_non_ascii_token_on_the_payment_starts_is_not_found(client: Any, suffix: str) -> None:
    response = client.post(f"/api/v1/billing/pay/x/%C3%A9/{suffix}")
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/signup"])
def test_deeply_nested_json_is_a_client_error(client: Any, path: str) -> None:
    response = client.post(path, content=NESTED, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_deeply_nested_json_on_authenticated_routes(client: Any, admin: dict[str, str]) -> None:
    for path in ("/api/v1/customers", "/api/v1/billing/invoices", "/api/v1/billing/webhooks/stripe"):
        response = client.post(path, content=NESTED, headers={**admin, "content-type": "application/json"})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    deep_value = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/api/v1/customers", content=deep_value,
                           headers={**admin, "content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text


def test_invalid_utf8_bodies_are_client_errors(client: Any, admin: dict[str, str]) -> None:
    bad = b'{"email": "\xff\xfe@a.test", "password": "x"}'
    for path, headers in (("/api/v1/auth/login", {}), ("/api/v1/customers", admin),
                          ("/api/v1/billing/webhooks/stripe", {}), ("/api/v1/campaigns/receipts/cda", admin)):
        response = client.post(path, content=bad, headers={**headers, "content-type": "application/json"})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/billing/invoices", "/api/v1/audit/events",
                                  "/customers", "/billing/invoices", "/api/v1/users"])
def test_page_numbers_past_64_bits_are_client_errors(client: Any, admin: dict[str, str], path: str) -> None:
    for page in ("99999999999999999999", "9223372036854775807", "-1", "0", "100001"):
        response = client.get(f"{path}?page={page}", headers=admin)
        assert response.status_code == 400, (page, response.text)
    assert client.get(f"{path}?page=2&per_page=99999999999999999999", headers=admin).status_code == 400
    assert client.get(f"{path}?page=100000", headers=admin).status_code == 200
    huge = client.get(f"{path}?page=99999999999999999999", headers=admin)
    assert huge.status_code == 400 and "page" in huge.text


@pytest.mark.parametrize("value", ["1e30", "9" * 40, "1e-30", "NaN", "-Infinity", "100000000.00"])
def test_huge_invoice_amounts_name_the_field(client: Any, admin: dict[str, str], customer_id: str,
                                              value: str) -> None:
    response = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-12-20",
        "items": [{"description": "Serviço", "unit_price": value}]})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "items[0].unit_price"


def test_huge_quantities_and_discounts_name_the_field(client: Any, admin: dict[str, str], customer_id: str) -> None:
    for body, field in (
        ({"items": [{"description": "S", "unit_price": "10.00", "quantity": "1e30"}]}, "items[0].quantity"),
        ({"items": [{"description": "S", "unit_price": "10.00"}], "discount": "9" * 40}, "discount"),
    ):
        response = client.post("/api/v1/billing/invoices", headers=admin, json={
            "customer_id": customer_id, "due_date": "2026-12-20", **body})
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field


def test_huge_plan_price_payment_and_refund_name_the_field(client: Any, admin: dict[str, str],
                                                            customer_id: str) -> None:
    plan = client.post("/api/v1/billing/plans", headers=admin,
                       json={"name": "Fibra", "price": "1e30", "cycle": "monthly"})
    assert plan.status_code == 422 and plan.json()["field"] == "price", plan.text
    created = client.post("/api/v1/billing/invoices", headers=admin, json={
        "customer_id": customer_id, "due_date": "2026-12-20",
        "items": [{"description": "Serviço", "unit_price": "100.00"}]})
    assert created.status_code == 201, created.text
    invoice = created.json()["id"]
    assert client.post(f"/api/v1/billing/invoices/{invoice}/issue", headers=admin).status_code == 200
    for value in ("1e30", "9" * 40):
        paid = client.post(f"/api/v1/billing/invoices/{invoice}/payments", headers=admin,
                           json={"amount": value, "method": "pix"})
        assert paid.status_code == 422 and paid.json()["field"] == "amount", paid.text
    paid = client.post(f"/api/v1/billing/invoices/{invoice}/payments", headers=admin,
                       json={"amount": "100.00", "method": "pix"})
    assert paid.status_code in (200, 201), paid.text
    payment_id = paid.json()["payments"][0]["id"]
    refund = client.post(f"/api/v1/billing/invoices/{invoice}/refunds", headers=admin,
                         json={"payment_id": payment_id, "amount": "1e30"})
    assert refund.status_code == 422 and refund.json()["field"] == "amount", refund.text


def test_huge_nfse_amount_names_the_field(client: Any, admin: dict[str, str], customer_id: str) -> None:
    from retaguarda.fiscal.install import DEMO_SETTINGS

    assert client.put("/api/v1/fiscal/settings", headers=admin, json=DEMO_SETTINGS).status_code == 200
    for value in ("1e30", "9" * 40):
        response = client.post("/api/v1/fiscal/nfse", headers=admin,
                               json={"customer_id": customer_id, "amount": value})
        assert response.status_code == 422, response.text
        assert "amount" in [e["field"] for e in response.json()["errors"]], response.text


def test_a_malformed_provider_receipt_is_a_client_error(client: Any, admin: dict[str, str]) -> None:
    for provider in ("cda", "gosac", "noah", "rcs", "salesforce"):
        for body in (b"{}", b"[]", b'{"results": 5}', b'"x"', b"null", b"[1, 2]", b'{"messages": [{}]}'):
            response = client.post(f"/api/v1/campaigns/receipts/{provider}", content=body,
                                   headers={**admin, "content-type": "application/json"})
            assert 400 <= response.status_code < 500 or response.status_code == 200, \
                (provider, body, response.status_code, response.text)
    response = client.post("/api/v1/campaigns/receipts/cda", content=b"{}",
                           headers={**admin, "content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
