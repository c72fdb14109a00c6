"""HTML: log in with a session cookie and CSRF-protected forms; admin pages."""

from __future__ import annotations

import re

import pytest

from retaguarda.identity.tokens import SESSION_COOKIE
from tests.identity.helpers import PASSWORD, api_signup, render, requested_emails, token_in

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF field"
    return match.group(1)


def _login(client, email="ana@acme.test", password=PASSWORD, next_="/profile"):
    page = client.get(f"/login?next={next_}")
    return client.post("/login", data={"email": email, "password": password, "next": next_,
                                       "_csrf_token": _csrf(page.text)}, follow_redirects=False)


def test_the_login_form_has_the_fields_a_browser_test_uses(client):
    html = client.get("/login").text
    assert 'name="email"' in html and 'name="password"' in html and 'type="submit"' in html
    assert 'name="_csrf_token"' in html


def test_logging_in_sets_an_httponly_samesite_session_cookie_and_redirects_to_next(client):
    # Given an account
    api_signup(client, "ana@acme.test")
    # When the login form is posted with its CSRF token
    response = _login(client)
    # Then the browser is sent on to `next` with the session cookie
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    # And the profile page now knows the user
    profile = client.get("/profile")
    assert profile.status_code == 200 and "ana@acme.test" in profile.text


def test_a_post_without_the_csrf_token_is_refused(client):
    api_signup(client, "ana@acme.test")
    client.get("/login")
    response = client.post("/login", data={"email": "ana@acme.test", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_bad_login_re_renders_the_form_with_an_error(client):
    api_signup(client, "ana@acme.test")
    response = _login(client, password="wrong-password")
    assert response.status_code == 401
    assert "e-mail or password is wrong" in response.text and 'value="ana@acme.test"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_an_offsite_next_is_ignored(client):
    api_signup(client, "ana@acme.test")
    assert _login(client, next_="//evil.example/").headers["location"] == "/"


def test_pages_need_a_session_and_send_to_login_with_next(client):
    response = client.get("/profile", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login?next=/profile"


def test_logout_revokes_the_session_even_for_a_kept_cookie(client):
    # Given a logged-in browser, and a copy of its cookie
    api_signup(client, "ana@acme.test")
    _login(client)
    stolen = client.cookies.get(SESSION_COOKIE)
    # When the user logs out
    out = client.post("/logout", data={"_csrf_token": _csrf(client.get("/profile").text)},
                      follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    # Then the kept cookie no longer opens pages
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/profile", follow_redirects=False).status_code in (302, 303, 307)


def test_the_session_cookie_reads_the_api_but_cannot_write_it(client):
    api_signup(client, "ana@acme.test")
    _login(client)
    assert client.get("/api/v1/me").json()["email"] == "ana@acme.test"
    write = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["customers:read"]})
    assert write.status_code == 401  # the API has no CSRF check, so cookies may not write


def test_admin_invites_a_user_from_the_users_page(client, live_container):
    api_signup(client, "ana@acme.test")
    _login(client)
    page = client.get("/admin/users")
    assert page.status_code == 200 and "ana@acme.test" in page.text
    bad = client.post("/admin/users", data={"email": "nope", "name": "Bob", "role": "technician",
                                            "_csrf_token": _csrf(page.text)})
    assert bad.status_code == 422 and "e-mail inválido" in bad.text
    ok = client.post("/admin/users", data={"email": "bob@acme.test", "name": "Bob", "role": "technician",
                                           "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert ok.status_code == 303
    listed = client.get(ok.headers["location"]).text
    assert "bob@acme.test" in listed and "Convite enviado" in listed
    assert requested_emails(live_container, "identity.welcome", "bob@acme.test")


def test_an_api_key_is_shown_once_on_the_api_keys_page(client):
    api_signup(client, "ana@acme.test")
    _login(client)
    page = client.get("/admin/api-keys")
    created = client.post("/admin/api-keys", data={
        "name": "WordPress", "scopes": ["customers:read", "campaigns:dispatch"],
        "_csrf_token": _csrf(page.text)})
    assert created.status_code == 200
    key = re.search(r"<code>(rg_[^<]+)</code>", created.text).group(1)
    assert client.get("/api/v1/customers", headers={"X-API-Key": key}).status_code == 200
    assert key not in client.get("/admin/api-keys").text


def test_forgot_and_reset_password_pages(client, live_container):
    # Given an account whose owner asks for a reset on the page
    api_signup(client, "ana@acme.test")
    page = client.get("/forgot-password")
    sent = client.post("/forgot-password", data={"email": "ana@acme.test", "_csrf_token": _csrf(page.text)})
    assert sent.status_code == 200 and "Se o endereço pertence a uma conta" in sent.text
    # When the e-mailed link is opened and a new password chosen
    token = token_in(render(live_container, requested_emails(live_container, "identity.password_reset")[0])[1])
    form = client.get(f"/reset-password?token={token}")
    assert token in form.text
    mismatch = client.post("/reset-password", data={"token": token, "password": "a-new-password-1",
                                                    "password_confirm": "different", "_csrf_token": _csrf(form.text)})
    assert mismatch.status_code == 422
    done = client.post("/reset-password", data={"token": token, "password": "a-new-password-1",
                                                "password_confirm": "a-new-password-1",
                                                "_csrf_token": _csrf(form.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?done=reset"
    # Then the new password logs in on the page
    assert _login(client, password="a-new-password-1").status_code == 303


def test_a_technician_cannot_open_the_admin_pages(client, live_container):
    from tests.identity.helpers import admin_meta, public_meta

    saved_admin = live_container.identity.signup(public_meta(), tenant_name="Acme", name="Ana",
                                                 email="ana@acme.test", password=PASSWORD)
    live_container.identity.create_user(admin_meta(saved_admin), email="tec@acme.test", name="Tec",
                                        role="technician", password=PASSWORD)
    _login(client, email="tec@acme.test")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/profile").status_code == 200


def test_a_deactivated_users_session_stops_working(client, live_container):
    from tests.identity.helpers import admin_meta, public_meta

    # Given a technician logged in on the UI
    admin = live_container.identity.signup(public_meta(), tenant_name="Acme", name="Ana",
                                           email="ana@acme.test", password=PASSWORD)
    tec = live_container.identity.create_user(admin_meta(admin), email="tec@acme.test", name="Tec",
                                              role="technician", password=PASSWORD).aggregate
    _login(client, email="tec@acme.test")
    assert client.get("/profile").status_code == 200
    # When the admin deactivates the technician
    saved = live_container.identity.deactivate_user(admin_meta(admin), str(tec.id))
    live_container.wait_for(saved.position)
    # Then the technician's next page sends them to the login page
    assert client.get("/profile", follow_redirects=False).status_code in (302, 303, 307)


def test_users_have_a_history_page_without_their_secrets(client):
    # Given an admin who changed their password (events carry the new hash)
    api_signup(client, "ana@acme.test")
    assert _login(client).status_code == 303
    me = client.get("/api/v1/me").json()
    # When the admin opens the users page and follows a user's History link
    users = client.get("/admin/users").text
    assert f'href="/audit/aggregates/{me["id"]}"' in users
    page = client.get(f"/audit/aggregates/{me['id']}")
    history = client.get(f"/history/{me['id']}")
    # Then the timeline shows the user's events, but never a password hash
    assert page.status_code == 200 and history.status_code == 200
    assert "User." in history.text
    assert "$argon2" not in history.text
