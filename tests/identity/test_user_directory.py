"""The user directory read model: what live processing builds, a replay rebuilds identically."""

from __future__ import annotations

import sqlalchemy as sa

from projections.identity.user_directory import UserDirectory, api_keys, list_users, tenants, users
from projections.runner import rebuild
from tests.identity.helpers import PASSWORD, admin_meta, public_meta, signup


def _dump(engine):
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)).all())
                for t in (tenants, users, api_keys)}


def test_the_directory_follows_the_users_and_a_replay_rebuilds_it_identically(container):
    # Given a tenant with users in every state and two API keys, one revoked
    admin = signup(container)
    meta = admin_meta(admin)
    invited = container.identity.invite_user(meta, email="inv@acme.test", name="Inv", role="auditor")
    bob = container.identity.create_user(meta, email="bob@acme.test", name="Bob", role="technician",
                                         password=PASSWORD)
    container.identity.update_user(meta, str(bob.aggregate.id), role="manager", name="Bob Silva")
    container.identity.deactivate_user(meta, str(invited.aggregate.id))
    container.identity.reactivate_user(meta, str(invited.aggregate.id))
    container.identity.login(public_meta(), email="bob@acme.test", password=PASSWORD)
    saved, _ = container.identity.create_api_key(meta, name="one", scopes=["customers:read"])
    container.identity.create_api_key(meta, name="two", scopes=["audit:read"])
    container.identity.revoke_api_key(meta, str(saved.aggregate.id))
    container.runner.catch_up()
    # Then the directory shows the current facts
    with container.engine.connect() as conn:
        listed = {u["email"]: u for u in list_users(conn, admin.aggregate.tenant_id)["items"]}
    assert (listed["bob@acme.test"]["role"], listed["bob@acme.test"]["name"]) == ("manager", "Bob Silva")
    assert listed["bob@acme.test"]["last_login_at"] is not None
    assert (listed["inv@acme.test"]["status"], listed["inv@acme.test"]["active"]) == ("invited", False)
    live = _dump(container.engine)
    # When the projection is replayed from the first event
    rebuild(container.store, container.engine, UserDirectory())
    # Then the rebuilt tables equal the live ones
    assert _dump(container.engine) == live
