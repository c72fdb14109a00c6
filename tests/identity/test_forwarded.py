"""#20 defect 7 (part): behind a configured proxy the login throttle counts the real client address."""

from __future__ import annotations

from pathlib import Path

import pytest

from retaguarda.web.forwarded import client_address
from tests.conftest import build_container
from tests.identity.helpers import PASSWORD, api_signup

PROXY = ("10.0.0.0/8",)


@pytest.mark.parametrize(("peer", "header", "trusted", "expected"), [
    ("10.0.0.5", "203.0.113.7", PROXY, "203.0.113.7"),
    ("10.0.0.5", "198.51.100.1, 203.0.113.7, 10.0.0.9", PROXY, "203.0.113.7"),  # right-most untrusted
    ("203.0.113.9", "1.2.3.4", PROXY, "203.0.113.9"),  # not from a proxy: the header is ignored
    ("10.0.0.5", "1.2.3.4", (), "10.0.0.5"),  # no trusted proxies configured
    ("10.0.0.5", "not-an-ip", PROXY, "10.0.0.5"),
    ("10.0.0.5", None, PROXY, "10.0.0.5"),
    ("10.0.0.5", "2001:db8::1", PROXY, "2001:db8::1"),
])
def test_the_client_address(peer: str, header: str | None, trusted: tuple[str, ...], expected: str) -> None:
    assert client_address(peer, header, trusted) == expected


def test_one_noisy_client_behind_the_proxy_does_not_lock_out_the_others(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    container = build_container(tmp_path / "var", trusted_proxies=("127.0.0.1/32", "testclient"))
    container.runner.start_thread()
    try:
        with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
            api_signup(client, "ana@acme.test")
            for i in range(25):
                client.post("/api/v1/auth/login", json={"email": f"x{i}@acme.test", "password": "wrong-password"},
                            headers={"x-forwarded-for": "203.0.113.66"})
            noisy = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD},
                                headers={"x-forwarded-for": "203.0.113.66"})
            assert noisy.status_code == 429
            other = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD},
                                headers={"x-forwarded-for": "198.51.100.20"})
            assert other.status_code == 200, other.text
    finally:
        container.close()
