"""The web shell: security headers, CORS, body limits, problem details, login redirects, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from retaguarda.main import create_app
from tests.conftest import build_container

pytestmark = pytest.mark.e2e


def test_security_headers_and_request_ids_on_every_response(client):
    r = client.get("/health/live")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-request-id"]
    r = client.get("/health/live", headers={"X-Correlation-Id": "from-caller-42"})
    assert r.headers["x-correlation-id"] == "from-caller-42"


def test_api_errors_are_problem_details(client):
    r = client.get("/api/v1/customers")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401
    r = client.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"]


def test_html_pages_redirect_to_login_and_keep_the_target(client):
    r = client.get("/customers?search=ana", follow_redirects=False)
    assert r.status_code in (302, 303, 307)
    assert r.headers["location"].startswith("/login?next=/customers")


def test_openapi_describes_the_api(client):
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/customers", "/api/v1/auth/login", "/api/v1/audit/aggregates/{aggregate_id}"):
        assert path in paths, sorted(paths)[:20]


def test_cors_allows_only_configured_origins(tmp_path: Path):
    container = build_container(tmp_path / "var", cors_origins=("https://portal.example",))
    try:
        with TestClient(create_app(container)) as tc:
            ok = tc.options("/api/v1/auth/login", headers={
                "Origin": "https://portal.example", "Access-Control-Request-Method": "POST"})
            assert ok.headers.get("access-control-allow-origin") == "https://portal.example"
            bad = tc.options("/api/v1/auth/login", headers={
                "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
            assert bad.headers.get("access-control-allow-origin") != "https://evil.example"
    finally:
        container.close()


def test_no_cors_headers_without_configuration(client):
    r = client.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_oversized_bodies_are_refused(tmp_path: Path):
    container = build_container(tmp_path / "var", max_body_bytes=1024)
    try:
        with TestClient(create_app(container)) as tc:
            r = tc.post("/api/v1/auth/login", content=b"{" + b" " * 4096 + b"}",
                        headers={"content-type": "application/json"})
            assert r.status_code == 413
    finally:
        container.close()


def test_forms_without_csrf_token_are_refused(client):
    r = client.post("/login", data={"email": "a@b.c", "password": "x"})
    assert r.status_code == 403
