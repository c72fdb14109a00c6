"""Customer service on the real (SQLite) event store: claims, concurrency, tenants."""

from __future__ import annotations

import threading

import pytest

from retaguarda.customers import Customer
from retaguarda.shared.errors import ConflictError, NotFoundError


def test_duplicate_document_in_a_tenant_is_refused_and_writes_nothing(container, meta):
    first = container.customers.register_customer(meta, name="A", kind="person",
                                                   document="52998224725", email="a@x.com")
    head = container.store.head()
    with pytest.raises(ConflictError) as err:
        container.customers.register_customer(meta, name="B", kind="person",
                                              document="529.982.247-25", email="b@x.com")
    assert err.value.field == "document"
    assert container.store.head() == head
    assert first.position > 0


def test_the_same_document_is_fine_in_another_tenant(container, meta):
    container.customers.register_customer(meta, name="A", kind="person", document="52998224725",
                                          email="a@x.com")
    other = container.customers.register_customer(meta.with_tenant("tenant-b"), name="A", kind="person",
                                                  document="52998224725", email="a@x.com")
    assert other.aggregate.tenant_id == "tenant-b"


def test_changing_the_document_releases_the_old_one(container, meta):
    a = container.customers.register_customer(meta, name="A", kind="person", document="52998224725",
                                              email="a@x.com").aggregate
    container.customers.update_customer(meta, str(a.id), document="111.444.777-35")
    b = container.customers.register_customer(meta, name="B", kind="person", document="52998224725",
                                              email="b@x.com")
    assert b.aggregate.document == "52998224725"


def test_another_tenant_sees_not_found(container, meta):
    a = container.customers.register_customer(meta, name="A", kind="person", document="52998224725",
                                              email="a@x.com").aggregate
    with pytest.raises(NotFoundError):
        container.customers.get_customer("tenant-b", str(a.id))
    with pytest.raises(NotFoundError):
        container.customers.block_customer(meta.with_tenant("tenant-b"), str(a.id), "x")
    with pytest.raises(NotFoundError):
        container.customers.get_customer("tenant-a", "not-a-uuid")


def test_concurrent_edits_are_retried_not_lost(container, meta):
    # Given one customer and eight writers renaming it at the same time
    c = container.customers.register_customer(meta, name="A", kind="person", document="52998224725",
                                              email="a@x.com").aggregate
    errors: list[Exception] = []

    def rename(i: int) -> None:
        try:
            container.customers.update_customer(meta, str(c.id), notes=f"note {i}")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=rename, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every write landed as its own version (retried on conflict), or reported a conflict
    final = container.customers.get_customer("tenant-a", str(c.id))
    assert all(isinstance(e, ConflictError) for e in errors)
    assert final.version == 1 + 8 - len(errors)
    assert isinstance(final, Customer)


def test_state_round_trips_through_the_encrypted_store(container, meta):
    saved = container.customers.register_customer(
        meta, name="Ana", kind="company", document="12ABC34501DE35", email="a@x.com",
        phones=["11987654321"], address={"uf": "SP", "ibge_code": "3550308", "cep": "01001000"})
    loaded = container.customers.get_customer("tenant-a", str(saved.aggregate.id))
    assert loaded.as_state() == saved.aggregate.as_state()
    raw = container.store.read(1, 10)
    assert all(b"Ana" not in n.state for n in raw)  # payloads are encrypted at rest
