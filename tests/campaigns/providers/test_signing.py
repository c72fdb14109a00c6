"""HMAC signatures of WordPress status callbacks, and the fake WordPress receiver checking them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retaguarda.campaigns.signing import SIGNATURE_HEADER, SignatureError, sign, signed_headers, verify
from tests.fakes.campaigns.samples import NOW
from tests.fakes.campaigns.wordpress import FakeWordPress, start_fake_wordpress

SECRET = "whsec-tenant-a"
BODY = json.dumps({"campaign_id": "camp-1", "status": "completed"}).encode()


def test_a_signed_body_verifies_and_returns_its_timestamp() -> None:
    header = sign(BODY, SECRET, now=NOW)
    assert header.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(BODY, header, SECRET, now=NOW + timedelta(seconds=30)) == int(NOW.timestamp())


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_stale_or_future_signatures_are_refused(age: int) -> None:
    header = sign(BODY, SECRET, now=NOW)
    with pytest.raises(SignatureError, match="stale"):
        verify(BODY, header, SECRET, now=NOW + timedelta(seconds=age))


def test_a_changed_body_a_wrong_secret_or_a_moved_timestamp_fail() -> None:
    header = sign(BODY, SECRET, now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY.replace(b"completed", b"failed"), header, SECRET, now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY, header, "other-secret", now=NOW)
    moved = header.replace(f"t={int(NOW.timestamp())}", f"t={int(NOW.timestamp()) + 1}")
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY, moved, SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=abc,v1=abc", "t=1700000000", "garbage"])
def test_missing_or_malformed_headers_fail(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(BODY, header, SECRET, now=NOW)


def test_rotation_signs_with_both_secrets_and_either_verifies() -> None:
    header = sign(BODY, ["new-secret", "old-secret"], now=NOW)
    assert verify(BODY, header, "old-secret", now=NOW) and verify(BODY, header, "new-secret", now=NOW)
    with pytest.raises(ValueError):
        sign(BODY, "", now=NOW)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40),
       flip=st.integers(min_value=0, max_value=10_000))
def test_any_body_round_trips_and_any_single_byte_change_fails(body: bytes, secret: str, flip: int) -> None:
    header = sign(body, secret, now=NOW)
    assert verify(body, header, secret, now=NOW) == int(NOW.timestamp())
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        with pytest.raises(SignatureError):
            verify(tampered, header, secret, now=NOW)


@pytest.fixture
def wordpress() -> Iterator[FakeWordPress]:
    fake = start_fake_wordpress(secret=SECRET)
    yield fake
    fake.stop()


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=5)


def test_the_fake_wordpress_accepts_correctly_signed_callbacks(wordpress: FakeWordPress) -> None:
    from datetime import datetime, timezone

    response = _post(wordpress.webhook_url, BODY, signed_headers(BODY, SECRET, now=datetime.now(timezone.utc)))
    assert response.status_code == 200
    assert wordpress.accepted() == [{"campaign_id": "camp-1", "status": "completed"}]


def test_the_fake_wordpress_refuses_forged_and_stale_callbacks(wordpress: FakeWordPress) -> None:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    forged = _post(wordpress.webhook_url, BODY, {SIGNATURE_HEADER: sign(BODY, "not-the-secret", now=now)})
    stale = _post(wordpress.webhook_url, BODY, {SIGNATURE_HEADER: sign(BODY, SECRET, now=now - timedelta(hours=1))})
    unsigned = _post(wordpress.webhook_url, BODY, {})
    assert [r.status_code for r in (forged, stale, unsigned)] == [401, 401, 401]
    assert [c["reason"] for c in wordpress.callbacks] == ["signature does not match", "stale signature",
                                                          "missing signature"]
    assert wordpress.accepted() == []


def test_the_fake_wordpress_can_be_down_for_a_while(wordpress: FakeWordPress) -> None:
    from datetime import datetime, timezone

    wordpress.fail_next(2, 503)
    codes = [_post(wordpress.webhook_url, BODY, signed_headers(BODY, SECRET, now=datetime.now(timezone.utc)))
             .status_code for _ in range(3)]
    assert codes == [503, 503, 200] and len(wordpress.accepted()) == 1


def test_the_fake_wordpress_can_use_a_test_clock(clock: Any) -> None:
    fake = start_fake_wordpress(secret=SECRET, clock=clock)
    try:
        assert _post(fake.webhook_url, BODY, signed_headers(BODY, SECRET, now=clock.now())).status_code == 200
    finally:
        fake.stop()
