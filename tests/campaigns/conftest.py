"""Campaign tests: a live container whose providers point at C1's fake servers on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from retaguarda.shared.meta import Meta
from tests.conftest import build_container

TENANT = "tenant-camp"
WEBHOOK_SECRET = "wp-webhook-secret-0123456789"


class FastClock:
    """Wall-clock time sped up `speed` times from `start` (two-step delays pass in milliseconds)."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.start = start
        self.speed = speed
        self.origin = time.monotonic()
        self.offset = timedelta()

    def now(self) -> datetime:
        return self.start + self.offset + timedelta(seconds=(time.monotonic() - self.origin) * self.speed)

    def jump(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


# 15:00 UTC = 12:00 in São Paulo: inside the default marketing window.
NOON_SP = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def fakes(clock: Any) -> Iterator[dict[str, Any]]:
    from tests.fakes.campaigns.cda import start_fake_cda
    from tests.fakes.campaigns.gosac import start_fake_gosac
    from tests.fakes.campaigns.noah import start_fake_noah
    from tests.fakes.campaigns.rbm import start_fake_rbm
    from tests.fakes.campaigns.salesforce import start_fake_salesforce
    from tests.fakes.campaigns.sms import start_fake_sms
    from tests.fakes.campaigns.wordpress import start_fake_wordpress

    started = {"cda": start_fake_cda(), "gosac": start_fake_gosac(), "noah": start_fake_noah(),
               "rcs": start_fake_rbm(), "sms": start_fake_sms(), "salesforce": start_fake_salesforce(),
               "wordpress": start_fake_wordpress(secret=WEBHOOK_SECRET, clock=clock)}
    yield started
    for fake in started.values():
        fake.stop()


def credentials(fakes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rbm = fakes["rcs"]
    return {
        "cda": {"api_key": "cda-test-key", "sender": "RETAGUARDA"},
        "gosac": {"token": "gosac-test-token", "account_id": "acc-1"},
        "noah": {"client_id": "noah-client", "client_secret": "noah-secret", "channel": "sms"},
        "sms": {"api_key": "sms-test-key", "sender": "RETAGUARDA"},
        "rcs": {"agent_id": rbm.agent_id, "service_account_json": rbm.service_account_json()},
        "salesforce": {"subdomain": "test", "client_id": "sf-client", "client_secret": "sf-secret",
                       "data_extension_key": "retaguarda_contacts", "sms_definition_key": "retaguarda-sms",
                       "event_definition_key": "APIEvent-retaguarda"},
    }


@pytest.fixture
def clock() -> FastClock:
    return FastClock(NOON_SP)


@pytest.fixture
def camp(tmp_path: Any, fakes: dict[str, Any], clock: FastClock) -> Iterator[Any]:
    """A live container (projector, dispatcher, in-process worker) with fast pipeline knobs."""
    from retaguarda.integrations.jobs import tune_actors

    urls = {f"{name}_url": fakes[name].base_url for name in ("cda", "gosac", "noah", "rcs", "sms", "salesforce")}
    container = build_container(tmp_path / "var", rcs_token_url=fakes["rcs"].base_url, **urls)
    container.clock = clock
    container.campaigns.clock = clock
    t = container.campaigns_tuning
    t.max_delay_seconds = 0.2
    t.finalize_every_seconds = 0.1
    t.campaign_cache_seconds = 0.05
    t.settings_cache_seconds = 0.05
    t.http_timeout = 2.0
    tune_actors(container.broker, min_backoff=20, max_backoff=100)
    meta = Meta(tenant_id=TENANT, actor="user-1", correlation_id="setup", at=clock.now())
    container.campaigns.configure(
        meta, general={"backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.2,
                       "webhook_url": fakes["wordpress"].webhook_url},
        credentials=credentials(fakes), webhook_secret=WEBHOOK_SECRET)
    container.runner.start_thread()
    container.start_embedded()
    yield container
    container.close()


def make_meta(container: Any, actor: str = "user-1") -> Meta:
    return Meta(tenant_id=TENANT, actor=actor, correlation_id="corr", at=container.clock.now())


def recipients(count: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [{"phone": f"+55119{87650000 + start + i:08d}", "name": f"Pessoa {start + i}", "consent": True,
             **extra} for i in range(count)]


def wait_until(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    return value


def row(container: Any, campaign_id: str) -> dict[str, Any] | None:
    from projections.campaigns.campaign_progress import get_campaign_row

    with container.engine.connect() as conn:
        return get_campaign_row(conn, None, campaign_id)


def dispatch(container: Any, provider: str = "cda", count: int = 5, **kwargs: Any) -> str:
    fields: dict[str, Any] = dict(external_id=f"wp-{provider}-{time.monotonic_ns()}", name="Black Friday",
                                  provider=provider, content={"text": "Oferta especial!"},
                                  recipients=recipients(count))
    fields.update(kwargs)
    saved, _ = container.campaigns.dispatch_campaign(make_meta(container), **fields)
    return str(saved.aggregate.id)


def finished(container: Any, campaign_id: str, timeout: float = 30.0) -> dict[str, Any]:
    from retaguarda.campaigns.domain import TERMINAL

    result = wait_until(lambda: (r := row(container, campaign_id)) and r["status"] in TERMINAL and r, timeout)
    assert result, f"campaign did not finish: {row(container, campaign_id)}"
    return result
