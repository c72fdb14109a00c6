"""Authorization instants: every backend's parser turns the provider's time (any offset, or a naive
São Paulo wall clock) into the same aware UTC instant, never later than what it really was and never
a local wall clock read as UTC (the 08:03 vs 11:03 defect). Properties over the sandbox authority
and the Portal Nacional parser (its in-process transport), Focus NFe and PlugNotas (fakes over
real sockets)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.fiscal.backends import make_backend
from retaguarda.fiscal.backends.authority import SimulatedAuthority
from retaguarda.shared.clock import SAO_PAULO, FixedClock, parse_instant, to_utc
from tests.fakes.fiscal import start_fake_focus
from tests.fakes.fiscal.plugnotas import start_fake_plugnotas
from tests.fiscal.wire.conftest import ISSUER_CNPJ, make_request

_numbers = itertools.count(70_000)
# Instants to the second (the providers' resolution), across both sides of midnight and DST-free years.
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2031, 12, 31),
                        timezones=st.just(timezone.utc)).map(lambda d: d.replace(microsecond=0))
# How a provider may write that instant: UTC "Z", its own offset, another offset, or São Paulo wall clock.
renderings = st.sampled_from(["z", "sao_paulo", "minus5", "naive_sao_paulo"])


def render(at: datetime, how: str) -> str:
    if how == "z":
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if how == "sao_paulo":
        return at.astimezone(SAO_PAULO).isoformat()
    if how == "minus5":
        return at.astimezone(timezone(timedelta(hours=-5))).isoformat()
    return at.astimezone(SAO_PAULO).replace(tzinfo=None).isoformat()


def assert_utc(value: datetime | None, expected: datetime) -> None:
    assert value is not None
    assert value.utcoffset() == timedelta(0), f"{value!r} is not UTC"
    assert value == expected, f"{value.isoformat()} != {expected.isoformat()}"


@settings(deadline=None)  # pure, but the machine is shared: no timing in the property
@given(at=instants, how=renderings)
def test_parse_instant_reads_any_offset_or_a_sao_paulo_wall_clock_as_the_same_utc_instant(at, how):
    assert_utc(parse_instant(render(at, how)), at)


def test_a_naive_instant_is_refused_where_no_zone_is_known():
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2026, 12, 4, 11, 3))


# The sandbox's generated A1 is valid from now for about a year: its clock stays inside that.
_now = datetime.now(timezone.utc).replace(microsecond=0)
sandbox_instants = st.integers(min_value=60, max_value=300 * 86400).map(lambda s: _now + timedelta(seconds=s))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=sandbox_instants)
def test_the_sandbox_authority_authorizes_at_its_clock_as_utc_never_before_the_request(at):
    clock = FixedClock(at)
    backend = make_backend("sandbox", settings=None, credentials={}, certificate=None,
                           issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita", clock=clock,
                           authority=SimulatedAuthority(clock=clock))
    requested_at = at - timedelta(seconds=1)
    outcome = backend.emit(make_request(number=next(_numbers), issued_at=requested_at,
                                        competence=requested_at.date().replace(day=1)), "inst-sb")
    assert outcome.status == "authorized", outcome.errors
    assert_utc(outcome.authorized_at, at)
    assert outcome.authorized_at >= requested_at


@pytest.fixture(scope="module")
def focus() -> Any:
    fake = start_fake_focus("focus-instants")
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def plugnotas() -> Any:
    fake = start_fake_plugnotas("pn-instants")
    yield fake
    fake.stop()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=instants, how=renderings)
def test_focus_nfe_data_emissao_is_read_as_the_instant_it_names(focus, at, how):
    focus.authorized_text = render(at, how)
    backend = make_backend("focus_nfe", settings=focus.settings,
                           credentials={"focus_token": "focus-instants"},
                           certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                           clock=FixedClock(at), sleep=lambda s: None, timeout=2.0)
    outcome = backend.emit(make_request(number=next(_numbers)), f"inst-focus-{next(_numbers)}")
    assert outcome.status == "authorized", outcome.errors
    assert_utc(outcome.authorized_at, at)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=instants, how=renderings)
def test_plugnotas_data_autorizacao_is_read_as_the_instant_it_names(plugnotas, at, how):
    plugnotas.authorized_text = render(at, how)
    backend = make_backend("tecnospeed", settings=plugnotas.settings,
                           credentials={"plugnotas_api_key": "pn-instants"}, certificate=None,
                           issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita", clock=FixedClock(at),
                           sleep=lambda s: None, timeout=2.0)
    outcome = backend.emit(make_request(number=next(_numbers)), f"inst-pn-{next(_numbers)}")
    assert outcome.status == "authorized", outcome.errors
    assert_utc(outcome.authorized_at, at)
