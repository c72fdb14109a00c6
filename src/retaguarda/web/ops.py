"""Operations endpoints: liveness, readiness (DB, event store, broker, projection lag) and metrics.

All three are public (probes and the Prometheus scraper run inside the network) and reveal no
secrets: failing checks name the exception class and a credential-free message only.
`metrics_middleware` counts requests by route template and status for `/metrics`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from litestar import Request, get
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from retaguarda.logging import scrub
from retaguarda.web.context import container_of

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

DEFAULT_MAX_LAG = 10_000
"""Readiness fails when a projection is more than this many events behind the log head."""


# Checks ----------------------------------------------------------------------------------

def _failure(exc: BaseException) -> dict[str, Any]:
    message = str(scrub(str(exc).splitlines()[0] if str(exc) else ""))[:200]
    return {"ok": False, "error": type(exc).__name__, "detail": message}


def check_database(container: Container) -> dict[str, Any]:
    try:
        with container.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready", never a 500
        return _failure(exc)
    return {"ok": True}


def check_event_store(container: Container) -> tuple[dict[str, Any], int | None]:
    try:
        head = int(container.store.head())
    except Exception as exc:
        return _failure(exc), None
    return {"ok": True, "head": head}, head


def check_broker(container: Container) -> dict[str, Any]:
    broker = getattr(container, "broker", None)
    if broker is None:
        return {"ok": True, "kind": "none"}
    kind = type(broker).__name__
    client = getattr(broker, "client", None)
    if client is None or not hasattr(client, "ping"):
        return {"ok": True, "kind": kind}  # StubBroker and friends live in this process
    try:
        client.ping()
    except Exception as exc:
        return {**_failure(exc), "kind": kind}
    return {"ok": True, "kind": kind}


def check_projections(container: Container, head: int | None, max_lag: int) -> dict[str, Any]:
    from projections.runner import positions

    runner = container.runner
    names = list(runner.names)
    try:
        current = positions(container.engine, names)
    except Exception as exc:
        return {**_failure(exc), "projections": {}}
    error = getattr(runner, "error", None)
    lags: dict[str, dict[str, Any]] = {}
    ok = error is None
    for name in names:
        position = current.get(name, 0)
        lag = max(0, head - position) if head is not None else None
        behind = lag is None or lag > max_lag
        ok = ok and not behind
        lags[name] = {"position": position, "lag": lag, "ok": not behind}
    result: dict[str, Any] = {"ok": ok, "max_lag": max_lag, "projections": lags}
    if error is not None:
        result["error"] = type(error).__name__
        result["detail"] = "the projector stopped on an event; see the logs"
    return result


def check_dispatcher(container: Container, max_lag: int) -> dict[str, Any]:
    """The outbox dispatcher's lag from its tracking row (it may run in the worker process)."""
    dispatcher = getattr(container, "dispatcher", None)
    if dispatcher is None:
        return {"ok": True, "detail": "no dispatcher configured"}
    try:
        status = dispatcher.status()
    except Exception as exc:
        return _failure(exc)
    ok = status["lag"] <= max_lag and not status["error"]
    result = {"ok": ok, "position": status["position"], "lag": status["lag"], "max_lag": max_lag}
    if status["error"]:
        result["error"] = status["error"].split("(", 1)[0]
        result["detail"] = "the dispatcher stopped on an event; see the logs"
    return result


def readiness(container: Container, max_lag: int | None = None) -> tuple[bool, dict[str, Any]]:
    """Every check with its outcome; ready only when all pass."""
    if max_lag is None:
        max_lag = container.ready_max_lag if container.ready_max_lag is not None else DEFAULT_MAX_LAG
    store, head = check_event_store(container)
    checks = {
        "database": check_database(container),
        "event_store": store,
        "broker": check_broker(container),
        "projections": check_projections(container, head, max_lag),
        "dispatcher": check_dispatcher(container, max_lag),
    }
    ready = all(c["ok"] for c in checks.values())
    return ready, {"status": "ok" if ready else "unavailable", "checks": checks}


# Metrics ---------------------------------------------------------------------------------

class _LogCollector(Collector):
    """Projection positions and lag, and the log head, read at scrape time."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Any:
        from projections.runner import positions

        head_gauge = GaugeMetricFamily("retaguarda_event_store_head",
                                       "Position of the last event in the global log")
        position_gauge = GaugeMetricFamily("retaguarda_projection_position",
                                           "Last log position applied by the projection",
                                           labels=["projection"])
        lag_gauge = GaugeMetricFamily("retaguarda_projection_lag_events",
                                      "Events the projection is behind the log head", labels=["projection"])
        failed = GaugeMetricFamily("retaguarda_projector_failed",
                                   "1 when the in-process projector stopped on an error")
        names = list(self.container.runner.names)
        if getattr(self.container, "dispatcher", None) is not None:
            names.append("dispatcher")  # reported like a projection: position and lag
        try:
            head = int(self.container.store.head())
            current = positions(self.container.engine, names)
        except Exception:
            return  # a scrape must not fail; readiness reports the broken dependency
        head_gauge.add_metric([], head)
        for name in names:
            position = current.get(name, 0)
            position_gauge.add_metric([name], position)
            lag_gauge.add_metric([name], max(0, head - position))
        failed.add_metric([], 1 if getattr(self.container.runner, "error", None) else 0)
        yield from (head_gauge, position_gauge, lag_gauge, failed)


class Metrics:
    """One registry per app, so two apps in one process (tests) never share counters."""

    def __init__(self, container: Container) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("retaguarda_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "retaguarda_http_request_duration_seconds", "HTTP request latency by route",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.registry.register(_LogCollector(container))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_metrics_lock = threading.Lock()


def metrics_of(app: Any) -> Metrics:
    metrics = getattr(app.state, "metrics", None)
    if metrics is None:
        with _metrics_lock:
            metrics = getattr(app.state, "metrics", None)
            if metrics is None:
                metrics = Metrics(app.state.container)
                app.state.metrics = metrics
    return metrics


def metrics_middleware(app: Any) -> Any:
    """ASGI middleware timing each request once: the access-log line and the metrics by route template."""
    from retaguarda.logging import log_access

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "<unmatched>"
            metrics_of(scope["app"]).observe(scope.get("method", ""), route, status, elapsed)
            log_access(scope.get("method", ""), scope.get("path", ""), status, round(elapsed * 1000, 2))

    return middleware


# Handlers --------------------------------------------------------------------------------

_OPS = {"public": True}


@get("/health/live", opt=_OPS, include_in_schema=False)
async def health_live() -> dict[str, str]:
    """The process is up and serving (no dependency is touched)."""
    return {"status": "ok"}


@get("/health/ready", opt=_OPS, include_in_schema=False, sync_to_thread=True)
def health_ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when the read DB, event store and broker answer and projections are caught up; else 503."""
    ready, body = readiness(container_of(request))
    return Response(body, status_code=200 if ready else 503,
                    headers={"cache-control": "no-store"})


@get("/metrics", opt=_OPS, include_in_schema=False, sync_to_thread=True)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text format: request counters/latency and projection lag gauges."""
    return Response(metrics_of(request.app).render(), media_type=CONTENT_TYPE_LATEST,
                    headers={"cache-control": "no-store"})


pages = [health_live, health_ready, metrics]
routes: list[Any] = []

__all__ = ["pages", "routes", "metrics_middleware", "readiness", "metrics_of", "DEFAULT_MAX_LAG"]
