"""Audit test helpers: customers written through the service, and test-only logged-in users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from retaguarda.shared.meta import Meta
from retaguarda.web.principal import Principal

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

AUDITOR_PERMISSIONS = frozenset({"audit:read", "customers:read"})
TEST_USERS = {
    "auditor": Principal(kind="user", id="u1", tenant_id="tenant-a", role="auditor",
                         permissions=AUDITOR_PERMISSIONS),
    "auditor-b": Principal(kind="user", id="u9", tenant_id="tenant-b", role="auditor",
                           permissions=AUDITOR_PERMISSIONS),
    "technician": Principal(kind="user", id="u2", tenant_id="tenant-a", role="technician",
                            permissions=frozenset({"customers:read"})),
    "customer": Principal(kind="user", id="u3", tenant_id="tenant-a", role="customer",
                          permissions=frozenset({"portal:self"})),
}


def meta_at(at: datetime, tenant_id: str = "tenant-a", actor: str = "user-1",
            correlation_id: str = "corr-1") -> Meta:
    return Meta(tenant_id=tenant_id, actor=actor, correlation_id=correlation_id, at=at)


@pytest.fixture
def register(container: Any) -> Callable[..., Any]:
    """Registers a customer; returns the Saved result."""
    counter = iter(range(1, 10_000))

    def make(name: str = "Ana", *, at: datetime = T0, tenant_id: str = "tenant-a",
             actor: str = "user-1", document: str = "529.982.247-25", email: str = "") -> Any:
        n = next(counter)
        return container.customers.register_customer(
            meta_at(at, tenant_id, actor, f"corr-reg-{n}"), name=name, kind="person",
            document=document, email=email or f"c{n}@example.test")

    return make


@pytest.fixture
def customer_with_rename(container: Any, register: Callable[..., Any]) -> dict[str, Any]:
    """Given a customer registered as "Ana" at T0 and renamed "Ana B" a day later."""
    saved = register("Ana")
    customer_id = str(saved.aggregate.id)
    later = T0 + timedelta(days=1)
    renamed = container.customers.update_customer(meta_at(later, actor="user-2", correlation_id="corr-upd"),
                                                  customer_id, name="Ana B")
    return {"id": customer_id, "created": T0, "renamed": later, "position": renamed.position}


async def _test_authenticator(container: Any, scope: Any) -> Principal | None:
    for key, value in scope.get("headers", []):
        if key == b"x-test-user":
            return TEST_USERS.get(value.decode())
    return None


@pytest.fixture
def as_user(client: Any, live_container: Any) -> Iterator[Callable[[str], dict[str, str]]]:
    """Installs a test-only authenticator (header `X-Test-User`); returns headers for a user."""
    authenticators = live_container.authenticators
    authenticators.insert(0, _test_authenticator)
    yield lambda name: {"X-Test-User": name}
    authenticators.remove(_test_authenticator)
