"""#20 defect 6: claim ids on CPFs and e-mails come from a keyed HMAC, so the ids stored in clear
cannot be tested against candidate CPFs; claims taken before keep working (and are moved)."""

from __future__ import annotations

from typing import Any

import pytest

from retaguarda.migrate import rekey
from retaguarda.shared.claims import Claim, claim_id, claim_key_bytes, keyed_claim_id
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta

CPF = "52998224725"
SCOPE = "customer-document:tenant-a"


def _stored_ids(container: Any) -> set[str]:
    return {str(container.store.decode(n).originator_id) for n in container.store.read(1, 100_000)}


def test_claim_ids_stored_in_clear_reveal_neither_cpf_nor_email(container: Any, meta: Meta) -> None:
    customer = container.customers.register_customer(meta, name="A", kind="person", document=CPF,
                                                     email="a@x.com").aggregate
    container.identity.create_user(meta, email="ana@acme.test", name="Ana", role="admin",
                                   password="a-long-password-1")
    ids = _stored_ids(container)
    # Whoever holds a copy of the log (not the claim key) can no longer test candidates
    assert str(claim_id(SCOPE, CPF)) not in ids
    assert str(claim_id("global:user-email", "ana@acme.test")) not in ids
    secret = claim_key_bytes(container.settings.claim_key)
    assert str(keyed_claim_id(secret, SCOPE, CPF)) in ids
    assert keyed_claim_id(b"another-key-0123456789", SCOPE, CPF) != keyed_claim_id(secret, SCOPE, CPF)
    # And uniqueness still holds
    assert container.customers.owner_of(SCOPE, CPF) == str(customer.id)
    with pytest.raises(ConflictError):
        container.customers.register_customer(meta, name="B", kind="person", document=CPF, email="b@x.com")


def test_the_claim_key_is_generated_and_kept_like_the_other_keys(tmp_path: Any) -> None:
    from retaguarda.settings import SettingsError, load_settings

    first = load_settings({}, var_dir=tmp_path, env="test")
    assert len(claim_key_bytes(first.claim_key)) == 32
    assert load_settings({}, var_dir=tmp_path, env="test").claim_key == first.claim_key
    assert (tmp_path / "claim_key.txt").stat().st_mode & 0o777 == 0o600
    with pytest.raises(SettingsError):
        load_settings({"RETAGUARDA_CLAIM_KEY": "c2hvcnQ="}, var_dir=tmp_path, env="test")


def test_claims_taken_before_keep_working_and_migrate_moves_them(container: Any, meta: Meta) -> None:
    # Given a claim taken by an older release, under the unkeyed id
    old_owner = "11111111-1111-4111-8111-111111111111"
    legacy = Claim.take(SCOPE, CPF, old_owner, meta)
    email = Claim.take("global:user-email", "old@acme.test", "u-old", meta.with_tenant("*"))
    container.store.save(legacy, email)
    internal = Claim.take("billing-period", "sub:2026-11-01", "inv-1", meta)  # not a keyed scope
    container.store.save(internal)
    # Then it is still found and still refuses a second owner
    assert container.customers.owner_of(SCOPE, CPF) == old_owner
    with pytest.raises(ConflictError):
        container.customers.register_customer(meta, name="B", kind="person", document=CPF, email="b@x.com")
    # When the one-off re-claim runs (part of `retaguarda migrate`)
    assert rekey(container) == 2
    # Then the keyed claim holds it for the same owner, and the old id is released
    secret = claim_key_bytes(container.settings.claim_key)
    moved = container.store.get(keyed_claim_id(secret, SCOPE, CPF))
    assert (moved.owner_id, moved.scope, moved.key) == (old_owner, SCOPE, CPF)
    assert container.store.get(claim_id(SCOPE, CPF)).owner_id is None
    assert container.identity.owner_of("global:user-email", "old@acme.test") == "u-old"
    assert container.customers.owner_of(SCOPE, CPF) == old_owner
    with pytest.raises(ConflictError):
        container.customers.register_customer(meta, name="C", kind="person", document=CPF, email="c@x.com")
    assert container.store.get(claim_id("billing-period", "sub:2026-11-01")).owner_id == "inv-1"
    # And it runs once: a second migrate moves nothing
    assert rekey(container) == 0
