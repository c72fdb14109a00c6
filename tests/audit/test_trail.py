"""The audit trail projection: one row per event, filters, pagination, tenant scoping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from projections.audit.audit_trail import audit_events, list_audit_events, summarize
from retaguarda.readdb import tenant_reader
from tests.audit.conftest import T0


def _list(container: Any, tenant_id: str = "tenant-a", **filters: Any) -> dict[str, Any]:
    with tenant_reader(container.engine, tenant_id) as conn:
        return list_audit_events(conn, tenant_id, **filters)


def test_every_customer_event_gets_a_trail_row_with_who_when_and_what(container, customer_with_rename):
    # Given a customer registered and then renamed
    cid = customer_with_rename["id"]
    # When the projector catches up
    container.runner.catch_up()
    # Then the customer's rows describe both events, newest first
    rows = _list(container, aggregate_id=cid)["items"]
    assert [r["event_type"] for r in rows] == ["Customer.Updated", "Customer.Registered"]
    updated, registered = rows
    assert updated["version"] == 2 and registered["version"] == 1
    assert updated["actor"] == "user-2" and registered["actor"] == "user-1"
    assert updated["correlation_id"] == "corr-upd"
    assert updated["aggregate_type"] == "Customer" and updated["tenant_id"] == "tenant-a"
    assert updated["occurred_at"] == customer_with_rename["renamed"]
    assert registered["occurred_at"] == T0
    assert updated["summary"] == "name=Ana B"
    assert "name=Ana" in registered["summary"]


def test_the_summary_masks_cpf_and_never_shows_the_full_document(container, register):
    # Given a customer with CPF 529.982.247-25
    register("Bia", document="52998224725")
    container.runner.catch_up()
    # Then no trail row (customer or document claim) shows the full CPF
    rows = _list(container)["items"]
    assert rows, "expected trail rows"
    for row in rows:
        assert "52998224725" not in row["summary"]
        assert "529.982.247-25" not in row["summary"]
    assert any("***.982.247-**" in r["summary"] for r in rows)


def test_the_summary_redacts_secrets_and_is_truncated():
    # Given an event-like object with a password hash and a very long note
    class Fake:
        pass

    event = Fake()
    event.password_hash = "argon2$secret"
    event.notes = "x" * 2000
    # When summarised
    text = summarize(event)
    # Then the secret is redacted and the text is bounded
    assert "argon2" not in text and "password_hash=***" in text
    assert len(text) <= 500 and text.endswith("…")


def test_filters_by_actor_type_and_time_window(container, register, customer_with_rename):
    # Given three customers registered on consecutive days by different actors, and a rename
    register("Caio", at=T0 + timedelta(days=2), actor="user-3", document="111.444.777-35")
    register("Duda", at=T0 + timedelta(days=3), actor="user-3", document="390.533.447-05")
    container.runner.catch_up()
    # When filtering by actor
    by_actor = _list(container, actor="user-3", type="Customer")
    # Then only that actor's customer events appear
    assert by_actor["total"] == 2
    assert {r["actor"] for r in by_actor["items"]} == {"user-3"}
    # When filtering by the exact event type
    assert _list(container, type="Customer.Updated")["total"] == 1
    # When filtering by a time window (inclusive)
    window = _list(container, type="Customer", since=T0 + timedelta(days=1),
                   until=T0 + timedelta(days=2))
    assert [r["event_type"] for r in window["items"]] == ["Customer.Registered", "Customer.Updated"]
    assert [r["actor"] for r in window["items"]] == ["user-3", "user-2"]


def test_pagination_is_newest_first_and_caps_the_page_size(container, register):
    # Given five customers (each registration also writes a document claim: 10 events)
    documents = ["529.982.247-25", "111.444.777-35", "390.533.447-05", "123.456.789-09",
                 "987.654.321-00"]
    for i, doc in enumerate(documents):
        register(f"Cliente {i}", at=T0 + timedelta(minutes=i), document=doc)
    container.runner.catch_up()
    # When reading pages of three customer events
    first = _list(container, type="Customer", page=1, per_page=3)
    second = _list(container, type="Customer", page=2, per_page=3)
    # Then pages are ordered newest first, without overlap, and count the total
    assert first["total"] == 5 and first["page"] == 1 and first["pages"] == 2
    positions = [r["position"] for r in first["items"] + second["items"]]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == 5
    assert len(second["items"]) == 2
    # And a huge page size is capped at 200
    assert _list(container, per_page=10_000)["per_page"] == 200


def test_another_tenant_sees_none_of_the_rows(container, register, customer_with_rename):
    # Given events of tenant-a and one customer of tenant-b
    register("Eva", tenant_id="tenant-b", document="111.444.777-35")
    container.runner.catch_up()
    # Then each tenant only lists its own events
    rows_b = _list(container, "tenant-b")["items"]
    assert rows_b and {r["tenant_id"] for r in rows_b} == {"tenant-b"}
    assert _list(container, "tenant-b", aggregate_id=customer_with_rename["id"])["total"] == 0


def test_the_trail_has_one_row_per_stored_event(container, customer_with_rename):
    # Given some events
    container.runner.catch_up()
    # Then the trail counts exactly the events in the log (claims included)
    import sqlalchemy as sa

    with container.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar()
    assert count == container.store.head()
