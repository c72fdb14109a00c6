"""Fixtures for the payment adapters: fake providers on 127.0.0.1 and a webhook sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.billing import start_fake_access_network, start_fake_mercadopago, start_fake_stripe
from tests.fakes.billing._http import Call, FakeHttpServer, Response


class WebhookSink(FakeHttpServer):
    """Records every POST it gets (raw body, headers, query) and answers 200."""

    name = "webhook-sink"

    def routes(self) -> list:
        return [("POST", r"/.*", self._ok)]

    def _ok(self, call: Call) -> Response:
        return Response(200, {"received": True})

    @property
    def url(self) -> str:
        return f"{self.base_url}/hook"

    def posts(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and not c.fault]


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    server = WebhookSink().start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
def fake_stripe(sink: WebhookSink) -> Iterator:
    fake = start_fake_stripe(webhook_url=sink.url, secret="whsec_test_secret", api_key="sk_test_fake")
    yield fake
    fake.stop()


@pytest.fixture
def fake_mp(sink: WebhookSink) -> Iterator:
    fake = start_fake_mercadopago(webhook_url=sink.url, secret="mp_test_secret",
                                  access_token="TEST-fake-token")
    yield fake
    fake.stop()


@pytest.fixture
def fake_network() -> Iterator:
    fake = start_fake_access_network(secret="an-secret")
    yield fake
    fake.stop()


class Sleeps(list):
    """Injected as the clients' `sleep`: records the backoff delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
