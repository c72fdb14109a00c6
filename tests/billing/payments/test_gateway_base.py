"""Shared gateway plumbing: Retry-After parsing, signature headers, error kinds."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import pytest

from retaguarda.billing.gateways.base import (
    GatewayError,
    PermanentGatewayError,
    TransientGatewayError,
    WebhookSignatureError,
    check_timestamp,
    parse_signature_header,
)
from retaguarda.integrations.errors import PermanentError, TransientError
from retaguarda.integrations.http import parse_retry_after as retry_after_seconds


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("1.5") == 1.5
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("Mon, 23 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Mon, 23 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_signature_headers_are_split_into_lists():
    assert parse_signature_header("t=1, v1=a,v1=b,v0=c,junk,=x") == {"t": ["1"], "v1": ["a", "b"], "v0": ["c"]}
    assert parse_signature_header("") == {}


def test_timestamps_outside_the_window_are_refused():
    now = datetime.fromtimestamp(1_000_000, timezone.utc)
    check_timestamp(1_000_000 - 300, now, 300)
    check_timestamp(1_000_000 + 300, now, 300)
    with pytest.raises(WebhookSignatureError):
        check_timestamp(1_000_000 - 301, now, 300)
    with pytest.raises(WebhookSignatureError):
        check_timestamp(1_000_000 + 301, now, 300)


def test_errors_are_the_integration_kinds_jobs_know_and_survive_pickling():
    transient = GatewayError("x", transient=True, retry_after=3, status=503, provider="stripe")
    permanent = GatewayError("y", transient=False, status=400, code="bad")
    assert isinstance(transient, TransientGatewayError) and isinstance(transient, TransientError)
    assert isinstance(permanent, PermanentGatewayError) and isinstance(permanent, PermanentError)
    assert not isinstance(permanent, TransientError)
    again = pickle.loads(pickle.dumps(transient))
    assert isinstance(again, TransientGatewayError) and again.transient and str(again) == "x"
