"""Helpers shared by the integrations and notifications tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from retaguarda.shared.meta import Meta
from retaguarda.web.principal import Principal

TEST_ROLE_HEADER = b"x-test-role"


def now_meta(tenant_id: str = "tenant-a", actor: str = "user-1") -> Meta:
    return Meta(tenant_id=tenant_id, actor=actor, correlation_id="corr-test",
                at=datetime.now(timezone.utc))


def wait_until(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def deliver(container: Any, queues: tuple[str, ...] = ("notifications",)) -> None:
    """Dispatcher → broker → worker until quiet, then read models caught up."""
    container.worker.start()
    for _ in range(3):  # actors may record events that trigger more work
        container.dispatcher.catch_up()
        for queue in queues:
            container.broker.join(queue, timeout=20_000, fail_fast=False)
    container.runner.catch_up()


def install_test_authenticator(container: Any) -> None:
    """`x-test-role: <role>[@tenant]` logs the request in as that role (identity-free tests)."""
    from retaguarda.identity.permissions import permissions_of

    async def authenticate(_container: Any, scope: Any) -> Principal | None:
        for key, value in scope.get("headers", []):
            if key == TEST_ROLE_HEADER:
                role, _, tenant = value.decode().partition("@")
                return Principal(kind="user", id=f"{role}-1", tenant_id=tenant or "tenant-a",
                                 role=role, permissions=permissions_of(role), email=f"{role}@a.test",
                                 name=role.title())
        return None

    container.authenticators.insert(0, authenticate)
