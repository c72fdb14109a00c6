"""The customers API over HTTP with real logins: contract fields, problems, tenants, roles."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password"


def _signup(client, tenant: str, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/signup", json={"tenant_name": tenant, "name": "Admin", "email": email,
                                                 "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def admin(client):
    return _signup(client, "Provedor A", "admin@a.test")


def test_create_then_read_your_write_then_patch_a_subset(client, admin):
    # Given a new company customer
    r = client.post("/api/v1/customers", headers=admin, json={
        "name": "ACME Telecom", "kind": "company", "document": "12.ABC.345/01DE-35", "email": "fin@acme.test",
        "phones": ["(11) 98765-4321"], "address": {"uf": "SP", "ibge_code": "3550308", "cep": "01001-000"},
        "plan": "Empresarial 1G"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] and body["status"] == "active" and body["document"] == "12ABC34501DE35"
    assert r.headers["location"] == f"/api/v1/customers/{body['id']}"
    # When the list is read right after the write, it is already there
    listed = client.get("/api/v1/customers?search=acme", headers=admin).json()
    assert (listed["total"], listed["page"], [c["id"] for c in listed["items"]]) == (1, 1, [body["id"]])
    # And a PATCH with one field changes only that field
    r = client.patch(f"/api/v1/customers/{body['id']}", headers=admin, json={"plan": "Empresarial 2G"})
    assert r.status_code == 200
    assert (r.json()["plan"], r.json()["name"], r.json()["version"]) == ("Empresarial 2G", "ACME Telecom", 2)
    # And its history is in the audit API
    history = client.get(f"/api/v1/audit/aggregates/{body['id']}", headers=admin).json()
    assert [e["type"] for e in history["events"]] == ["Customer.Registered", "Customer.Updated"]
    state = client.get(f"/api/v1/audit/aggregates/{body['id']}/state?version=1", headers=admin).json()
    assert state["state"]["plan"] == "Empresarial 1G"


@pytest.mark.parametrize("body,field", [
    ({"name": "X", "kind": "company", "document": "12ABC34501DE36", "email": "x@x.test"}, "document"),
    ({"name": "X", "kind": "person", "document": "52998224725", "email": "nope"}, "email"),
    ({"name": "X", "kind": "alien", "document": "52998224725", "email": "x@x.test"}, "kind"),
    ({"name": "X", "kind": "person", "email": "x@x.test"}, "document"),
    ({"name": "X", "kind": "person", "document": "52998224725", "email": "x@x.test",
      "address": {"uf": "SP", "ibge_code": "3304557"}}, "address.ibge_code"),
])
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(client, admin, live_container, body, field):
    head = live_container.store.head()
    r = client.post("/api/v1/customers", headers=admin, json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field and r.json()["status"] == 422
    # (background work such as the welcome e-mail may append its own events meanwhile)
    written = [type(live_container.store.decode(n)).__qualname__ for n in live_container.store.read(head + 1, 100)]
    assert not [t for t in written if t.startswith(("Customer", "Claim"))]


def test_duplicate_document_is_a_conflict_naming_document(client, admin):
    body = {"name": "A", "kind": "person", "document": "529.982.247-25", "email": "a@x.test"}
    assert client.post("/api/v1/customers", headers=admin, json=body).status_code == 201
    r = client.post("/api/v1/customers", headers=admin, json={**body, "name": "B"})
    assert r.status_code == 409 and r.json()["field"] == "document"


def test_another_tenant_gets_404_never_the_data(client, admin):
    created = client.post("/api/v1/customers", headers=admin, json={
        "name": "Só do A", "kind": "person", "document": "52998224725", "email": "a@x.test"}).json()
    other = _signup(client, "Provedor B", "admin@b.test")
    assert client.get(f"/api/v1/customers/{created['id']}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/customers/{created['id']}", headers=other,
                        json={"name": "hijack"}).status_code == 404
    assert client.get(f"/api/v1/audit/aggregates/{created['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/customers", headers=other).json()["total"] == 0


def test_status_commands_and_illegal_transitions(client, admin):
    c = client.post("/api/v1/customers", headers=admin, json={
        "name": "C", "kind": "person", "document": "52998224725", "email": "c@x.test"}).json()
    r = client.post(f"/api/v1/customers/{c['id']}/block", headers=admin, json={"reason": "overdue invoice 7"})
    assert r.status_code == 200 and r.json()["status"] == "blocked"
    r = client.post(f"/api/v1/customers/{c['id']}/block", headers=admin, json={"reason": "again"})
    assert r.status_code == 409
    assert client.get("/api/v1/customers?status=blocked", headers=admin).json()["total"] == 1
    r = client.post(f"/api/v1/customers/{c['id']}/unblock", headers=admin, json={"reason": ""})
    assert r.status_code == 422 and r.json()["field"] == "reason"


def test_pagination_and_search_by_document(client, admin):
    from retaguarda.shared.documents import make_cpf

    for i in range(25):
        assert client.post("/api/v1/customers", headers=admin, json={
            "name": f"Cliente {i:02d}", "kind": "person", "document": make_cpf(f"{i + 300:09d}"),
            "email": f"c{i}@x.test"}).status_code == 201
    page2 = client.get("/api/v1/customers?page=2&per_page=10", headers=admin).json()
    assert (page2["total"], page2["page"], len(page2["items"])) == (25, 2, 10)
    assert page2["items"][0]["name"] == "Cliente 10"
    doc = make_cpf("000000307")
    found = client.get(f"/api/v1/customers?search={doc[:3]}.{doc[3:6]}", headers=admin).json()
    assert doc in [c["document"] for c in found["items"]]
    assert client.get("/api/v1/customers?page=0", headers=admin).status_code == 400 or \
        client.get("/api/v1/customers?page=0", headers=admin).status_code == 422


def test_permissions_are_checked_on_every_route(client, admin):
    # Given a machine client whose key may only read customers
    key = client.post("/api/v1/api-keys", headers=admin, json={"name": "reader", "scopes": ["customers:read"]})
    assert key.status_code == 201, key.text
    reader = {"X-API-Key": key.json()["key"]}
    # Then it can list customers but not create one, nor read the audit trail
    assert client.get("/api/v1/customers", headers=reader).status_code == 200
    body = {"name": "X", "kind": "person", "document": "52998224725", "email": "x@x.test"}
    assert client.post("/api/v1/customers", headers=reader, json=body).status_code == 403
    assert client.get("/api/v1/audit/events", headers=reader).status_code == 403
    # And nobody gets in without credentials, or with a forged token
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get("/api/v1/customers", headers={"Authorization": "Bearer garbage"}).status_code == 401
