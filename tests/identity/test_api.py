"""HTTP: the identity API as machine and human clients use it."""

from __future__ import annotations

import pytest

from tests.identity.helpers import (
    PASSWORD,
    api_login,
    api_signup,
    render,
    requested_emails,
    token_in,
)

pytestmark = pytest.mark.e2e


def test_signup_then_login_then_me(client):
    # Given a new tenant signed up through the API
    ids = api_signup(client, "ana@acme.test")
    # When its admin logs in
    response = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["access_token"] and body["refresh_token"]
    # Then /me describes the admin with the admin's permissions
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert (me["id"], me["tenant_id"], me["role"], me["email"]) == (
        ids["user_id"], ids["tenant_id"], "admin", "ana@acme.test")
    assert "users:admin" in me["permissions"] and me["customer_id"] is None


def test_a_short_password_is_a_problem_naming_password(client):
    response = client.post("/api/v1/auth/signup", json={
        "tenant_name": "Acme", "name": "Ana", "email": "ana@acme.test", "password": "short"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "password"


def test_a_missing_field_is_a_problem_naming_it(client):
    response = client.post("/api/v1/auth/login", json={"email": "ana@acme.test"})
    assert response.status_code in (400, 422)
    assert "password" in response.text


def test_requests_without_or_with_a_bad_token_are_401(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = client.post("/api/v1/auth/login", json={"email": "x@y.test", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")


def test_refresh_rotates_and_reuse_revokes_the_family_over_http(client):
    api_signup(client, "ana@acme.test")
    first = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD}).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {second.json()['access_token']}"}).status_code == 200
    # Reusing the first refresh token revokes the family
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={
        "refresh_token": second.json()["refresh_token"]}).status_code == 401


def test_logout_revokes_the_refresh_token(client):
    api_signup(client, "ana@acme.test")
    tokens = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD}).json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_repeated_failed_logins_get_429_with_retry_after(client, live_container):
    from retaguarda.shared.clock import FixedClock

    api_signup(client, "ana@acme.test")
    live_container.clock = FixedClock(live_container.clock.now())  # the delay cannot run out meanwhile
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={
            "email": "ana@acme.test", "password": "wrong-password"}).status_code == 401
    response = client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": PASSWORD})
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 60  # a progressive delay, never a long lock


def test_password_reset_end_to_end_with_the_token_from_the_email(client, live_container):
    # Given an account, and a reset asked for it and for an unknown address
    api_signup(client, "ana@acme.test")
    for email in ("ana@acme.test", "nobody@acme.test"):
        response = client.post("/api/v1/auth/password-reset", json={"email": email})
        assert response.status_code == 202  # the same answer: no user enumeration
    # When the link in the rendered e-mail is used
    [mail] = requested_emails(live_container, "identity.password_reset")
    subject, text = render(live_container, mail)
    assert text.count(live_container.settings.base_url + "/reset-password?token=") == 1
    token = token_in(text)
    confirm = client.post("/api/v1/auth/password-reset/confirm",
                          json={"token": token, "password": "a-brand-new-password"})
    assert confirm.status_code == 200
    # Then the new password works and the token cannot be used twice
    api_login(client, "ana@acme.test", "a-brand-new-password")
    again = client.post("/api/v1/auth/password-reset/confirm",
                        json={"token": token, "password": "another-new-password"})
    assert again.status_code == 422 and again.json()["field"] == "token"


def test_a_reset_confirm_with_a_weak_password_names_password(client, live_container):
    api_signup(client, "ana@acme.test")
    client.post("/api/v1/auth/password-reset", json={"email": "ana@acme.test"})
    token = token_in(render(live_container, requested_emails(live_container, "identity.password_reset")[0])[1])
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert response.status_code == 422 and response.json()["field"] == "password"


def test_an_api_key_works_within_its_scopes_only(client):
    # Given an admin who creates a read-only key
    api_signup(client, "ana@acme.test")
    admin = api_login(client, "ana@acme.test")
    created = client.post("/api/v1/api-keys", json={"name": "WordPress", "scopes": ["customers:read"]},
                          headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("rg_") and created.json()["id"]
    # Then the key reads customers, but a write needs a scope it lacks
    machine = {"X-API-Key": key}
    assert client.get("/api/v1/customers", headers=machine).status_code == 200
    write = client.post("/api/v1/customers", headers=machine, json={
        "name": "X", "kind": "person", "document": "52998224725", "email": "x@x.test"})
    assert write.status_code == 403
    # And routes without a declared permission are closed to keys
    assert client.get("/api/v1/me", headers=machine).status_code == 403
    # And the listing never shows the secret, but shows the last use
    [listed] = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    assert key not in str(listed) and listed["last_used_at"] is not None
    # When the key is revoked it stops working
    assert client.delete(f"/api/v1/api-keys/{listed['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/customers", headers=machine).status_code == 401


def test_bad_scopes_name_the_scopes_field(client):
    api_signup(client, "ana@acme.test")
    response = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["root"]},
                           headers=api_login(client, "ana@acme.test"))
    assert response.status_code == 422 and response.json()["field"] == "scopes"


