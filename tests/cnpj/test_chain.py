"""The real httpx clients and the fallback chain against the fake providers on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from retaguarda.cnpj.install import make_chain
from retaguarda.cnpj.providers import RateLimited, TransientProviderError
from retaguarda.cnpj.providers.brasilapi import BrasilApi
from retaguarda.cnpj.providers.chain import CLOSED, HALF_OPEN, OPEN, ProviderChain
from retaguarda.cnpj.providers.cnpjws import CnpjWs
from retaguarda.cnpj.providers.receitaws import ReceitaWs
from retaguarda.cnpj.telemetry import Telemetry
from retaguarda.integrations.http import parse_retry_after
from retaguarda.shared.documents import make_cnpj
from tests.fakes.cnpj import sample_company

ORDER = ["cnpjws", "brasilapi", "receitaws"]
ACME = sample_company()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def chain_for(fakes, clock=None, **options):
    providers = {"cnpjws": CnpjWs(fakes["cnpjws"].url, backoff=0.01),
                 "brasilapi": BrasilApi(fakes["brasilapi"].url, backoff=0.01),
                 "receitaws": ReceitaWs(fakes["receitaws"].url, backoff=0.01)}
    return ProviderChain(providers, clock=clock or Clock(), **options)


def everywhere(fakes, company):
    for fake in fakes.values():
        fake.add(company)


def test_default_clients_use_the_documented_paths_and_timeouts(fakes):
    class S:
        cnpjws_url, brasilapi_url, receitaws_url = fakes["cnpjws"].url, fakes["brasilapi"].url, fakes["receitaws"].url

    chain = make_chain(S, Telemetry())
    everywhere(fakes, ACME)
    for name in ORDER:
        provider = chain.providers[name]
        timeout = provider.client.timeout
        assert (timeout.connect, timeout.read) == (2.0, 5.0)
        assert provider.lookup(ACME.cnpj).snapshot["razao_social"] == ACME.razao_social
    assert fakes["cnpjws"].requests == [f"/cnpj/{ACME.cnpj}"]
    assert fakes["brasilapi"].requests == [f"/api/cnpj/v1/{ACME.cnpj}"]
    assert fakes["receitaws"].requests == [f"/v1/cnpj/{ACME.cnpj}"]


def test_transient_faults_are_retried_with_backoff_then_the_answer_comes(fakes):
    everywhere(fakes, ACME)
    fakes["cnpjws"].fail_next(2, status=503)
    result = chain_for(fakes).lookup(ACME.cnpj, ORDER)
    assert result.result.provider == "cnpjws" and result.attempts[0].tries == 3
    assert fakes["cnpjws"].calls == 3 and fakes["brasilapi"].calls == 0


def test_fallback_goes_down_the_order_and_keeps_every_error(fakes):
    everywhere(fakes, ACME)
    fakes["cnpjws"].fail_next(3, status=502)
    fakes["brasilapi"].malformed_next(1)
    result = chain_for(fakes).lookup(ACME.cnpj, ORDER)
    assert result.result.provider == "receitaws"
    assert [(a.provider, a.outcome) for a in result.attempts] == [
        ("cnpjws", "transient"), ("brasilapi", "malformed"), ("receitaws", "ok")]
    assert "HTTP 502" in result.attempts[0].message and "not JSON" in result.attempts[1].message
    # malformed answers are not retried: the next provider is asked instead
    assert fakes["brasilapi"].calls == 1


def test_the_tenant_order_decides_who_is_asked_first(fakes):
    everywhere(fakes, ACME)
    result = chain_for(fakes).lookup(ACME.cnpj, ["receitaws", "cnpjws"])
    assert result.result.provider == "receitaws" and fakes["cnpjws"].calls == 0


@pytest.mark.parametrize("first", ["cnpjws", "brasilapi", "receitaws"])
def test_not_found_is_an_answer_and_does_not_fall_through(fakes, first):
    # Nobody has this company: the first provider's "not found" ends the chain
    result = chain_for(fakes).lookup(make_cnpj("987654320001"), [first] + [p for p in ORDER if p != first])
    assert result.result is not None and result.result.found is False and result.result.provider == first
    assert [a.outcome for a in result.attempts] == ["not_found"]
    assert sum(f.calls for f in fakes.values()) == 1


def test_429_moves_on_and_the_provider_is_not_called_before_retry_after(fakes):
    everywhere(fakes, ACME)
    fakes["cnpjws"].rate_limit(3, window=60)  # the free tier: 3 requests per minute, no Retry-After
    clock = Clock()
    chain = chain_for(fakes, clock)
    for _ in range(3):
        assert chain.lookup(ACME.cnpj, ORDER).result.provider == "cnpjws"
    fourth = chain.lookup(ACME.cnpj, ORDER)
    assert fourth.result.provider == "brasilapi"
    assert fourth.attempts[0].outcome == "rate_limited" and "retry after 20s" in fourth.attempts[0].message
    # Within the wait, cnpjws is skipped without a request
    clock.t += 19
    fifth = chain.lookup(ACME.cnpj, ORDER)
    assert fifth.attempts[0].outcome == "skipped" and fakes["cnpjws"].calls == 4
    # A 429 is not a provider failure: the breaker stays closed
    assert chain.breakers["cnpjws"].state == CLOSED
    clock.t += 2
    fakes["cnpjws"].rate_limit(100)
    assert chain.lookup(ACME.cnpj, ORDER).result.provider == "cnpjws"


def test_retry_after_header_is_honoured_in_seconds_or_as_a_date(fakes):
    everywhere(fakes, ACME)
    fakes["brasilapi"].rate_limit(0, retry_after="90")
    with pytest.raises(RateLimited) as exc:
        BrasilApi(fakes["brasilapi"].url).lookup(ACME.cnpj)
    assert exc.value.retry_after == 90.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", default=5) == 0.0
    assert parse_retry_after(None, default=60) == 60


def test_a_slow_provider_times_out_and_the_next_one_answers(fakes):
    everywhere(fakes, ACME)
    fakes["cnpjws"].delay = 1.0
    providers = {"cnpjws": CnpjWs(fakes["cnpjws"].url, total_timeout=0.3, retries=0),
                 "brasilapi": BrasilApi(fakes["brasilapi"].url)}
    result = ProviderChain(providers).lookup(ACME.cnpj, ["cnpjws", "brasilapi"])
    assert result.result.provider == "brasilapi"
    assert result.attempts[0].outcome == "transient" and "timed out" in result.attempts[0].message
    with pytest.raises(TransientProviderError):
        CnpjWs(fakes["cnpjws"].url, total_timeout=0.3, backoff=0.05).lookup(ACME.cnpj)


def test_unreachable_provider_is_a_transient_failure():
    provider = CnpjWs("http://127.0.0.1:9", retries=1, backoff=0.01)
    with pytest.raises(TransientProviderError, match="unreachable"):
        provider.lookup(ACME.cnpj)
    assert provider.last_tries == 2


def test_breaker_opens_after_repeated_failures_half_opens_and_closes(fakes):
    everywhere(fakes, ACME)
    clock = Clock()
    chain = chain_for(fakes, clock, threshold=3, cooldown=30)
    fakes["cnpjws"].fail_next(9, status=500)  # three lookups × three tries each
    for _ in range(3):
        assert chain.lookup(ACME.cnpj, ORDER).result.provider == "brasilapi"
    assert chain.breakers["cnpjws"].state == OPEN and fakes["cnpjws"].calls == 9
    # Open: skipped without a request
    skipped = chain.lookup(ACME.cnpj, ORDER)
    assert skipped.attempts[0].outcome == "skipped" and "circuit open" in skipped.attempts[0].message
    assert fakes["cnpjws"].calls == 9
    # After the cool-down one trial call goes through; it fails → open again
    clock.t += 31
    assert chain.health()[0]["state"] == HALF_OPEN
    fakes["cnpjws"].fail_next(3, status=500)
    chain.lookup(ACME.cnpj, ORDER)
    assert chain.breakers["cnpjws"].state == OPEN and fakes["cnpjws"].calls == 12
    # Next cool-down: the trial succeeds → closed
    clock.t += 31
    assert chain.lookup(ACME.cnpj, ORDER).result.provider == "cnpjws"
    assert chain.breakers["cnpjws"].state == CLOSED and chain.breakers["cnpjws"].opened_count == 2


def test_alphanumeric_cnpj_goes_to_the_provider_that_supports_it(fakes):
    alnum = sample_company(cnpj="12ABC34501DE35")
    everywhere(fakes, alnum)
    result = chain_for(fakes).lookup("12ABC34501DE35", ORDER)
    assert result.result.provider == "brasilapi"
    assert result.attempts[0].outcome == "unsupported" and "alphanumeric" in result.attempts[0].message
    assert fakes["cnpjws"].calls == 0 and fakes["receitaws"].calls == 0
    # When no provider in the order supports it, nobody is called and the reason is clear
    none = chain_for(fakes).lookup("12ABC34501DE35", ["cnpjws", "receitaws"])
    assert none.result is None and {a.outcome for a in none.attempts} == {"unsupported"}


def test_receitaws_errors_in_the_body_are_understood(fakes):
    fakes["receitaws"].add(ACME)
    provider = ReceitaWs(fakes["receitaws"].url)
    assert provider.lookup(make_cnpj("987654320001")).found is False
    # the httpx client is real: a 200 whose body is not JSON is malformed, not a crash
    fakes["receitaws"].malformed_next(1)
    with pytest.raises(Exception, match="not JSON"):
        provider.lookup(ACME.cnpj)
    assert isinstance(provider.client, httpx.Client)
