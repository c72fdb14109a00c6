"""Outbox over HTTP: JSON API and the admin page, with the embedded backbone running."""

from __future__ import annotations

from typing import Any

from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import now_meta, wait_until

ADMIN = {"x-test-role": "admin@tenant-a"}


def _status(client: Any, email_id: str) -> str:
    return client.get(f"/api/v1/ops/outbox/{email_id}", headers=ADMIN).json()["status"]


def test_a_failed_email_is_listed_and_retrying_it_from_the_api_sends_it(
        client: Any, live_container: Any, smtp: FakeSmtpServer) -> None:
    # Given an e-mail the server refused for good
    smtp.reject_next(1, code=550)
    saved = live_container.notifications.send_email(now_meta(), "ana@example.com", "plain",
                                                    {"subject": "Oi", "text": "Olá"})
    email_id = str(saved.aggregate.id)
    wait_until(lambda: _status(client, email_id) == "failed")
    listing = client.get("/api/v1/ops/outbox?status=failed", headers=ADMIN).json()
    assert [e["id"] for e in listing["items"]] == [email_id]
    assert "550" in listing["items"][0]["error"]
    # When the admin retries it
    response = client.post(f"/api/v1/ops/outbox/{email_id}/retry", headers=ADMIN)
    # Then it is queued at once and delivered soon after
    assert response.status_code == 202
    assert response.json()["status"] in ("queued", "sent")
    wait_until(lambda: _status(client, email_id) == "sent")
    assert len(smtp.messages) == 1


def test_retrying_an_email_that_did_not_fail_is_a_conflict(client: Any, live_container: Any) -> None:
    saved = live_container.notifications.send_email(now_meta(), "ana@example.com", "plain",
                                                    {"subject": "Oi", "text": "Olá"})
    email_id = str(saved.aggregate.id)
    wait_until(lambda: _status(client, email_id) == "sent")
    response = client.post(f"/api/v1/ops/outbox/{email_id}/retry", headers=ADMIN)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


def test_another_tenants_email_is_not_found(client: Any, live_container: Any) -> None:
    saved = live_container.notifications.send_email(now_meta(tenant_id="tenant-b"), "bo@example.com",
                                                    "plain", {"subject": "Oi", "text": "Olá"})
    email_id = str(saved.aggregate.id)
    assert client.get(f"/api/v1/ops/outbox/{email_id}", headers=ADMIN).status_code == 404
    assert client.post(f"/api/v1/ops/outbox/{email_id}/retry", headers=ADMIN).status_code == 404


def test_the_outbox_needs_the_ops_admin_permission(client: Any) -> None:
    assert client.get("/api/v1/ops/outbox", headers={"x-test-role": "manager"}).status_code == 403
    assert client.get("/api/v1/ops/outbox").status_code == 401
    assert client.get("/admin/outbox", headers={"x-test-role": "technician"}).status_code == 403


def test_the_outbox_page_lists_emails_and_retries_a_failed_one(
        client: Any, live_container: Any, smtp: FakeSmtpServer) -> None:
    # Given a failed e-mail
    smtp.reject_next(1, code=550, text="No such user")
    saved = live_container.notifications.send_email(now_meta(), "ana@example.com", "plain",
                                                    {"subject": "Oi", "text": "Olá"})
    email_id = str(saved.aggregate.id)
    wait_until(lambda: _status(client, email_id) == "failed")
    # When the admin opens the Outbox page
    page = client.get("/admin/outbox", headers=ADMIN)
    # Then it shows the e-mail, its error and a retry button
    assert page.status_code == 200
    assert "ana@example.com" in page.text and "No such user" in page.text
    assert f'action="/admin/outbox/{email_id}/retry"' in page.text
    # And pressing "Retry" (a CSRF-protected form) queues it again and it is delivered
    token = client.cookies.get("rg_csrf")
    response = client.post(f"/admin/outbox/{email_id}/retry", headers={**ADMIN, "x-csrftoken": token},
                           follow_redirects=False)
    assert response.status_code == 303
    wait_until(lambda: _status(client, email_id) == "sent")
    assert "retried" in response.headers["location"]
