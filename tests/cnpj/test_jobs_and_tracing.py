"""Scheduled checks, the alert webhook, and one trace from the API through the worker to the provider."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from retaguarda.cnpj.telemetry import tracer_provider
from tests.cnpj.conftest import add_target
from tests.fakes.cnpj import sample_company

ACME = sample_company()


def wait_until(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_scheduled_checks_queue_the_due_targets_only(live, fakes, meta):
    fakes["cnpjws"].add(ACME)
    due = str(live.cnpj.add_target(meta, cnpj=ACME.cnpj, schedule="daily").aggregate.id)
    live.cnpj.add_target(meta, cnpj="19131243000197", schedule="manual")
    live.wait_for(live.store.head())
    from retaguarda.cnpj.actors import scheduled_checks

    assert scheduled_checks(live) == "queued 1, over quota 0"
    wait_until(lambda: live.cnpj.get_target(meta.tenant_id, due).last_check_id)
    live.wait_for(live.store.head())
    assert scheduled_checks(live) == "queued 0, over quota 0"  # checked today: not due again


@pytest.fixture
def webhook():
    received: list[tuple[dict, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not self.path.startswith("/hooks/"):
                self.send_response(404)
                self.end_headers()
                return
            received.append((dict(self.headers), json.loads(body)))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/cnpj", received
    server.shutdown()
    server.server_close()


def test_changes_are_posted_to_the_tenant_webhook(live, fakes, meta, webhook):
    url, received = webhook
    fakes["cnpjws"].add(ACME)
    live.cnpj.configure(meta, alert_webhook=url)
    target_id = str(live.cnpj.add_target(meta, cnpj=ACME.cnpj, alerts=["any"]).aggregate.id)
    live.cnpj_checks.check_now(meta, target_id)
    fakes["cnpjws"].add(ACME.with_(cep="01001000"))
    check = live.cnpj_checks.check_now(meta, target_id, refresh=True).aggregate
    headers, body = wait_until(lambda: received and received[0])
    assert body["type"] == "cnpj.changes_detected" and body["check_id"] == str(check.id)
    assert body["changes"] == [{"field": "address.cep", "before": "22460901", "after": "01001000"}]
    assert headers["idempotency-key"] == f"{check.id}:3"


def test_one_trace_spans_the_api_the_worker_and_the_provider_call(api, admin, fakes):
    exporter = InMemorySpanExporter()
    tracer_provider("").add_span_processor(SimpleSpanProcessor(exporter))
    fakes["cnpjws"].add(ACME)
    target_id = add_target(api, admin, ACME.cnpj)
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?async=true", headers=admin)
    job = r.json()["job_id"]
    wait_until(lambda: api.get(f"/api/v1/cnpj/jobs/{job}", headers=admin).json()["status"] == "completed")
    spans = wait_until(lambda: (s := {sp.name: sp for sp in exporter.get_finished_spans()})
                       and "cnpj.provider.cnpjws" in s and s)
    names = ["cnpj.api.check", "cnpj.enqueue", "cnpj.run_check", "cnpj.provider.cnpjws"]
    assert all(n in spans for n in names), list(spans)
    trace_ids = {spans[n].context.trace_id for n in names}
    assert len(trace_ids) == 1
    # The worker's span is a child of the API's, the provider call a child of the worker's
    assert spans["cnpj.provider.cnpjws"].parent.span_id == spans["cnpj.run_check"].context.span_id
    assert spans["cnpj.run_check"].parent.span_id == spans["cnpj.enqueue"].context.span_id


def test_the_trace_id_is_in_the_log_context_while_a_span_is_open(live):
    telemetry = live.cnpj_telemetry
    with telemetry.span("cnpj.test") as span:
        bound = structlog.contextvars.get_contextvars().get("trace_id")
        assert bound == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in structlog.contextvars.get_contextvars()


def test_a_refused_webhook_is_parked_visibly_and_can_be_retried(live, fakes, meta, webhook):
    url, received = webhook
    fakes["cnpjws"].add(ACME)
    # A webhook URL that answers 404 (a permanent refusal) first
    live.cnpj.configure(meta, alert_webhook=url.replace("/hooks/", "/missing/"))
    target_id = str(live.cnpj.add_target(meta, cnpj=ACME.cnpj, alerts=["any"]).aggregate.id)
    live.cnpj_checks.check_now(meta, target_id)
    fakes["cnpjws"].add(ACME.with_(cep="01001000"))
    check_id = str(live.cnpj_checks.check_now(meta, target_id, refresh=True).aggregate.id)
    failed = wait_until(lambda: getattr(live.cnpj.get_check(meta.tenant_id, check_id), "webhook_status", None)
                        == "failed")
    assert failed
    view = live.cnpj_checks.view(live.cnpj.get_check(meta.tenant_id, check_id), personal_data=False)
    assert view["webhook"]["status"] == "failed" and "refused" in view["webhook"]["error"]
    # When the tenant fixes the URL and retries, the alert is delivered
    live.cnpj.configure(meta, alert_webhook=url)
    live.cnpj_checks.retry_webhook(meta, check_id)
    headers, body = wait_until(lambda: received and received[0])
    assert body["check_id"] == check_id and body["changes"][0]["field"] == "address.cep"
