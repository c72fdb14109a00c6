"""Identity service on the real (SQLite) event store: sign-up, login, tokens, reset, keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from retaguarda.identity import User
from retaguarda.identity.install import seed_demo
from retaguarda.shared.clock import FixedClock
from retaguarda.shared.errors import (
    AuthenticationError,
    ConflictError,
    TooManyRequestsError,
    ValidationError,
)
from tests.identity.helpers import (
    PASSWORD,
    admin_meta,
    public_meta,
    render,
    requested_emails,
    signup,
    token_in,
)


def _history_types(container, aggregate_id):
    return [type(e).__name__ for e in container.store.history(aggregate_id)]


def test_signup_creates_a_tenant_and_its_admin_and_sends_a_welcome_email(container):
    saved = signup(container)
    admin = saved.aggregate
    assert admin.role == "admin" and admin.status == "active"
    tenant = container.identity.get_tenant(admin.tenant_id)
    assert (tenant.name, tenant.slug) == ("Acme", "acme")
    [welcome] = requested_emails(container, "identity.welcome", "ana@acme.test")
    subject, text = render(container, welcome)
    assert "Bem-vindo" in subject and "/login" in text


def test_an_email_is_unique_across_tenants_and_a_refused_signup_writes_nothing(container):
    signup(container)
    head = container.store.head()
    with pytest.raises(ConflictError) as err:
        signup(container, email="ANA@acme.test ", tenant="Other")
    assert err.value.field == "email"
    assert container.store.head() == head


def test_two_tenants_with_the_same_name_get_distinct_slugs(container):
    a = signup(container, email="a@x.test").aggregate
    b = signup(container, email="b@x.test").aggregate
    slugs = {container.identity.get_tenant(u.tenant_id).slug for u in (a, b)}
    assert slugs == {"acme", "acme-2"}


def test_signup_names_every_bad_field_at_once(container):
    with pytest.raises(ValidationError) as err:
        container.identity.signup(public_meta(), tenant_name="", name="Ana", email="nope",
                                  password="short")
    assert set(err.value.errors) == {"tenant_name", "email", "password"}


def test_login_hands_out_tokens_and_records_the_audit_event(container):
    admin = signup(container).aggregate
    result = container.identity.login(public_meta(), email="Ana@Acme.test", password=PASSWORD,
                                      ip="10.1.1.1")
    assert result.access_token and result.refresh_token and result.expires_in == 900
    assert _history_types(container, admin.id)[-1] == "LoginSucceeded"


def test_a_wrong_password_is_refused_and_recorded_and_an_unknown_email_looks_the_same(container):
    admin = signup(container).aggregate
    with pytest.raises(AuthenticationError) as wrong:
        container.identity.login(public_meta(), email="ana@acme.test", password="wrong-password")
    with pytest.raises(AuthenticationError) as unknown:
        container.identity.login(public_meta(), email="who@acme.test", password="wrong-password")
    assert str(wrong.value) == str(unknown.value)
    assert _history_types(container, admin.id)[-1] == "LoginFailed"


def test_refresh_rotates_and_a_reused_token_revokes_the_whole_family(container):
    # Given a login and one rotation
    signup(container)
    first = container.identity.login(public_meta(), email="ana@acme.test", password=PASSWORD)
    second = container.identity.refresh(public_meta(), first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.family_id == first.family_id
    # When the old token is presented again (it leaked)
    with pytest.raises(AuthenticationError, match="reuse"):
        container.identity.refresh(public_meta(), first.refresh_token)
    # Then the family is revoked: the newest token no longer works either
    with pytest.raises(AuthenticationError):
        container.identity.refresh(public_meta(), second.refresh_token)


def test_logout_revokes_the_refresh_family(container):
    signup(container)
    tokens = container.identity.login(public_meta(), email="ana@acme.test", password=PASSWORD)
    assert container.identity.logout(public_meta(), tokens.refresh_token) > 0
    with pytest.raises(AuthenticationError):
        container.identity.refresh(public_meta(), tokens.refresh_token)
    assert container.identity.logout(public_meta(), "garbage.token") == 0


def test_five_failed_logins_make_the_next_attempt_wait_a_little_not_fifteen_minutes(container):
    # Given a clock the test moves
    container.clock = clock = FixedClock(public_meta().at)
    signup(container)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            container.identity.login(public_meta(clock.now()), email="ana@acme.test", password="bad-password")
    # When the right password comes next
    with pytest.raises(TooManyRequestsError) as err:
        container.identity.login(public_meta(clock.now()), email="ana@acme.test", password=PASSWORD)
    # Then it waits a progressive delay (1 s after the fifth failure), not a 15-minute lock (#20)
    assert err.value.retry_after == 1
    clock.advance(seconds=1)
    assert container.identity.login(public_meta(clock.now()), email="ana@acme.test", password=PASSWORD)


def test_many_failures_from_one_ip_throttle_that_ip_for_every_account(container):
    container.clock = FixedClock(public_meta().at)  # the progressive delay cannot run out meanwhile
    signup(container)
    for i in range(20):
        with pytest.raises(AuthenticationError):
            container.identity.login(public_meta(), email=f"ghost{i}@acme.test", password="bad-password",
                                     ip="203.0.113.9")
    with pytest.raises(TooManyRequestsError):
        container.identity.login(public_meta(), email="ana@acme.test", password=PASSWORD, ip="203.0.113.9")
    assert container.identity.login(public_meta(), email="ana@acme.test", password=PASSWORD, ip="198.51.100.1")


def test_password_reset_by_emailed_token_is_single_use(container):
    # Given a reset request for an existing account
    admin = signup(container).aggregate
    assert container.identity.request_password_reset(public_meta(), "ana@acme.test") is not None
    [mail] = requested_emails(container, "identity.password_reset", "ana@acme.test")
    assert "token" not in repr(mail.params)  # nothing secret is stored
    # When the token from the rendered e-mail sets a new password
    token = token_in(render(container, mail)[1])
    container.identity.reset_password(public_meta(), token=token, password="a-brand-new-password")
    # Then the new password logs in, the old one does not, and the token is spent
    assert container.identity.login(public_meta(), email="ana@acme.test", password="a-brand-new-password")
    with pytest.raises(AuthenticationError):
        container.identity.login(public_meta(), email="ana@acme.test", password=PASSWORD)
    with pytest.raises(ValidationError) as err:
        container.identity.reset_password(public_meta(), token=token, password="yet-another-password")
    assert err.value.field == "token"
    assert "PasswordResetCompleted" in _history_types(container, admin.id)


def test_a_reset_token_expires_after_one_hour(container):
    container.clock = clock = FixedClock(public_meta().at)
    signup(container)
    container.identity.request_password_reset(public_meta(clock.now()), "ana@acme.test")
    token = token_in(render(container, requested_emails(container, "identity.password_reset")[0])[1])
    with pytest.raises(ValidationError) as err:
        container.identity.reset_password(public_meta(clock.now() + timedelta(minutes=61)), token=token,
                                          password="a-brand-new-password")
    assert err.value.field == "token"


def test_a_reset_request_for_an_unknown_email_does_nothing(container):
    signup(container)
    head = container.store.head()
    assert container.identity.request_password_reset(public_meta(), "nobody@acme.test") is None
    assert container.store.head() == head


def test_an_invited_user_sets_the_password_from_the_welcome_email(container):
    admin = signup(container)
    invited = container.identity.invite_user(admin_meta(admin), email="bob@acme.test", name="Bob",
                                             role="technician").aggregate
    with pytest.raises(AuthenticationError):
        container.identity.login(public_meta(), email="bob@acme.test", password=PASSWORD)
    [mail] = requested_emails(container, "identity.welcome", "bob@acme.test")
    subject, text = render(container, mail)
    assert "convidado" in subject
    container.identity.reset_password(public_meta(), token=token_in(text), password="bobs-own-password")
    result = container.identity.login(public_meta(), email="bob@acme.test", password="bobs-own-password")
    assert result.user.id == invited.id and result.user.status == "active"


def test_a_deactivated_user_can_neither_log_in_nor_refresh(container):
    admin = signup(container)
    container.identity.create_user(admin_meta(admin), email="bob@acme.test", name="Bob", role="manager",
                                   password=PASSWORD)
    tokens = container.identity.login(public_meta(), email="bob@acme.test", password=PASSWORD)
    container.identity.update_user(admin_meta(admin), str(tokens.user.id), active=False)
    with pytest.raises(AuthenticationError):
        container.identity.login(public_meta(), email="bob@acme.test", password=PASSWORD)
    with pytest.raises(AuthenticationError):
        container.identity.refresh(public_meta(), tokens.refresh_token)


def test_users_of_another_tenant_are_not_found(container):
    a = signup(container, email="a@a.test", tenant="A")
    b = signup(container, email="b@b.test", tenant="B")
    from retaguarda.shared.errors import NotFoundError

    with pytest.raises(NotFoundError):
        container.identity.update_user(admin_meta(b), str(a.aggregate.id), name="Hacked")
    with pytest.raises(NotFoundError):
        container.identity.get_user(b.aggregate.tenant_id, str(a.aggregate.id))


def test_an_api_key_is_found_by_its_full_value_until_revoked(container):
    admin = signup(container)
    saved, key = container.identity.create_api_key(admin_meta(admin), name="WordPress",
                                                   scopes=["customers:read"])
    found = container.identity.find_api_key(key)
    assert found is not None and found.id == saved.aggregate.id
    assert container.identity.find_api_key(key[:-1] + "x") is None
    assert saved.aggregate.secret_hash not in key
    container.identity.revoke_api_key(admin_meta(admin), str(saved.aggregate.id))
    assert container.identity.find_api_key(key) is None


def test_a_ui_session_lives_until_logout(container):
    signup(container)
    session = container.identity.start_session(public_meta(), email="ana@acme.test", password=PASSWORD)
    now = public_meta().at
    assert container.identity.session_is_live(session.session_id, str(session.user.id), now)
    assert not container.identity.session_is_live(session.session_id, "someone-else", now)
    container.identity.end_session(public_meta(), session.session_id)
    assert not container.identity.session_is_live(session.session_id, str(session.user.id), now)


def test_change_password_needs_the_current_one(container):
    admin = signup(container)
    meta = admin_meta(admin)
    with pytest.raises(ValidationError) as err:
        container.identity.change_password(meta, current_password="wrong-one", new_password="new-password-1")
    assert err.value.field == "current_password"
    container.identity.change_password(meta, current_password=PASSWORD, new_password="new-password-1")
    assert container.identity.login(public_meta(), email="ana@acme.test", password="new-password-1")


def test_seed_demo_is_idempotent_and_links_the_customer_user(container):
    first = seed_demo(container, "demo-password-1")
    again = seed_demo(container, "demo-password-1")
    assert first["users"] == again["users"] and again["created"] is False
    assert set(first["users"]) == {"admin@demo.test", "manager@demo.test", "technician@demo.test",
                                   "finance@demo.test", "auditor@demo.test"}
    assert container.identity.get_tenant(first["tenant_id"]).slug == "demo"
    # With a customer of the demo tenant, the portal user is created and linked
    meta = admin_meta(type("S", (), {"aggregate": container.identity.find_user(first["admin_id"])})())
    customer = container.customers.register_customer(meta, name="Cliente", kind="person",
                                                     document="52998224725", email="c@x.test").aggregate
    linked = seed_demo(container, "demo-password-1", link_customer=str(customer.id))
    user = container.identity.find_user(linked["users"]["customer@demo.test"])
    assert isinstance(user, User) and (user.role, user.customer_id) == ("customer", str(customer.id))
    assert container.identity.login(public_meta(), email="customer@demo.test", password="demo-password-1")
