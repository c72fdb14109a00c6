"""Defect 9 and the audit pages for people: favicon, a bad query on an HTML page, readable
"State at this point" and audit filters by customer and user name instead of UUIDs."""

from __future__ import annotations

import re

import pytest

from tests.billing.conftest import signup

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin(client):
    return signup(client, "Provedor Ação", "admin@acao.test")


def test_favicon_answers_200_with_an_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_a_bad_page_number_on_an_html_page_is_a_4xx_page_not_json(client, admin):
    for path in ("/customers?page=abc", "/billing/invoices?page=abc", "/audit?page=abc"):
        r = client.get(path, headers=admin)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), (path, r.headers["content-type"])
        assert "<html" in r.text.lower()
    assert client.get("/api/v1/customers?page=abc", headers=admin).headers["content-type"].startswith(
        "application/problem+json")


def test_the_audit_trail_filters_by_customer_name_and_the_state_is_readable(client, admin):
    r = client.post("/api/v1/customers", headers=admin, json={
        "name": "Associação Ação Social", "kind": "person", "document": "529.982.247-25",
        "email": "acao@social.test", "address": {"street": "Rua São João", "number": "1", "district": "Sé",
                                                 "city": "São Paulo", "uf": "SP", "cep": "01001000"}})
    assert r.status_code == 201, r.text
    customer = r.json()
    other = client.post("/api/v1/customers", headers=admin, json={
        "name": "Outro Cliente", "kind": "person", "document": "111.444.777-35", "email": "o@o.test"}).json()
    page = client.get("/audit", params={"customer": "Associação Ação Social"}, headers=admin)
    assert page.status_code == 200
    assert customer["id"][:8] in page.text and other["id"][:8] not in page.text
    assert 'data-testid="audit-user"' in page.text and ">Admin<" in page.text
    assert "Nome</dt>" in page.text  # the summary as field names and values, not k=v text
    unknown = client.get("/audit", params={"customer": "Ninguém Com Esse Nome"}, headers=admin)
    assert unknown.status_code == 422 and "nenhum cliente com esse nome" in unknown.text
    state = client.get(f"/history/{customer['id']}/state", params={"version": 1}, headers=admin).text
    assert "Associação Ação Social" in state and "Rua São João" in state
    assert "\\u00" not in state and not re.search(r"\{&#34;|\{\"", state), state
    assert "Motivo da situação" in state or "Situação" in state


def test_the_audit_trail_names_the_fields_of_sign_in_events_for_people(client, admin):
    """Sessions and sign-ins were shown as `token_hash`, `expires_at`, `user_id`: field codes."""
    page = client.get("/audit", headers=admin)
    assert page.status_code == 200
    labels = re.findall(r"<dt>([^<]+)</dt>", page.text)
    assert labels, "the trail shows its events as field lists"
    assert "Expira em" in labels and "Usuário" in labels
    assert not {"token_hash", "expires_at", "user_id", "owner_id", "scope", "key"} & set(labels), labels
