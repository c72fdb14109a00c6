"""Identity domain rules: pure aggregates, time from Meta.at, no secrets in events."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from retaguarda.identity import tokens
from retaguarda.identity.domain import ApiKey, RefreshFamily, Tenant, User, check_password, slugify
from retaguarda.shared.aggregate import event_data
from retaguarda.shared.errors import AuthenticationError, ConflictError, ValidationError


def _user(meta, role="technician", **kw):
    return User.register(uuid.uuid4(), meta, email=kw.pop("email", "Bob@Acme.Test "), name="  Bob  Silva ",
                         role=role, password_hash="argon2-hash", **kw)


def test_a_registered_user_is_active_with_a_normalised_email_and_name(meta):
    user = _user(meta)
    assert (user.email, user.name, user.status, user.role) == ("bob@acme.test", "Bob Silva", "active",
                                                               "technician")
    assert user.can_log_in()


def test_bad_email_role_and_missing_customer_link_are_refused_naming_the_field(meta):
    with pytest.raises(ValidationError) as err:
        _user(meta, email="not-an-email")
    assert err.value.field == "email"
    with pytest.raises(ValidationError) as err:
        _user(meta, role="superuser")
    assert err.value.field == "role"
    with pytest.raises(ValidationError) as err:
        _user(meta, role="customer")
    assert err.value.field == "customer_id"


def test_the_password_policy_needs_ten_characters():
    with pytest.raises(ValidationError) as err:
        check_password("short")
    assert err.value.field == "password"
    assert check_password("ten chars!") == "ten chars!"


def test_an_invited_user_cannot_log_in_until_the_password_is_set(meta):
    # Given an invitation (version 1 is the set-password request, valid 7 days)
    user = User.invite(uuid.uuid4(), meta, email="new@acme.test", name="New", role="finance")
    assert user.status == "invited" and not user.can_log_in()
    assert user.reset_is_open(1, meta.at + timedelta(days=6))
    assert not user.reset_is_open(1, meta.at + timedelta(days=8))
    # When the password is set with the invitation's version
    user.complete_password_reset(meta.later(meta.at + timedelta(hours=1)), 1, "argon2-hash")
    # Then the user is active and the link is spent
    assert user.status == "active" and user.can_log_in()
    with pytest.raises(ValidationError) as err:
        user.complete_password_reset(meta, 1, "other-hash")
    assert err.value.field == "token"


def test_a_password_reset_is_valid_for_one_hour_and_only_for_the_latest_request(meta):
    user = _user(meta)
    first = user.request_password_reset(meta)
    second = user.request_password_reset(meta.later(meta.at + timedelta(minutes=5)))
    assert second > first
    assert not user.reset_is_open(first, meta.at + timedelta(minutes=10))
    assert user.reset_is_open(second, meta.at + timedelta(minutes=64))
    assert not user.reset_is_open(second, meta.at + timedelta(minutes=66))


def test_no_event_of_a_password_reset_carries_a_token(meta):
    user = _user(meta)
    version = user.request_password_reset(meta)
    token = tokens.reset_token("secret", str(user.id), version)
    for event in user.collect_events():
        assert token not in repr(event_data(event))
        assert token.split(".")[-1] not in repr(event_data(event))


def test_login_audit_events_track_failures_and_last_login(meta):
    user = _user(meta)
    user.record_failed_login(meta, ip="10.0.0.1", reason="wrong password")
    user.record_failed_login(meta, ip="10.0.0.1", reason="wrong password")
    assert user.failed_logins == 2
    later = meta.later(meta.at + timedelta(minutes=1))
    user.record_login(later, ip="10.0.0.1", via="api")
    assert (user.failed_logins, user.last_login_at) == (0, later.at)


def test_an_admin_cannot_demote_or_deactivate_themselves(meta):
    user = _user(meta, role="admin")
    own = replace(meta, actor=str(user.id))
    with pytest.raises(ConflictError):
        user.change_role(own, "auditor")
    with pytest.raises(ConflictError):
        user.deactivate(own)
    assert user.change_role(own, "admin") is False  # no change is no event


def test_a_deactivated_user_cannot_log_in_and_reactivation_restores_it(meta):
    user = _user(meta)
    user.deactivate(meta, "left the company")
    assert not user.can_log_in()
    with pytest.raises(AuthenticationError):
        user.record_login(meta, ip="", via="api")
    with pytest.raises(ConflictError):
        user.request_password_reset(meta)
    user.reactivate(meta)
    assert user.can_log_in()


def test_changing_to_the_customer_role_links_the_customer(meta):
    user = _user(meta)
    assert user.change_role(meta, "customer", "cust-1")
    assert (user.role, user.customer_id) == ("customer", "cust-1")
    user.change_role(meta, "manager")
    assert user.customer_id is None


def test_api_key_scopes_must_be_known_permissions(meta):
    with pytest.raises(ValidationError) as err:
        ApiKey.issue(uuid.uuid4(), meta, name="wp", scopes=["customers:read", "root"], prefix="p",
                     secret_hash="h")
    assert err.value.field == "scopes"
    with pytest.raises(ValidationError):
        ApiKey.issue(uuid.uuid4(), meta, name="wp", scopes=[], prefix="p", secret_hash="h")


def test_api_key_use_is_recorded_at_most_once_a_minute(meta):
    key = ApiKey.issue(uuid.uuid4(), meta, name="wp", scopes=["customers:read"], prefix="p",
                       secret_hash="h")
    assert key.record_use(meta, "1.2.3.4")
    assert not key.record_use(meta.later(meta.at + timedelta(seconds=59)))
    assert key.record_use(meta.later(meta.at + timedelta(seconds=61)))
    assert len([e for e in key.collect_events() if isinstance(e, ApiKey.Used)]) == 2


def test_a_revoked_api_key_matches_nothing(meta):
    key = ApiKey.issue(uuid.uuid4(), meta, name="wp", scopes=["customers:read"], prefix="p",
                       secret_hash="h")
    assert key.matches("h")
    key.revoke(meta)
    assert not key.matches("h")
    with pytest.raises(ConflictError):
        key.revoke(meta)


def test_refresh_rotation_and_reuse_revokes_the_family(meta):
    # Given a family whose first token is t1
    family = RefreshFamily.start(uuid.uuid4(), meta, user_id="u", kind="api", token_hash="t1",
                                 lifetime=timedelta(days=30))
    # When t1 is rotated to t2, then t1 is presented again
    assert family.rotate(meta, "t1", "t2")
    assert family.rotate(meta, "t1", "t3") is False
    # Then the family is revoked and even t2 no longer works
    assert family.revoked and family.revoked_reason == "reuse"
    with pytest.raises(AuthenticationError):
        family.rotate(meta, "t2", "t4")


def test_an_unknown_or_expired_refresh_token_is_refused(meta):
    family = RefreshFamily.start(uuid.uuid4(), meta, user_id="u", kind="api", token_hash="t1",
                                 lifetime=timedelta(days=1))
    with pytest.raises(AuthenticationError):
        family.rotate(meta, "nope", "t2")
    with pytest.raises(AuthenticationError):
        family.rotate(meta.later(meta.at + timedelta(days=2)), "t1", "t2")


def test_a_tenant_is_its_own_tenant(meta):
    tenant_id = uuid.uuid4()
    tenant = Tenant.register(tenant_id, meta.with_tenant(str(tenant_id)), name="Açaí Ltda", slug="acai-ltda")
    assert tenant.tenant_id == str(tenant_id)
    assert slugify("Açaí  Ltda!") == "acai-ltda"
    with pytest.raises(ValueError):
        Tenant.register(uuid.uuid4(), meta, name="X", slug="x")
