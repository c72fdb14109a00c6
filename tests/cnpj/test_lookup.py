"""The read-only CNPJ lookup the customer form uses (`GET /api/v1/cnpj/lookup/{cnpj}`): the tenant's
cache and provider chain against the fake providers, nothing recorded, no personal data."""

from __future__ import annotations

import pytest

from retaguarda.shared.documents import make_cnpj
from tests.fakes.cnpj import sample_company

pytestmark = pytest.mark.e2e

ACME = sample_company()


def test_a_lookup_answers_name_and_address_from_the_chain_then_the_cache_and_records_nothing(
        api, admin, live, fakes):
    for fake in fakes.values():
        fake.add(ACME)
    head = live.store.head()
    r = api.get("/api/v1/cnpj/lookup/11.222.333.0001-81", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["cnpj"], body["razao_social"], body["nome_fantasia"]) == (ACME.cnpj, ACME.razao_social, "ACME NET")
    assert body["situation"] == "ATIVA" and body["provider"] == "cnpjws" and body["cache_hit"] is False
    address = body["address"]
    assert (address["cep"], address["city"], address["uf"], address["ibge_code"]) == (
        "22460901", "RIO DE JANEIRO", "RJ", "3304557")
    assert address["street"]
    # Personal fields (partners, e-mail, phones) are not part of a form lookup
    assert "partners" not in body and "email" not in body and "fiscal@acme" not in r.text
    # A second lookup comes from the cache; nothing was written to the event store
    again = api.get(f"/api/v1/cnpj/lookup/{ACME.cnpj}", headers=admin).json()
    assert again["cache_hit"] is True and fakes["cnpjws"].calls == 1
    assert live.store.head() == head
    assert api.get("/api/v1/cnpj/targets", headers=admin).json()["items"] == []


def test_unknown_invalid_and_unavailable_lookups_are_problems(api, admin, fakes):
    r = api.get(f"/api/v1/cnpj/lookup/{make_cnpj('987654320001')}", headers=admin)
    assert r.status_code == 404
    r = api.get("/api/v1/cnpj/lookup/11222333000180", headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "cnpj"
    for fake in fakes.values():
        fake.fail_next(5, status=500)
    r = api.get(f"/api/v1/cnpj/lookup/{make_cnpj('191312430001')}", headers=admin)
    assert r.status_code == 503 and r.headers["retry-after"]


def test_a_lookup_needs_the_permission_to_run_checks(api, admin):
    key = api.post("/api/v1/api-keys", headers=admin, json={"name": "bi", "scopes": ["cnpj:read"]}).json()["key"]
    assert api.get(f"/api/v1/cnpj/lookup/{ACME.cnpj}", headers={"X-API-Key": key}).status_code == 403
