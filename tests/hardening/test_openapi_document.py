"""Item 9 (#20): the OpenAPI document tells a generated client the truth about errors and methods."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.billing.conftest import signup

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_every_error_answer_is_declared_as_problem_details(document: dict[str, Any]) -> None:
    assert "ProblemDetails" in document["components"]["schemas"]
    operations = [(m, p, op) for p, item in document["paths"].items() for m, op in item.items() if m in METHODS]
    assert len(operations) > 100
    for method, path, op in operations:
        responses = op["responses"]
        errors = {code for code in responses if code.startswith("4")}
        assert "400" in errors, (method, path)
        for code in errors:
            content = responses[code].get("content") or {}
            assert list(content) == ["application/problem+json"], (method, path, code)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
        if "{" in path:
            assert "404" in errors, (method, path)
        if method != "get":
            assert {"409", "422"} <= errors, (method, path)
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"401", "422", "429"} <= set(login)
    customers = document["paths"]["/api/v1/customers"]["get"]["responses"]
    assert {"401", "403"} <= set(customers) and "409" not in customers


def test_options_and_405_list_exactly_the_methods_of_the_path(client: Any, document: dict[str, Any]) -> None:
    admin = signup(client, "Provedor A", "admin@a.test")
    for path, item in document["paths"].items():
        declared = {m.upper() for m in item if m in METHODS}
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = client.options(url, headers=admin)
        if answer.status_code == 404:
            continue  # a path parameter of another type than "1" (none today)
        allow = {m.strip() for m in answer.headers["allow"].split(",")} - {"OPTIONS", "HEAD"}
        assert allow == declared, (path, answer.headers["allow"])
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - declared)[:1]:
            wrong = client.request(method, url, headers=admin)
            assert wrong.status_code == 405, (method, path)
            assert {m.strip() for m in wrong.headers["allow"].split(",")} - {"OPTIONS", "HEAD"} == declared


def test_a_problem_answer_matches_the_declared_schema(client: Any) -> None:
    admin = signup(client, "Provedor A", "admin@a.test")
    r = client.post("/api/v1/customers", headers=admin, json={"name": "X"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status"} <= set(body) and body["errors"][0]["field"]
