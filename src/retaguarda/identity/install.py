"""Wires the identity context into a container: service, authenticators, e-mail templates."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

DEMO_TENANT = "Demo"
DEMO_ADMIN = "admin@demo.test"
DEMO_ROLES = ("manager", "technician", "finance", "auditor")


def install(container: Container) -> None:
    from retaguarda.identity.application import Identity
    from retaguarda.identity.authn import authenticators
    from retaguarda.identity.throttle import LoginThrottle, limiter_for

    limiter = limiter_for(container.settings, now=lambda: container.clock.now().timestamp())
    container.identity = Identity(container.store, container.after_write, settings=container.settings,
                                  throttle=LoginThrottle(limiter))
    container.authenticators.extend(authenticators())


def seed_demo(container: Container, password: str | None = None, *,
              link_customer: str | None = None) -> dict[str, Any]:
    """Tenant `demo` with `admin@demo.test` and one user per other role; idempotent.

    With `link_customer` (a customer id of the demo tenant) also creates — or re-links —
    `customer@demo.test`, a portal user of that customer. Returns the tenant id and users.
    """
    identity = container.identity
    password = password or container.settings.demo_password
    meta = Meta(tenant_id="*", actor="system:seed", correlation_id=uuid.uuid4().hex,
                at=container.clock.now())
    admin = identity.user_by_email(DEMO_ADMIN)
    created = admin is None
    if admin is None:
        admin = identity.signup(meta, tenant_name=DEMO_TENANT, name="Demo Admin", email=DEMO_ADMIN,
                                password=password, welcome=False).aggregate
    tenant_meta = Meta(tenant_id=admin.tenant_id, actor="system:seed",
                       correlation_id=meta.correlation_id, at=container.clock.now())
    users = {DEMO_ADMIN: str(admin.id)}
    positions = [0]
    for role in DEMO_ROLES:
        email = f"{role}@demo.test"
        user = identity.user_by_email(email)
        if user is None:
            saved = identity.create_user(tenant_meta, email=email, name=f"Demo {role.title()}",
                                         role=role, password=password)
            positions.append(saved.position)
            user = saved.aggregate
        users[email] = str(user.id)
    if link_customer:
        email = "customer@demo.test"
        user = identity.user_by_email(email)
        if user is None:
            saved = identity.create_user(tenant_meta, email=email, name="Demo Customer",
                                         role="customer", password=password,
                                         customer_id=link_customer)
            positions.append(saved.position)
            user = saved.aggregate
        elif user.customer_id != str(link_customer):
            saved = identity.change_role(tenant_meta, str(user.id), "customer", link_customer)
            positions.append(saved.position)
        users[email] = str(user.id)
    return {"tenant_id": admin.tenant_id, "admin_id": str(admin.id), "users": users,
            "created": created, "position": max(positions)}
