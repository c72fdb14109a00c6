"""Metrics and traces of the cnpj context.

Prometheus: provider latency histogram and errors, cache hits/misses, breaker state and job queue
time, in a registry of our own that `install` bridges into the app's `/metrics` at start-up.
OpenTelemetry: spans API → actor → provider call; the exporter comes from
`settings.otel_exporter` (empty: no exporter, spans still give trace ids to the logs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from retaguarda.cnpj.providers.chain import STATE_VALUE

_providers_lock = threading.Lock()
_tracer_providers: dict[str, TracerProvider] = {}


def tracer_provider(exporter: str) -> TracerProvider:
    """One TracerProvider per exporter setting per process (several containers in tests)."""
    with _providers_lock:
        provider = _tracer_providers.get(exporter)
        if provider is None:
            provider = TracerProvider()
            if exporter == "console":
                provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
            elif exporter.startswith(("http://", "https://")):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=exporter)))
            _tracer_providers[exporter] = provider
        return provider


class Telemetry:
    def __init__(self, exporter: str = "") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram("retaguarda_cnpj_provider_seconds", "CNPJ provider call latency",
                                 ["provider", "outcome"], registry=self.registry,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0))
        self.errors = Counter("retaguarda_cnpj_provider_errors", "CNPJ provider failures by kind",
                              ["provider", "kind"], registry=self.registry)
        self.cache = Counter("retaguarda_cnpj_cache", "CNPJ snapshot cache lookups", ["result"],
                             registry=self.registry)
        self.checks = Counter("retaguarda_cnpj_checks", "CNPJ checks by outcome", ["outcome"],
                              registry=self.registry)
        self.queue_time = Histogram("retaguarda_cnpj_job_queue_seconds",
                                    "Time a queued CNPJ check waited for a worker", registry=self.registry,
                                    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0))
        self.tracer = tracer_provider(exporter).get_tracer("retaguarda.cnpj")
        self.chain: Any = None
        for outcome in ("hit", "miss"):
            self.cache.labels(outcome)

    def observe_provider(self, provider: str, outcome: str, seconds: float) -> None:
        self.latency.labels(provider, outcome).observe(seconds)
        if outcome not in ("ok", "not_found"):
            self.errors.labels(provider, outcome).inc()

    @contextmanager
    def span(self, name: str, parent: str = "", **attributes: Any) -> Iterator[Any]:
        """A span (child of the current one, or of the W3C `parent` traceparent); its trace id
        is bound into the structlog context while it is open."""
        context = TraceContextTextMapPropagator().extract({"traceparent": parent}) if parent else None
        with self.tracer.start_as_current_span(name, context=context) as span:
            for key, value in attributes.items():
                span.set_attribute(f"cnpj.{key}", str(value))
            trace_id = format(span.get_span_context().trace_id, "032x")
            tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id)
            try:
                yield span
            finally:
                structlog.contextvars.reset_contextvars(**tokens)

    @staticmethod
    def traceparent() -> str:
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        return carrier.get("traceparent", "")

    @staticmethod
    def current_trace_id() -> str:
        ctx = trace.get_current_span().get_span_context()
        return format(ctx.trace_id, "032x") if ctx.is_valid else ""


class Bridge(Collector):
    """Yields our registry's metrics plus breaker states into the app's registry at scrape time."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def collect(self) -> Any:
        yield from self.telemetry.registry.collect()
        state = GaugeMetricFamily("retaguarda_cnpj_breaker_state",
                                  "Circuit breaker per CNPJ provider: 0 closed, 1 half-open, 2 open",
                                  labels=["provider"])
        chain = self.telemetry.chain
        for item in chain.health() if chain is not None else []:
            state.add_metric([item["provider"]], STATE_VALUE[item["state"]])
        yield state
