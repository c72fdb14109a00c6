"""HTTP: the audit JSON API, the audit pages and the reusable History tab fragments."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.audit.conftest import T0


@pytest.fixture
def renamed(live_container: Any, customer_with_rename: dict[str, Any]) -> dict[str, Any]:
    """The renamed customer, with the read models caught up."""
    assert live_container.wait_for(customer_with_rename["position"], timeout=5)
    return customer_with_rename


def _problem_field(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["field"]


def test_an_auditor_lists_the_trail_with_filters_and_pages(client, as_user, renamed):
    # When the auditor lists the customer's events
    r = client.get("/api/v1/audit/events", params={"aggregate_id": renamed["id"]},
                   headers=as_user("auditor"))
    # Then both events are listed, newest first
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and body["page"] == 1
    assert [i["event_type"] for i in body["items"]] == ["Customer.Updated", "Customer.Registered"]
    assert body["items"][0]["summary"] == "name=Ana B"
    # And the filters by type, actor and time work
    only_updates = client.get("/api/v1/audit/events", headers=as_user("auditor"),
                              params={"type": "Customer.Updated", "actor": "user-2",
                                      "since": (T0 + timedelta(hours=1)).isoformat()}).json()
    assert only_updates["total"] == 1
    none_before = client.get("/api/v1/audit/events", headers=as_user("auditor"),
                             params={"until": "2026-11-22"}).json()
    assert none_before["total"] == 0
    paged = client.get("/api/v1/audit/events", headers=as_user("auditor"),
                       params={"per_page": 1, "page": 2, "type": "Customer"}).json()
    assert paged["page"] == 2 and [i["event_type"] for i in paged["items"]] == ["Customer.Registered"]


def test_bad_filters_are_problem_details_naming_the_parameter(client, as_user, renamed):
    r = client.get("/api/v1/audit/events", params={"since": "last tuesday"}, headers=as_user("auditor"))
    assert r.status_code == 422 and _problem_field(r) == "since"
    r = client.get("/api/v1/audit/events", params={"per_page": 500}, headers=as_user("auditor"))
    assert r.status_code in (400, 422)


def test_the_history_endpoint_returns_every_event_with_its_data(client, as_user, renamed):
    r = client.get(f"/api/v1/audit/aggregates/{renamed['id']}", headers=as_user("auditor"))
    assert r.status_code == 200
    body = r.json()
    assert body["aggregate_id"] == renamed["id"] and body["aggregate_type"] == "Customer"
    events = body["events"]
    assert [e["version"] for e in events] == [1, 2]
    for e in events:
        assert {"version", "type", "timestamp", "actor", "correlation_id", "data"} <= set(e)
    assert events[0]["data"]["name"] == "Ana"
    assert events[1]["data"] == {"changes": {"name": "Ana B"}} and events[1]["actor"] == "user-2"


def test_the_state_endpoint_travels_by_version_and_by_time(client, as_user, renamed):
    url = f"/api/v1/audit/aggregates/{renamed['id']}/state"
    v1 = client.get(url, params={"version": 1}, headers=as_user("auditor"))
    assert v1.status_code == 200
    assert v1.json()["version"] == 1 and v1.json()["state"]["name"] == "Ana"
    assert v1.json()["as_of"] == T0.isoformat()
    at = client.get(url, params={"at": (renamed["renamed"] - timedelta(minutes=1)).isoformat()},
                    headers=as_user("auditor")).json()
    assert at["version"] == 1 and at["state"]["name"] == "Ana"
    latest = client.get(url, headers=as_user("auditor")).json()
    assert latest["version"] == 2 and latest["state"]["name"] == "Ana B"


@pytest.mark.parametrize("params,field", [
    ({"version": "abc"}, "version"),
    ({"version": "0"}, "version"),
    ({"version": "7"}, "version"),
    ({"at": "not-a-date"}, "at"),
    ({"at": "2020-01-01T00:00:00Z"}, "at"),
])
def test_bad_version_or_instant_is_a_422_naming_it(client, as_user, renamed, params, field):
    r = client.get(f"/api/v1/audit/aggregates/{renamed['id']}/state", params=params,
                   headers=as_user("auditor"))
    assert r.status_code == 422
    assert _problem_field(r) == field


def test_another_tenants_auditor_gets_404_and_never_the_data(client, as_user, renamed):
    for path in (f"/api/v1/audit/aggregates/{renamed['id']}",
                 f"/api/v1/audit/aggregates/{renamed['id']}/state?version=1"):
        r = client.get(path, headers=as_user("auditor-b"))
        assert r.status_code == 404
        assert "Ana" not in r.text
    listed = client.get("/api/v1/audit/events", headers=as_user("auditor-b")).json()
    assert listed["total"] == 0


def test_the_audit_api_requires_audit_read(client, as_user, renamed):
    assert client.get("/api/v1/audit/events").status_code == 401
    assert client.get("/api/v1/audit/events", headers=as_user("technician")).status_code == 403
    assert client.post("/api/v1/audit/verify", headers=as_user("technician")).status_code == 403
    # One record's history is also open to staff who may see that kind of record …
    r = client.get(f"/api/v1/audit/aggregates/{renamed['id']}", headers=as_user("technician"))
    assert r.status_code == 200 and r.json()["aggregate_type"] == "Customer"
    state = client.get(f"/api/v1/audit/aggregates/{renamed['id']}/state", headers=as_user("technician"))
    assert state.status_code == 200
    # … and closed to anyone else (a portal customer has no customers:read).
    r = client.get(f"/api/v1/audit/aggregates/{renamed['id']}", headers=as_user("customer"))
    assert r.status_code == 403
    r = client.get(f"/api/v1/audit/aggregates/{renamed['id']}/state", headers=as_user("customer"))
    assert r.status_code == 403


def test_verify_endpoint_reports_an_intact_seal(client, as_user, renamed, live_container):
    r = client.post("/api/v1/audit/verify", headers=as_user("auditor"))
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["first_bad_position"] is None
    assert body["checked"] >= 1


# Pages ----------------------------------------------------------------------------------

def test_the_audit_page_lists_events_with_filters_and_an_empty_state(client, as_user, renamed):
    page = client.get("/audit", headers=as_user("auditor"))
    assert page.status_code == 200
    assert "Customer.Updated" in page.text and "<dt>Nome</dt><dd>Ana B</dd>" in page.text, page.text[-3000:]
    empty = client.get("/audit", params={"actor": "nobody"}, headers=as_user("auditor"))
    assert empty.status_code == 200 and 'data-testid="empty-state"' in empty.text
    bad = client.get("/audit", params={"since": "nope"}, headers=as_user("auditor"))
    assert bad.status_code == 422 and "field-error" in bad.text
    assert client.get("/audit", headers=as_user("technician")).status_code == 403


def test_the_aggregate_page_loads_the_history_fragment(client, as_user, renamed):
    page = client.get(f"/audit/aggregates/{renamed['id']}", headers=as_user("auditor"))
    assert page.status_code == 200
    assert f'hx-get="/history/{renamed["id"]}"' in page.text


def test_the_history_tab_shows_who_when_what_changed_and_state_links(client, as_user, renamed):
    # A technician (customers:read, no audit:read) may open a customer's History tab
    r = client.get(f"/history/{renamed['id']}", headers={**as_user("technician"), "HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text  # a fragment, not a page
    assert "Customer.Updated" in r.text and "user-2" in r.text
    assert "<del>Ana</del>" in r.text and "<ins>Ana B</ins>" in r.text
    assert f"/history/{renamed['id']}/state?version=1" in r.text
    # And the "state at this point" fragment shows the old name at version 1
    state = client.get(f"/history/{renamed['id']}/state", params={"version": 1},
                       headers=as_user("technician"))
    assert state.status_code == 200 and "<html" not in state.text
    assert "<dt>Nome</dt><dd>Ana</dd>" in state.text  # field names for people, values as text
    bad = client.get(f"/history/{renamed['id']}/state", params={"version": "x"},
                     headers=as_user("technician"))
    assert bad.status_code == 422 and "version" in bad.text


def test_the_history_tab_is_refused_to_other_tenants_and_unpermitted_users(client, as_user, renamed):
    assert client.get(f"/history/{renamed['id']}", headers=as_user("auditor-b")).status_code == 404
    assert client.get(f"/history/{renamed['id']}", headers=as_user("customer")).status_code == 403
    anonymous = client.get(f"/history/{renamed['id']}", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307)


def test_the_verify_page_runs_the_check_and_shows_the_result(client, as_user, renamed):
    form = client.get("/audit/verify", headers=as_user("auditor"))
    assert form.status_code == 200 and "Verificar agora" in form.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', form.text).group(1)
    done = client.post("/audit/verify", headers={**as_user("auditor"), "x-csrftoken": token})
    assert done.status_code == 200
    assert 'data-testid="verify-result"' in done.text and "Íntegro" in done.text