def test_a_user_of_tenant_b_gets_404_for_tenant_a_resources(client):
    # Given tenant A with a customer and tenant B's admin
    api_signup(client, "a@a.test", tenant="A")
    api_signup(client, "b@b.test", tenant="B")
    a, b = api_login(client, "a@a.test"), api_login(client, "b@b.test")
    customer = client.post("/api/v1/customers", headers=a, json={
        "name": "Cliente A", "kind": "person", "document": "52998224725", "email": "c@a.test"})
    assert customer.status_code == 201
    a_user = client.get("/api/v1/me", headers=a).json()["id"]
    # Then B cannot see A's customer nor A's users, and does not learn they exist
    assert client.get(f"/api/v1/customers/{customer.json()['id']}", headers=b).status_code == 404
    assert client.get(f"/api/v1/users/{a_user}", headers=b).status_code == 404
    assert client.patch(f"/api/v1/users/{a_user}", headers=b, json={"name": "Hacked"}).status_code == 404
    assert [u["email"] for u in client.get("/api/v1/users", headers=b).json()["items"]] == ["b@b.test"]


def test_user_admin_invites_changes_role_and_deactivates(client, live_container):
    api_signup(client, "ana@acme.test")
    admin = api_login(client, "ana@acme.test")
    invited = client.post("/api/v1/users", headers=admin, json={
        "email": "bob@acme.test", "name": "Bob", "role": "technician"})
    assert invited.status_code == 201 and invited.json()["status"] == "invited"
    bob_id = invited.json()["id"]
    # Bob sets his password from the welcome e-mail and logs in
    [mail] = requested_emails(live_container, "identity.welcome", "bob@acme.test")
    client.post("/api/v1/auth/password-reset/confirm",
                json={"token": token_in(render(live_container, mail)[1]), "password": "bobs-own-password"})
    bob = api_login(client, "bob@acme.test", "bobs-own-password")
    assert client.get("/api/v1/users", headers=bob).status_code == 403  # technicians do not admin users
    # The admin makes him a manager, then deactivates him
    changed = client.patch(f"/api/v1/users/{bob_id}", headers=admin, json={"role": "manager"})
    assert changed.json()["role"] == "manager"
    assert "customers:write" in client.get("/api/v1/me", headers=bob).json()["permissions"]
    assert client.patch(f"/api/v1/users/{bob_id}", headers=admin, json={"active": False}).json()["active"] is False
    # His still-unexpired access token is refused at once
    assert client.get("/api/v1/me", headers=bob).status_code == 401
    # An admin cannot deactivate themselves
    me = client.get("/api/v1/me", headers=admin).json()["id"]
    assert client.patch(f"/api/v1/users/{me}", headers=admin, json={"active": False}).status_code == 409


def test_a_customer_user_is_linked_to_one_customer(client):
    api_signup(client, "ana@acme.test")
    admin = api_login(client, "ana@acme.test")
    missing = client.post("/api/v1/users", headers=admin, json={
        "email": "c@acme.test", "name": "C", "role": "customer"})
    assert missing.status_code == 422 and missing.json()["field"] == "customer_id"
    unknown = client.post("/api/v1/users", headers=admin, json={
        "email": "c@acme.test", "name": "C", "role": "customer",
        "customer_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "customer_id"
    customer = client.post("/api/v1/customers", headers=admin, json={
        "name": "Cliente", "kind": "person", "document": "52998224725", "email": "c@x.test"}).json()
    linked = client.post("/api/v1/users", headers=admin, json={
        "email": "c@acme.test", "name": "C", "role": "customer", "customer_id": customer["id"]})
    assert linked.status_code == 201 and linked.json()["customer_id"] == customer["id"]


def test_profile_and_password_change_through_me(client):
    api_signup(client, "ana@acme.test")
    admin = api_login(client, "ana@acme.test")
    assert client.patch("/api/v1/me", headers=admin, json={"name": "Ana Maria"}).json()["name"] == "Ana Maria"
    wrong = client.post("/api/v1/me/password", headers=admin, json={
        "current_password": "not-my-password", "new_password": "a-new-password-1"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    assert client.post("/api/v1/me/password", headers=admin, json={
        "current_password": PASSWORD, "new_password": "a-new-password-1"}).status_code == 204
    api_login(client, "ana@acme.test", "a-new-password-1")
