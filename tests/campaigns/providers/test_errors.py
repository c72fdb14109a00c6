"""The error taxonomy of the port: what the pipeline retries, when, and what it never retries."""

from __future__ import annotations

import pickle
from datetime import timedelta

import httpx
import pytest

from retaguarda.campaigns.providers import (
    NotCapableError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from retaguarda.campaigns.providers.base import classify_response
from retaguarda.integrations.errors import PermanentError, TransientError
from retaguarda.integrations.http import parse_retry_after
from tests.fakes.campaigns.samples import NOW


def test_the_kind_picks_the_class_and_the_dramatiq_family() -> None:
    transient = ProviderError("transient", "boom", status=503, retry_after=2.5, provider="cda")
    permanent = ProviderError("permanent", "bad phone", status=422, provider="cda")
    not_capable = ProviderError("not_capable", "no RCS", provider="rcs")
    assert type(transient) is TransientProviderError and isinstance(transient, TransientError)
    assert type(permanent) is PermanentProviderError and isinstance(permanent, PermanentError)
    assert type(not_capable) is NotCapableError and isinstance(not_capable, PermanentError)
    assert str(transient) == "cda transient, HTTP 503, retry after 2.5s: boom"
    with pytest.raises(ValueError):
        PermanentProviderError("transient")


def test_errors_survive_pickling_between_processes() -> None:
    error = ProviderError("transient", "x", status=429, retry_after=5, provider="salesforce")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.kind, copy.status, copy.retry_after, copy.provider) == (
        TransientProviderError, "transient", 429, 5, "salesforce")


@pytest.mark.parametrize(("status", "kind"), [(400, "permanent"), (401, "permanent"), (404, "permanent"),
                                              (408, "transient"), (409, "permanent"), (422, "permanent"),
                                              (429, "transient"), (500, "transient"), (503, "transient")])
def test_http_statuses_map_to_kinds(status: int, kind: str) -> None:
    assert classify_response("x", httpx.Response(status, json={"message": "m"}), NOW).kind == kind


def test_retry_after_reads_seconds_dates_and_bodies() -> None:
    later = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("12", now=NOW) == 12
    assert parse_retry_after(later, now=NOW) == 90
    assert parse_retry_after("soon", now=NOW) is None and parse_retry_after(None) is None
    by_body = classify_response("salesforce", httpx.Response(429, json={"errorcode": 50100, "retryAfter": 5}), NOW)
    assert by_body.retry_after == 5
    assert classify_response("x", httpx.Response(503, text="<html>down</html>"), NOW).detail == "<html>down</html>"


def test_make_provider_knows_every_provider_and_refuses_others(clock: object) -> None:
    from retaguarda.campaigns.providers import PROVIDER_NAMES, make_provider
    from retaguarda.settings import Settings

    settings = Settings()
    for name in (*PROVIDER_NAMES, "sms"):
        provider = make_provider(name, settings=settings, credentials={}, clock=clock)
        assert provider.name == name
        provider.close()  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        make_provider("carrier-pigeon", settings=settings, credentials={}, clock=clock)
