"""Support fixtures: a workspace with an admin, a manager, two technicians, an auditor, customers
and a portal user, all real identity users (passwords, logins) on the shared SQLite container."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from retaguarda.shared.meta import Meta
from retaguarda.support import Actor

PASSWORD = "a long enough password"


@dataclass
class Workspace:
    tenant_id: str
    users: dict[str, str]  # role name → user id
    customers: list[str]
    emails: dict[str, str] = field(default_factory=dict)

    def meta(self, who: str = "admin", at: datetime | None = None) -> Meta:
        return Meta(tenant_id=self.tenant_id, actor=self.users[who], correlation_id="corr-test",
                    at=at or datetime.now(timezone.utc))

    def staff(self, who: str = "admin") -> Actor:
        return Actor(user_id=self.users[who])

    def portal(self, who: str = "customer") -> Actor:
        return Actor.customer(self.users[who], self.customers[0])


def make_workspace(container: Any, tenant: str = "Provedor A", domain: str = "a.test") -> Workspace:
    now = datetime.now(timezone.utc)
    public = Meta(tenant_id="*", actor="anonymous", correlation_id="corr-test", at=now)
    admin = container.identity.signup(public, tenant_name=tenant, name="Ana Admin", email=f"admin@{domain}",
                                      password=PASSWORD, welcome=False).aggregate
    tenant_id = admin.tenant_id
    meta = Meta(tenant_id=tenant_id, actor=str(admin.id), correlation_id="corr-test", at=now)
    customers = []
    for i, (name, doc) in enumerate([("Cliente Um", "52998224725"), ("Cliente Dois", "11144477735")]):
        customers.append(str(container.customers.register_customer(
            meta, name=name, kind="person", document=doc, email=f"c{i}@{domain}").aggregate.id))
    users = {"admin": str(admin.id)}
    emails = {"admin": f"admin@{domain}"}
    for key, role in (("manager", "manager"), ("tech", "technician"), ("tech2", "technician"),
                      ("auditor", "auditor"), ("finance", "finance")):
        email = f"{key}@{domain}"
        users[key] = str(container.identity.create_user(meta, email=email, name=key.title(), role=role,
                                                        password=PASSWORD).aggregate.id)
        emails[key] = email
    for key, customer in (("customer", customers[0]), ("customer2", customers[1])):
        email = f"{key}@{domain}"
        users[key] = str(container.identity.create_user(meta, email=email, name=key.title(), role="customer",
                                                        password=PASSWORD, customer_id=customer).aggregate.id)
        emails[key] = email
    return Workspace(tenant_id, users, customers, emails)


@pytest.fixture
def ws(container: Any) -> Workspace:
    return make_workspace(container)


def login(client: Any, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def as_(client: Any, ws: Workspace) -> Any:
    """as_("tech") → headers of that user's login (cached per test)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, ws.emails[who])
        return cache[who]

    return headers
