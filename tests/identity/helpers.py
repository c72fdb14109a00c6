"""Helpers shared by the identity tests."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from retaguarda.shared.meta import Meta

PASSWORD = "correct-horse-battery"


def public_meta(at: datetime | None = None) -> Meta:
    return Meta(tenant_id="*", actor="anonymous", correlation_id="corr-test",
                at=at or datetime.now(timezone.utc))


def admin_meta(saved: Any, at: datetime | None = None) -> Meta:
    """Meta of the admin a sign-up returned."""
    user = saved.aggregate
    return Meta(tenant_id=user.tenant_id, actor=str(user.id), correlation_id="corr-test",
                at=at or datetime.now(timezone.utc))


def signup(container: Any, email: str = "ana@acme.test", tenant: str = "Acme") -> Any:
    return container.identity.signup(public_meta(), tenant_name=tenant, name="Ana Admin",
                                     email=email, password=PASSWORD)


def requested_emails(container: Any, template: str, to: str | None = None) -> list[Any]:
    """Email aggregates the identity context asked for, oldest first."""
    from retaguarda.notifications import Email

    found = []
    for n in container.store.read(1, 100_000):
        event = container.store.decode(n)
        if isinstance(event, Email.Requested) and event.template == template \
                and (to is None or event.to == to):
            found.append(container.notifications.find_email(str(event.originator_id)))
    return found


def render(container: Any, email: Any) -> tuple[str, str]:
    from retaguarda.notifications.templates import render as render_template

    return render_template(email.template, email.params, container)


def token_in(text: str) -> str:
    match = re.search(r"/reset-password\?token=(\S+)", text)
    assert match, f"no reset link in: {text!r}"
    return match.group(1)


def api_login(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def api_signup(client: Any, email: str, tenant: str = "Acme") -> dict[str, Any]:
    response = client.post("/api/v1/auth/signup", json={
        "tenant_name": tenant, "name": "Ana Admin", "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()
