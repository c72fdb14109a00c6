"""History and time travel read straight from the event store, scoped to the tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from retaguarda.audit import application as audit
from retaguarda.audit.application import can_read_history, parse_instant, parse_version
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.web.principal import Principal
from tests.audit.conftest import T0, TEST_USERS


def test_history_lists_every_event_with_its_data_and_changes(container, customer_with_rename):
    # Given a customer registered as Ana and renamed Ana B
    cid = customer_with_rename["id"]
    # When reading its history
    h = audit.history(container.store, cid, "tenant-a")
    # Then both events are there, oldest first, JSON-safe, with who/when/what
    assert h["aggregate_id"] == cid and h["aggregate_type"] == "Customer"
    first, second = h["events"]
    assert (first["version"], first["type"], first["actor"]) == (1, "Customer.Registered", "user-1")
    assert first["timestamp"] == T0.isoformat()
    assert first["data"]["name"] == "Ana" and first["data"]["phones"] == []
    assert second["type"] == "Customer.Updated" and second["data"] == {"changes": {"name": "Ana B"}}
    assert second["correlation_id"] == "corr-upd"
    assert second["changes"] == {"name": ["Ana", "Ana B"]}


def test_state_at_version_one_has_the_old_name(container, customer_with_rename):
    cid = customer_with_rename["id"]
    # When asking for the state at version 1 and at the latest version
    v1 = audit.state(container.store, cid, "tenant-a", version=1)
    latest = audit.state(container.store, cid, "tenant-a")
    # Then version 1 shows the old name and the latest the new one
    assert v1["version"] == 1 and v1["state"]["name"] == "Ana"
    assert v1["as_of"] == T0.isoformat()
    assert latest["version"] == 2 and latest["state"]["name"] == "Ana B"
    assert latest["state"]["status"] == "active"


def test_state_at_an_instant_takes_the_last_version_not_after_it(container, customer_with_rename):
    cid = customer_with_rename["id"]
    renamed = customer_with_rename["renamed"]
    # When asking for the state just before, exactly at, and after the rename
    before = audit.state(container.store, cid, "tenant-a", at=renamed - timedelta(seconds=1))
    exactly = audit.state(container.store, cid, "tenant-a", at=renamed)
    after = audit.state(container.store, cid, "tenant-a", at=renamed + timedelta(days=30))
    # Then the rename is visible only from its own timestamp on
    assert (before["version"], before["state"]["name"]) == (1, "Ana")
    assert (exactly["version"], exactly["state"]["name"]) == (2, "Ana B")
    assert after["version"] == 2


def test_state_before_creation_or_out_of_range_names_the_parameter(container, customer_with_rename):
    cid = customer_with_rename["id"]
    with pytest.raises(ValidationError) as before:
        audit.state(container.store, cid, "tenant-a", at=T0 - timedelta(days=1))
    assert before.value.field == "at"
    with pytest.raises(ValidationError) as too_far:
        audit.state(container.store, cid, "tenant-a", version=3)
    assert too_far.value.field == "version"
    with pytest.raises(ValidationError) as both:
        audit.state(container.store, cid, "tenant-a", version=1, at=T0)
    assert both.value.field == "version"


def test_another_tenant_or_an_unknown_id_is_not_found(container, customer_with_rename):
    cid = customer_with_rename["id"]
    # Then tenant-b cannot read tenant-a's history nor state; bad ids are simply not found
    with pytest.raises(NotFoundError):
        audit.history(container.store, cid, "tenant-b")
    with pytest.raises(NotFoundError):
        audit.state(container.store, cid, "tenant-b", version=1)
    with pytest.raises(NotFoundError):
        audit.history(container.store, "00000000-0000-0000-0000-000000000000", "tenant-a")
    with pytest.raises(NotFoundError):
        audit.history(container.store, "not-a-uuid", "tenant-a")
    # And without a tenant (the server-side CLI) the history is readable
    assert len(audit.history(container.store, cid, None)["events"]) == 2


def test_query_parameters_are_parsed_or_rejected_by_name():
    assert parse_instant("2026-11-23T09:00:00-03:00", "at") == T0
    assert parse_instant("2026-11-23T12:00:00Z", "at") == T0
    assert parse_instant("2026-11-23 12:00", "at") == T0  # no offset: UTC
    assert parse_instant("2026-11-23", "until", end_of_day=True).hour == 23
    assert parse_instant("", "at") is None
    with pytest.raises(ValidationError) as bad_at:
        parse_instant("yesterday", "at")
    assert bad_at.value.field == "at"
    assert parse_version("3") == 3 and parse_version(None) is None
    for bad in ("0", "-1", "abc", "1.5"):
        with pytest.raises(ValidationError) as exc:
            parse_version(bad)
        assert exc.value.field == "version"


def test_history_policy_reads_customers_with_customers_read_and_the_rest_with_audit_read():
    technician = TEST_USERS["technician"]
    auditor = TEST_USERS["auditor"]
    nobody = Principal(kind="user", id="x", tenant_id="tenant-a", role="customer",
                       permissions=frozenset({"portal:self"}))
    assert can_read_history(technician, "Customer")
    assert not can_read_history(technician, "User")
    assert can_read_history(auditor, "User") and can_read_history(auditor, "Customer")
    assert not can_read_history(nobody, "Customer")
