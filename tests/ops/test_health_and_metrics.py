"""Probes and metrics: /health/live, /health/ready (DB, store, broker, lag) and /metrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from retaguarda.shared.documents import make_cpf
from retaguarda.shared.meta import Meta


def register(container: Any, meta: Meta, n: int, start: int = 100) -> int:
    position = 0
    for i in range(start, start + n):
        saved = container.customers.register_customer(
            meta, name=f"Cliente {i}", kind="person", document=make_cpf(f"{i:09d}"),
            email=f"c{i}@example.com")
        position = saved.position
    return position


@pytest.fixture
def idle_client(container: Any) -> Iterator[Any]:
    """A client whose projector does NOT run on its own: lag stays until catch_up()."""
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as tc:
        yield tc


def test_liveness_answers_ok_without_login(client: Any) -> None:
    # When the probe asks with no credentials
    response = client.get("/health/live")

    # Then it is told the process is up
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_ok_and_reports_the_lag_of_every_projection(client: Any, live_container: Any,
                                                                 meta: Meta) -> None:
    # Given some customers written and the projector caught up
    position = register(live_container, meta, 3)
    assert live_container.wait_for(position, timeout=10)

    # When readiness is probed
    response = client.get("/health/ready")

    # Then every check passes and each projection reports its position and zero lag
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {"database", "event_store", "broker", "projections"} <= set(checks)
    assert all(check["ok"] for check in checks.values())
    head = checks["event_store"]["head"]
    assert head == live_container.store.head() >= position
    customer_list = checks["projections"]["projections"]["customer_list"]
    assert customer_list == {"position": head, "lag": 0, "ok": True}


def test_readiness_fails_when_the_projector_stopped_on_an_error(client: Any, live_container: Any) -> None:
    # Given the in-process projector stopped on a failing event
    live_container.runner.error = RuntimeError("handler exploded with secret=hunter2")

    # When readiness is probed
    response = client.get("/health/ready")

    # Then it answers 503 naming the failing check, without the error's text
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["projections"]["ok"] is False
    assert body["checks"]["projections"]["error"] == "RuntimeError"
    assert "hunter2" not in response.text
    assert body["checks"]["database"]["ok"] is True


def test_readiness_fails_while_a_projection_lags_beyond_the_threshold(idle_client: Any, container: Any,
                                                                      meta: Meta) -> None:
    # Given a low lag threshold and events the projector has not applied yet
    container.ready_max_lag = 2
    register(container, meta, 3)
    head = container.store.head()
    assert head > 2

    # When readiness is probed
    lagging = idle_client.get("/health/ready")

    # Then it is 503 and shows how far behind each projection is
    assert lagging.status_code == 503
    projections = lagging.json()["checks"]["projections"]
    assert projections["ok"] is False and projections["max_lag"] == 2
    assert projections["projections"]["customer_list"] == {"position": 0, "lag": head, "ok": False}

    # And once the projector (and the outbox dispatcher, which follows the log too) catches up
    container.runner.catch_up()
    while container.dispatcher.run_once():
        pass
    ready = idle_client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["projections"]["projections"]["customer_list"]["lag"] == 0


def test_readiness_fails_when_the_redis_broker_does_not_answer(idle_client: Any, container: Any) -> None:
    # Given a Redis broker pointing at a port where nothing listens
    from dramatiq.brokers.redis import RedisBroker

    container.broker = RedisBroker(url="redis://:topsecret@127.0.0.1:1/0", socket_connect_timeout=0.5)

    # When readiness is probed
    response = idle_client.get("/health/ready")

    # Then the broker check fails, and the password of its URL is not shown
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False and broker["kind"] == "RedisBroker"
    assert "topsecret" not in response.text


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_expose_projection_lag_head_and_request_counters(idle_client: Any, container: Any,
                                                                 meta: Meta) -> None:
    # Given events not yet projected and two liveness probes served
    register(container, meta, 2)
    head = container.store.head()
    idle_client.get("/health/live")
    idle_client.get("/health/live")

    # When Prometheus scrapes without credentials
    response = idle_client.get("/metrics")

    # Then it gets the text format with lag, positions, the log head and request counters
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _sample(text, "retaguarda_event_store_head") == head
    assert _sample(text, "retaguarda_projection_lag_events", projection="customer_list") == head
    assert _sample(text, "retaguarda_projection_position", projection="customer_list") == 0
    assert _sample(text, "retaguarda_http_requests_total", method="GET", route="/health/live",
                   status="200") == 2
    assert re.search(r'retaguarda_http_request_duration_seconds_bucket\{.*route="/health/live"', text)

    # And after the projector catches up the lag gauge reads zero at the next scrape
    container.runner.catch_up()
    text = idle_client.get("/metrics").text
    assert _sample(text, "retaguarda_projection_lag_events", projection="customer_list") == 0


def test_metrics_label_requests_by_route_template_not_raw_path(idle_client: Any) -> None:
    # Given requests to routes that do and do not exist
    idle_client.get("/health/ready")
    idle_client.get("/static/does-not-exist.css")

    # When scraped
    text = idle_client.get("/metrics").text

    # Then labels are route templates, so ids never explode the label set
    assert _sample(text, "retaguarda_http_requests_total", route="/health/ready") == 1
    assert "does-not-exist" not in text


def test_dispatcher_lag_is_reported_in_readiness_and_metrics(client, live_container):
    # The in-process dispatcher follows the log like a projection; its lag shows next to theirs
    ready = client.get("/health/ready").json()
    assert ready["checks"]["dispatcher"]["ok"] is True
    assert ready["checks"]["dispatcher"]["lag"] >= 0
    body = client.get("/metrics").text
    assert 'retaguarda_projection_lag_events{projection="dispatcher"}' in body
