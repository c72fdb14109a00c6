"""The integration kit: one Retry-After parser, one error hierarchy, one client factory."""

from __future__ import annotations

import json
import pickle
import ssl
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from retaguarda.integrations import errors as kit
from retaguarda.integrations.http import (
    CallRecord,
    CallRecorder,
    make_client,
    parse_retry_after,
    redact,
    redact_url,
    retry_after_from,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


# --- Retry-After -------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("7", 7.0), (" 120 ", 120.0), ("1.5", 1.5)])
def test_retry_after_reads_delta_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_reads_http_dates_relative_to_now() -> None:
    assert parse_retry_after("Fri, 04 Dec 2026 12:00:30 GMT", now=NOW) == 30.0
    later = (NOW + timedelta(minutes=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=NOW) == 120.0
    # a date in the past means "now", never a negative wait
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0
    # the obsolete RFC 850 and asctime forms are HTTP-dates too
    assert parse_retry_after("Friday, 04-Dec-26 12:01:00 GMT", now=NOW) == 60.0
    assert parse_retry_after("Fri Dec  4 12:00:10 2026", now=NOW) == 10.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "-5", "nan", "inf", "1e3", "12 seconds"])
def test_retry_after_gives_the_default_for_absent_or_unreadable_values(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None
    assert parse_retry_after(value, now=NOW, default=20.0) == 20.0


def test_retry_after_from_headers_falls_back_to_ratelimit_reset() -> None:
    assert retry_after_from(httpx.Headers({"Retry-After": "3"}), now=NOW) == 3.0
    assert retry_after_from(httpx.Headers({"RateLimit-Reset": "9"}), now=NOW) == 9.0
    assert retry_after_from(httpx.Headers({"Rate-Limit-Reset": "4"}), now=NOW) == 4.0
    assert retry_after_from(httpx.Headers({}), now=NOW) is None


# --- the error hierarchy -----------------------------------------------------------------

@pytest.mark.parametrize(("status", "branch", "cls"), [
    (408, "transient", kit.TransientProviderError), (425, "transient", kit.TransientProviderError),
    (429, "transient", kit.TransientProviderError), (500, "transient", kit.TransientProviderError),
    (503, "transient", kit.TransientProviderError), (401, "auth", kit.AuthError),
    (403, "auth", kit.AuthError), (404, "not_found", kit.NotFoundError), (410, "not_found", kit.NotFoundError),
    (400, "permanent", kit.PermanentProviderError), (409, "permanent", kit.PermanentProviderError),
    (422, "permanent", kit.PermanentProviderError),
])
def test_http_statuses_map_to_one_branch_of_the_hierarchy(status: int, branch: str, cls: type) -> None:
    assert kit.classify_status(status) == branch
    error = kit.error_for_status(status, retry_after=5, provider="acme")
    assert type(error) is cls and error.status == status and error.provider == "acme"
    assert kit.error_class_of(error) == branch
    # only transient errors carry a wait; everything else is either retried or never retried
    assert (error.retry_after == 5) is (branch == "transient")
    assert isinstance(error, kit.TransientError) is (branch == "transient")
    assert isinstance(error, kit.PermanentError) is (branch != "transient")


def test_every_adapter_family_raises_the_kits_classes() -> None:
    from retaguarda.billing.gateways.base import GatewayError, TransientGatewayError
    from retaguarda.campaigns.providers.base import ProviderError as CampaignProviderError
    from retaguarda.cnpj.providers import MalformedAnswer, RateLimited
    from retaguarda.cnpj.providers import TransientProviderError as CnpjTransient
    from retaguarda.fiscal.backends import BackendConfigError, TransientBackendError

    fiscal = TransientBackendError("HTTP 503", retry_after=7)
    assert isinstance(fiscal, kit.TransientProviderError) and fiscal.retry_after == 7 and fiscal.calls == []
    assert isinstance(BackendConfigError("no token"), kit.PermanentProviderError)

    limited = RateLimited("429", 30.0)
    assert isinstance(limited, kit.TransientProviderError) and limited.retry_after == 30.0
    assert limited.status == 429 and limited.kind == "rate_limited"
    assert isinstance(CnpjTransient("timeout"), kit.TransientError)
    assert isinstance(MalformedAnswer("bad"), kit.PermanentError)

    gateway = GatewayError("x", transient=True, retry_after=3, status=503)
    assert isinstance(gateway, TransientGatewayError) and isinstance(gateway, kit.TransientProviderError)
    assert gateway.retry_after == 3 and gateway.status == 503
    assert isinstance(GatewayError("no", status=401), kit.AuthError)
    assert isinstance(GatewayError("no", status=404), kit.NotFoundError)
    assert type(GatewayError("no", status=400)).__name__ == "PermanentGatewayError"

    refused = CampaignProviderError("permanent", "bad credentials", status=401, provider="gosac")
    assert isinstance(refused, kit.AuthError) and refused.kind == "permanent"
    again = pickle.loads(pickle.dumps(refused))  # crosses worker processes intact
    assert type(again) is type(refused) and again.status == 401 and again.provider == "gosac"
    slow = CampaignProviderError("transient", "busy", status=429, retry_after=12)
    assert isinstance(slow, kit.TransientProviderError) and slow.retry_after == 12


# --- the client factory ------------------------------------------------------------------

class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        answer = json.dumps({"echo": json.loads(body or b"{}"), "access_token": "server-issued-token"}).encode()
        self.send_response(429 if self.path.startswith("/slow") else 200)
        self.send_header("content-type", "application/json")
        self.send_header("retry-after", "2")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_client_factory_records_every_call_with_secrets_redacted(echo_server: str) -> None:
    # Given a client built by the kit, recording its calls
    records: list[CallRecord] = []
    client = make_client(base_url=echo_server, timeout=5, headers={"Authorization": "Bearer sk_live_123",
                                                                   "X-Api-Key": "key-456"},
                         recorder=CallRecorder(records.append, clock=lambda: NOW, operation="emit"))
    with client:
        # When it sends a body with credentials, to a URL that carries a token
        response = client.post("/nfse?token=tok-789&page=2",
                               json={"cnpj": "11222333000181", "password": "hunter2",
                                     "nested": {"api_key": "k", "client_secret": "s"}})
        slow = client.post("/slow", json={})
    assert response.status_code == 200 and slow.status_code == 429
    # Then every exchange is recorded, and no secret survives in the record
    assert [r.status for r in records] == [200, 429]
    first = records[0]
    assert first.operation == "emit" and first.method == "POST" and first.started_at == NOW
    assert first.url.endswith("/nfse?token=***&page=2")
    assert first.request_headers["authorization"] == "***" and first.request_headers["x-api-key"] == "***"
    sent = json.loads(first.request or "")
    assert sent == {"cnpj": "11222333000181", "password": "***", "nested": {"api_key": "***", "client_secret": "***"}}
    assert json.loads(first.response or "")["access_token"] == "***"
    stored = json.dumps([r.as_dict() for r in records])
    for secret in ("sk_live_123", "key-456", "tok-789", "hunter2", "server-issued-token"):
        assert secret not in stored
    assert retry_after_from(slow.headers) == 2.0


def test_the_client_factory_always_sets_timeouts_and_takes_mtls_from_an_ssl_context() -> None:
    ctx = ssl.create_default_context()
    client = make_client(timeout=7, ssl_context=ctx)
    assert client.timeout.read == 7 and client.timeout.connect == 5
    # the connection pool uses our context (with the client certificate loaded), not a default one
    assert client._transport._pool._ssl_context is ctx  # type: ignore[attr-defined]
    assert make_client(timeout=3).timeout.connect == 3
    assert make_client(timeout=30, connect_timeout=2).timeout.connect == 2
    client.close()


def test_redaction_helpers() -> None:
    assert redact({"Senha": "x", "items": [{"token": "t", "ok": 1}], "pdf": "A" * 100}) == {
        "Senha": "***", "items": [{"token": "***", "ok": 1}], "pdf": "<100 base64 chars>"}
    assert redact_url("https://user:pw@host/x?api_key=abc&n=1") == "https://***@host/x?api_key=***&n=1"
