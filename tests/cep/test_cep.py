"""The CEP lookup port: the real BrasilAPI and ViaCEP clients against fakes over real sockets —
cache, retry, fallback, not-found and unavailable — and the API the address autofill calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from retaguarda.customers.cep import CepInvalid, CepNotFound, CepUnavailable
from retaguarda.customers.cep.providers import BrasilApiCep, ViaCep
from retaguarda.customers.cep.service import CepService
from tests.fakes.cep import FakeCep, start_fake_cep


@pytest.fixture
def fake() -> Iterator[FakeCep]:
    server = start_fake_cep()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def service(fake: FakeCep, clock: Clock, **kw: Any) -> CepService:
    return CepService([BrasilApiCep(fake.brasilapi.base_url, timeout=1.0),
                       ViaCep(fake.viacep.base_url, timeout=1.0)],
                      monotonic=clock.monotonic, sleep=clock.sleep, **kw)


def test_brasilapi_answers_and_the_second_lookup_comes_from_the_cache(fake):
    clock = Clock()
    cep = service(fake, clock)
    found = cep.lookup("01001-000")
    assert (found.street, found.district, found.city, found.uf, found.ibge_code, found.source) == (
        "Praça da Sé", "Sé", "São Paulo", "SP", "3550308", "brasilapi")
    assert cep.lookup("01001000") == found
    assert fake.brasilapi.control.count("GET", "/api/cep/v1/") == 1 and cep.stats["hits"] == 1
    assert fake.viacep.control.count("GET", "/ws/") == 0
    assert "Retaguarda" in fake.brasilapi.control.requests[0]["headers"].get("User-Agent", "")


def test_a_failing_brasilapi_is_retried_once_then_viacep_answers_and_brasilapi_cools_down(fake):
    clock = Clock()
    cep = service(fake, clock, cooldown=60)
    fake.brasilapi.control.fail_next("503", times=2)
    found = cep.lookup("30130010")
    assert (found.city, found.ibge_code, found.source) == ("Belo Horizonte", "3106200", "viacep")
    assert fake.brasilapi.control.count("GET", "/api/cep/") == 2 and clock.slept == [0.2]
    # Within the cooldown BrasilAPI is not asked again; after it, it is
    cep.lookup("20040020")
    assert fake.brasilapi.control.count("GET", "/api/cep/") == 2
    clock.now += 61
    cep.lookup("01001000")
    assert fake.brasilapi.control.count("GET", "/api/cep/") == 3


def test_a_429_with_retry_after_is_honoured_within_a_cap(fake):
    clock = Clock()
    fake.brasilapi.control.fail_next("429", retry_after=1)
    assert service(fake, clock).lookup("01001000").source == "brasilapi"
    assert clock.slept == [1.0]
    fake.brasilapi.control.fail_next("429", retry_after=120)
    clock.slept.clear()
    service(fake, clock, max_wait=2.0).lookup("20040020")
    assert clock.slept == [2.0]


def test_an_unknown_cep_is_not_found_and_that_is_cached_for_a_while(fake):
    clock = Clock()
    cep = service(fake, clock, negative_ttl=3600)
    with pytest.raises(CepNotFound):
        cep.lookup("99999-999")
    with pytest.raises(CepNotFound):
        cep.lookup("99999999")
    assert fake.brasilapi.control.count("GET", "/api/cep/") == 1
    clock.now += 3601
    fake.addresses["99999999"] = ("Rua Nova", "Bairro Novo", "Campinas", "SP", "3509502")
    assert cep.lookup("99999999").city == "Campinas"


def test_viacep_erro_true_means_not_found_and_malformed_answers_fall_through(fake):
    clock = Clock()
    fake.brasilapi.control.fail_next("malformed", times=2)
    with pytest.raises(CepNotFound):
        service(fake, clock).lookup("12345678")
    assert fake.viacep.control.count("GET", "/ws/12345678/json/") == 1


def test_every_provider_down_is_unavailable_and_bad_input_never_leaves_the_process(fake):
    clock = Clock()
    fake.brasilapi.control.fail_next("500", times=2)
    fake.viacep.control.fail_next("503", times=2)
    with pytest.raises(CepUnavailable) as err:
        service(fake, clock).lookup("01001000")
    assert "brasilapi" in str(err.value) and "viacep" in str(err.value)
    for bad in ("", "0100100", "01001-0000", "abc"):
        with pytest.raises(CepInvalid):
            service(fake, clock).lookup(bad)
    assert fake.brasilapi.control.count("GET", "/") == 2


def test_a_timeout_counts_as_transient(fake):
    clock = Clock()
    fake.brasilapi.control.fail_next("timeout", times=2, delay=1.5)
    assert service(fake, clock).lookup("01001000").source == "viacep"


@pytest.mark.e2e
def test_the_api_the_form_calls(tmp_path, fake):
    from litestar.testing import TestClient

    from retaguarda.main import create_app
    from tests.conftest import build_container
    from tests.integrations.helpers import install_test_authenticator

    c = build_container(tmp_path / "var", brasilapi_url=fake.brasilapi.base_url,
                        viacep_url=fake.viacep.base_url)
    install_test_authenticator(c)
    try:
        with TestClient(create_app(c), base_url="http://127.0.0.1:8000") as client:
            staff = {"x-test-role": "manager"}
            r = client.get("/api/v1/cep/01001-000", headers=staff)
            assert r.status_code == 200 and r.json()["ibge_code"] == "3550308", r.text
            bad = client.get("/api/v1/cep/123", headers=staff)
            assert bad.status_code == 422 and bad.json()["field"] == "cep"
            assert client.get("/api/v1/cep/99999999", headers=staff).status_code == 404
            fake.brasilapi.control.fail_next("503", times=2)
            fake.viacep.control.fail_next("503", times=2)
            down = client.get("/api/v1/cep/20040020", headers=staff)
            assert down.status_code == 503 and down.headers["retry-after"] == "30"
            assert client.get("/api/v1/cep/01001000").status_code == 401
    finally:
        c.close()
