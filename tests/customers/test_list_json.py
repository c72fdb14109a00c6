"""The API's customer list (`list_customers_json`) says exactly what the general list says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest

from projections.customers import customer_list
from projections.customers.customer_list import list_customers, list_customers_json
from retaguarda.readdb import tenant_reader
from retaguarda.shared.documents import make_cpf
from retaguarda.shared.jsonable import jsonable


def _encoded(value):
    # What the HTTP response carries: msgspec (Litestar's encoder) then parsed back.
    return json.loads(msgspec.json.encode(value))


@pytest.fixture
def listed(container, meta):
    # Given a tenant with customers of both kinds, with and without address, phones and microseconds
    for i in range(25):
        m = replace(meta, correlation_id=f"c{i}",
                    at=meta.at + timedelta(minutes=i, microseconds=(i % 2) * 1234))
        fields = dict(name=f"Cliente São {i:02d}", kind="person", email=f"c{i}@x.com",
                      document=make_cpf(f"{i + 1:09d}"))
        if i % 3 == 0:
            fields.update(phones=["11 3333-4444", "11 98765-4321"],
                          address={"street": "Rua Ção", "uf": "SP", "ibge_code": "3550308"})
        saved = container.customers.register_customer(m, **fields)
        if i % 4 == 0:
            container.customers.block_customer(m, str(saved.aggregate.id), "inadimplente")
    # And another tenant's customer, which must never show
    container.customers.register_customer(meta.with_tenant("tenant-b"), name="Cliente Outro",
                                          kind="person", document=make_cpf("999999999"), email="o@x.com")
    container.runner.catch_up()
    return container


@pytest.fixture(params=["page built by SQLite", "page built row by row"])
def path(request, monkeypatch):
    if request.param == "page built row by row":  # what PostgreSQL takes
        monkeypatch.setattr(customer_list, "_page_in_sql", lambda conn: False)
    return request.param


@pytest.mark.parametrize("filters", [
    {}, {"page": 2, "per_page": 10}, {"page": 3, "per_page": 10}, {"page": 9}, {"status": "blocked"},
    {"search": "são 1"}, {"search": "c2@"}, {"search": "000"}, {"search": "zzz"},
    {"status": "active", "search": "cliente", "per_page": 5, "page": 2},
])
def test_the_json_list_equals_the_general_list_made_jsonable(listed, path, filters):
    # When both queries read the same page
    with tenant_reader(listed.engine, "tenant-a") as conn:
        general = jsonable(list_customers(conn, "tenant-a", **filters))
        fast = _encoded(list_customers_json(conn, "tenant-a", **filters))
    # Then the JSON is the same: fields, values, ISO times with their offset, totals, pages
    assert fast == general
    assert all(item["created_at"].endswith("+00:00") for item in fast["items"])


def test_an_empty_tenant_lists_nothing_with_a_zero_total(listed, path):
    with tenant_reader(listed.engine, "tenant-none") as conn:
        result = _encoded(list_customers_json(conn, "tenant-none"))
    assert (result["items"], result["total"], result["pages"]) == ([], 0, 1)
