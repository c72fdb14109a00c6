"""Security defect 1 (#20): a tenant admin runs jobs only for their own tenant and sees only its results.

Platform-wide runs belong to the platform operator, configured at deployment; sign-up cannot
obtain that role. Every manual run records who asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import build_container
from tests.identity.helpers import PASSWORD, api_login
from tests.integrations.helpers import wait_until

OPERATOR = "ops@platform.test"


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    container = build_container(tmp_path / "var", platform_operators=(OPERATOR,))
    container.runner.start_thread()
    container.start_embedded()
    try:
        with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as tc:
            yield container, tc
    finally:
        container.close()


def _signup(client: Any, email: str, tenant: str) -> tuple[str, dict[str, str]]:
    response = client.post("/api/v1/auth/signup", json={
        "tenant_name": tenant, "name": "Admin", "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()["tenant_id"], api_login(client, email)


def _mail_delivered(container: Any) -> None:
    """Waits until every e-mail asked for so far (the sign-ups' welcome mails) has left the queue.

    The embedded worker records `Email.Sent` asynchronously; under load it landed after the test
    had taken the store's head, so "nothing was appended" failed for a reason unrelated to jobs.
    """
    from retaguarda.notifications import Email

    def settled() -> bool:
        for n in container.store.read(1, 100_000):
            event = container.store.decode(n)
            if isinstance(event, Email.Requested):
                email = container.notifications.find_email(str(event.originator_id))
                if email is None or email.is_pending:
                    return False
        return True

    wait_until(settled, timeout=30)


def _events_by_tenant(container: Any, after: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in container.store.read(after + 1, 100_000):
        tenant = getattr(container.store.decode(n), "tenant_id", "?")
        counts[tenant] = counts.get(tenant, 0) + 1
    return counts


def test_a_tenant_admin_runs_the_billing_job_only_for_their_own_tenant(app_client: Any) -> None:
    container, client = app_client
    victim, _ = _signup(client, "victim@a.test", "Victim")
    attacker, headers = _signup(client, "attacker@b.test", "Attacker")
    _mail_delivered(container)
    head = container.store.head()
    # When the freshly signed-up admin runs the platform's billing run
    response = client.post("/api/v1/ops/jobs/billing.daily_run/run", headers=headers)
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    # Then the job runs for their tenant only, and the run records who asked
    from retaguarda.integrations.job_runs import job_runs

    def finished() -> Any:
        with container.engine.connect() as conn:
            row = conn.execute(sa.select(job_runs).where(job_runs.c.id == run_id)).first()
        return row if row is not None and row.finished_at is not None else None

    row = wait_until(finished, timeout=30)
    assert row.tenant_id == attacker and row.result.startswith("ok: 1 tenant(s)"), row.result
    me = client.get("/api/v1/me", headers=headers).json()
    assert row.requested_by == me["id"]
    touched = _events_by_tenant(container, head)
    assert victim not in touched
    assert set(touched) == {attacker}  # the BillingRun of the attacker's tenant


def test_a_tenant_admin_cannot_run_a_platform_wide_job(app_client: Any) -> None:
    container, client = app_client
    _, headers = _signup(client, "admin@c.test", "Cee")
    _mail_delivered(container)
    head = container.store.head()
    response = client.post("/api/v1/ops/jobs/reconcile/run", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    page = client.post("/admin/jobs/reconcile/run", headers=headers)
    assert page.status_code in (403, 401)  # the HTML form needs a session and is refused anyway
    from retaguarda.integrations.job_runs import recent_runs

    assert recent_runs(container.engine, None) == [] and container.store.head() == head


def test_the_job_list_shows_a_tenant_admin_only_their_own_results(app_client: Any) -> None:
    container, client = app_client
    other, other_headers = _signup(client, "one@d.test", "Dee")
    mine, headers = _signup(client, "two@e.test", "Eee")
    assert client.post("/api/v1/ops/jobs/billing.daily_run/run", headers=other_headers).status_code == 202
    # a platform-wide result (as the scheduler would write) naming every tenant
    container.scheduler.sync()
    from retaguarda.integrations.scheduler import record_result

    record_result(container, "billing.daily_run", f"ok: 2 tenant(s): {other[:8]} generated 3")
    listing = client.get("/api/v1/ops/jobs", headers=headers)
    assert listing.status_code == 200
    body = listing.text
    assert other not in body and other[:8] not in body
    data = listing.json()
    assert data["dispatcher"] is None and data["runs"] == [] and data["platform_operator"] is False
    billing = next(j for j in data["items"] if j["name"] == "billing.daily_run")
    assert billing["runnable"] is True and billing["runs"] == 0 and billing["last_result"] == ""
    assert next(j for j in data["items"] if j["name"] == "reconcile")["runnable"] is False
    # while the other tenant sees its own run
    theirs = client.get("/api/v1/ops/jobs", headers=other_headers).json()
    assert [r["tenant_id"] for r in theirs["runs"]] == [other]
    assert mine not in client.get("/api/v1/ops/jobs", headers=other_headers).text


def test_the_platform_operator_is_configured_not_signed_up(app_client: Any) -> None:
    container, client = app_client
    # Sign-up with the operator's e-mail does not create the account
    response = client.post("/api/v1/auth/signup", json={
        "tenant_name": "Evil", "name": "Evil", "email": OPERATOR.upper(), "password": PASSWORD})
    assert response.status_code == 201  # answered like any sign-up (it reveals nothing) …
    assert container.identity.user_by_email(OPERATOR) is None  # … but nothing was created
    # The operator account (created at deployment) runs platform-wide jobs and sees everything
    from retaguarda.identity.install import seed_demo

    seed_demo(container)
    meta_tenant = container.identity.user_by_email("admin@demo.test").tenant_id
    from tests.integrations.helpers import now_meta

    container.identity.create_user(now_meta(meta_tenant, "system:deploy"), email=OPERATOR, name="Ops",
                                   role="admin", password=PASSWORD)
    container.runner.catch_up()
    headers = api_login(client, OPERATOR)
    response = client.post("/api/v1/ops/jobs/reconcile/run", headers=headers)
    assert response.status_code == 202, response.text
    listing = client.get("/api/v1/ops/jobs", headers=headers).json()
    assert listing["platform_operator"] is True and listing["dispatcher"] is not None
    assert listing["runs"][0]["job"] == "reconcile" and listing["runs"][0]["tenant_id"] is None
