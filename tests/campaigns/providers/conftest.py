"""Fixtures: every fake provider on 127.0.0.1 and the real client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from retaguarda.campaigns.providers import MemoryTokenCache, make_provider
from retaguarda.settings import Settings
from retaguarda.shared.clock import FixedClock
from tests.fakes.campaigns.cda import FakeCda, start_fake_cda
from tests.fakes.campaigns.gosac import FakeGosac, start_fake_gosac
from tests.fakes.campaigns.noah import FakeNoah, start_fake_noah
from tests.fakes.campaigns.rbm import FakeRbm, start_fake_rbm
from tests.fakes.campaigns.salesforce import FakeSalesforce, start_fake_salesforce
from tests.fakes.campaigns.samples import NOW
from tests.fakes.campaigns.sms import FakeSms, start_fake_sms


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def _fakes() -> Iterator[dict[str, Any]]:
    """One server per fake for the whole session (RSA key generation and sockets once);
    each test gets them reset."""
    fakes: dict[str, Any] = {
        "cda": start_fake_cda(api_key="cda-key"),
        "noah": start_fake_noah(client_id="noah-id", client_secret="noah-secret"),
        "sms": start_fake_sms(api_key="sms-key"),
        "gosac": start_fake_gosac(token="gosac-token"),
        "rbm": start_fake_rbm(agent_id="agent-1"),
        "salesforce": start_fake_salesforce(client_id="sf-id", client_secret="sf-secret", token_lifetime=1079),
    }
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture
def fakes(_fakes: dict[str, Any]) -> dict[str, Any]:
    for fake in _fakes.values():
        fake.reset()
    _fakes["cda"].invalid_phones.clear()
    _fakes["rbm"].not_capable.clear()
    _fakes["rbm"].no_rich_cards.clear()
    _fakes["rbm"].token_lifetime = 3600
    _fakes["salesforce"].token_lifetime = 1079
    _fakes["salesforce"].token_valid_for = None
    return _fakes


@pytest.fixture
def cda(fakes: dict[str, Any]) -> FakeCda:
    return fakes["cda"]


@pytest.fixture
def noah(fakes: dict[str, Any]) -> FakeNoah:
    return fakes["noah"]


@pytest.fixture
def sms(fakes: dict[str, Any]) -> FakeSms:
    return fakes["sms"]


@pytest.fixture
def gosac(fakes: dict[str, Any]) -> FakeGosac:
    return fakes["gosac"]


@pytest.fixture
def rbm(fakes: dict[str, Any]) -> FakeRbm:
    return fakes["rbm"]


@pytest.fixture
def salesforce(fakes: dict[str, Any]) -> FakeSalesforce:
    return fakes["salesforce"]


@pytest.fixture
def settings(cda: FakeCda, noah: FakeNoah, sms: FakeSms, gosac: FakeGosac, rbm: FakeRbm,
             salesforce: FakeSalesforce) -> Settings:
    return Settings(cda_url=cda.base_url, noah_url=noah.base_url, sms_url=sms.base_url, gosac_url=gosac.base_url,
                    rcs_url=rbm.base_url, rcs_token_url=rbm.base_url, salesforce_url=salesforce.base_url)


CREDENTIALS: dict[str, dict[str, Any]] = {
    "cda": {"api_key": "cda-key", "sender": "RETAGUARDA"},
    "noah": {"client_id": "noah-id", "client_secret": "noah-secret", "channel": "whatsapp"},
    "sms": {"api_key": "sms-key", "sender": "29090"},
    "gosac": {"token": "gosac-token", "account_id": "acc-9"},
    "salesforce": {"client_id": "sf-id", "client_secret": "sf-secret", "sms_definition_key": "retaguarda-sms",
                   "email_definition_key": "retaguarda-email", "event_definition_key": "APIEvent-retaguarda",
                   "data_extension_key": "Campaign_Contacts"},
}


@pytest.fixture
def build(settings: Settings, clock: FixedClock, rbm: FakeRbm) -> Iterator[Any]:
    """build(name, **credential overrides) -> the real provider against its fake."""
    made: list[Any] = []
    cache = MemoryTokenCache()

    def _build(name: str, *, fallback: bool = True, timeout: float = 1.0, **overrides: Any) -> Any:
        if name == "rcs":
            creds: dict[str, Any] = {"agent_id": rbm.agent_id, "service_account_json": rbm.service_account_json()}
        else:
            creds = dict(CREDENTIALS[name])
        creds.update(overrides)
        sms_fallback = _build("sms") if name == "rcs" and fallback else None
        provider = make_provider(name, settings=settings, credentials=creds, clock=clock,
                                 sms_fallback=sms_fallback, token_cache=cache, timeout=timeout)
        made.append(provider)
        return provider

    yield _build
    for provider in made:
        provider.close()
