"""Every route that takes an id, called by another tenant's admin with the demo tenant's ids: 404/403.

Generated from the app's route table (API under /api/v1 and HTML pages), so a route a context
adds is probed without anyone listing it. The ids are real rows of the seeded demo tenant, found
per path-parameter name in the read models (`victim_ids`): a column of that name (`customer_id`),
else the `id` of the table named after it (`ticket_id` → `support_tickets.id`), else `ALIASES`.
Parameters that are not ids get a plausible value from `FILLERS`. What cannot be filled is listed,
with its reason, in `UNFILLED`; such a route is still probed (with the ids it does have).

A read must answer 404 (or 403). A write is sent without a usable body, so it may be rejected
(422, a redirect back with a message) before the lookup: that passes only when a made-up id gets
the very same answer, i.e. the answer tells nothing about the demo tenant's row.

After all probes the demo tenant's rows in every read model and its events are what they were.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.billing.conftest import PASSWORD
from tests.hardening.conftest import BASE_URL, Demo

pytestmark = pytest.mark.e2e

# Parameter name -> (table, column) when neither a same-named column nor a table named after it exists.
ALIASES: dict[str, tuple[str, str]] = {
    "note_id": ("fiscal_nfse", "id"),
    "notice_id": ("notification_inbox", "id"),
    "email_id": ("outbox_emails", "id"),
    "key_id": ("api_keys", "id"),
    "aggregate_id": ("customers", "id"),  # the audit history of any aggregate; a customer is one
    "job_id": ("cnpj_imports", "id"),
}

# Path parameters that are not ids: a value the route accepts, so the id is what is tested.
FILLERS: dict[str, str] = {
    "action": "suspend",
    "n": "1",
    "which": "xml",
    "phone": "5511999990000",
    "name": "billing.daily_run",
}

# Ids the seeded demo tenant has no row for (no read-model table holds them): the route is probed
# with a made-up value for these, and the demo tenant's real value for its other ids.
UNFILLED = {
    "attachment_id": "support attachments live in the file store, not in a read model",
    "refund_id": "the demo seeds no refund",
    "sha256": "field-order files are content-addressed in the file store",
    "campaign_id": "the demo seeds campaign settings but no campaign",
    "message_id": "the demo seeds no campaign, so no message",
    "import_id": "the demo seeds no CNPJ or bank-statement import",
    "job_id": "the demo seeds no CNPJ import (its job)",
    "movement_id": "the demo seeds no bank-statement movement",
    "remittance_id": "the demo seeds no boleto remittance",
    "request_id": "the demo seeds no portal plan-change request (a pending one would block the demo customer's)",
    "schedule_id": "the demo seeds no scheduled report (it would mail the demo's recipients)",
}

# Routes that are meant to be reached without a tenant session (public links, signed webhooks,
# the static files and the schema): their token or signature is what guards them, tested in
# their contexts.
def _skipped(path: str, handler: Any) -> bool:
    return bool((handler.opt or {}).get("public")) or path.startswith(("/static", "/schema"))


def _id_params(path: str) -> list[str]:
    return re.findall(r"\{([a-z0-9_]+)(?::[a-z]+)?\}", path)


def _is_id(name: str) -> bool:
    return name.endswith("_id") or name in UNFILLED


def victim_ids(engine: sa.Engine, tenant_id: str, names: set[str]) -> dict[str, str]:
    """One real value per id parameter name, taken from the demo tenant's read-model rows."""
    from projections.base import metadata

    tables = [t for t in metadata.sorted_tables if "tenant_id" in t.c]
    found: dict[str, str] = {}
    with engine.connect() as conn:
        def first(table: sa.Table, column: str) -> str | None:
            row = conn.execute(sa.select(table.c[column]).where(table.c.tenant_id == tenant_id,
                                                                table.c[column].is_not(None)).limit(1)).first()
            return str(row[0]) if row and row[0] not in ("", None) else None

        for name in sorted(names):
            stem = name.removesuffix("_id")
            candidates: list[tuple[sa.Table, str]] = []
            if name in ALIASES:
                table_name, column = ALIASES[name]
                candidates.append((metadata.tables[table_name], column))
            candidates += [(t, "id") for t in tables if "id" in t.c and (
                t.name in (stem, stem + "s") or t.name.endswith(("_" + stem, "_" + stem + "s")))]
            candidates += [(t, name) for t in tables if name in t.c]
            for table, column in candidates:
                value = first(table, column)
                if value:
                    found[name] = value
                    break
    return found


def _fingerprint(engine: sa.Engine, tenant_id: str) -> dict[str, str]:
    """A digest of every read-model row of the tenant, per table, plus its event count."""
    from projections.base import metadata

    digest: dict[str, str] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            rows = conn.execute(sa.select(table).where(table.c.tenant_id == tenant_id)).all()
            digest[table.name] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return digest


def _routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    from litestar.routes import HTTPRoute

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        names = _id_params(route.path)
        if not any(_is_id(n) for n in names):
            continue
        for handler in route.route_handlers:
            if _skipped(route.path, handler):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                yield method, route.path, handler


def _probe(client: Any, method: str, path: str, values: dict[str, str], csrf: str) -> Any:
    url = re.sub(r"\{([a-z0-9_]+)(?::[a-z]+)?\}", lambda m: values[m.group(1)], path)
    if path.startswith("/api/"):
        kwargs: dict[str, Any] = {} if method == "GET" else {"json": {}}
    else:
        kwargs = {} if method == "GET" else {"data": {"_csrf_token": csrf}, "headers": {"x-csrftoken": csrf}}
    return client.request(method, url, follow_redirects=False, **kwargs)


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture(scope="module")
def intruder(demo: Demo) -> Iterator[Any]:
    """A second tenant's admin, with a Bearer token (API) and a logged-in browser session (pages)."""
    from litestar.testing import TestClient

    from retaguarda.main import create_app

    with TestClient(create_app(demo.container), base_url=BASE_URL) as tc:
        r = tc.post("/api/v1/auth/signup", json={"tenant_name": "Intruso Ltda", "name": "Intruso",
                                                 "email": "admin@intruso.test", "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = tc.post("/api/v1/auth/login", json={"email": "admin@intruso.test", "password": PASSWORD})
        assert r.status_code == 200, r.text
        tc.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        page = tc.get("/login")
        r = tc.post("/login", data={"email": "admin@intruso.test", "password": PASSWORD, "next": "/",
                                    "_csrf_token": _csrf(page.text)}, follow_redirects=False)
        assert r.status_code in (302, 303), r.text
        yield tc


def test_every_route_with_an_id_hides_another_tenants_rows(demo: Demo, intruder: Any) -> None:
    container = demo.container
    container.wait_for(container.store.head(), timeout=30)
    routes = list(_routes(demo.app))
    names = {n for _, path, _ in routes for n in _id_params(path) if n.endswith("_id")}
    ids = victim_ids(container.engine, demo.tenant_id, names)
    missing = names - set(ids) - set(UNFILLED)
    assert not missing, f"no demo row for {sorted(missing)}: seed one or list it in UNFILLED"
    before = _fingerprint(container.engine, demo.tenant_id)
    head = container.store.head()
    csrf = _csrf(intruder.get("/").text)

    leaks: list[str] = []
    probed = 0
    for method, path, _handler in routes:
        values = {n: ids.get(n) or FILLERS.get(n) or f"unfilled-{n}" for n in _id_params(path)}
        r = _probe(intruder, method, path, values, csrf)
        probed += 1
        if r.status_code in (403, 404):
            continue
        if method != "GET":
            # A write may reject its (empty) input before it looks the id up: fine when the answer
            # is exactly the one a made-up id gets, so it tells nothing about the demo's row.
            made_up = {n: (str(uuid.uuid4()) if _is_id(n) else v) for n, v in values.items()}
            if _probe(intruder, method, path, made_up, csrf).status_code == r.status_code and r.status_code < 500:
                continue
        leaks.append(f"{method} {path} {values} -> {r.status_code} {r.text[:200]!r}")
    assert probed >= 100
    assert not leaks, f"{len(leaks)} of {probed} probes did not answer 404/403:\n" + "\n".join(leaks)
    container.wait_for(container.store.head(), timeout=30)
    after = _fingerprint(container.engine, demo.tenant_id)
    changed = sorted(t for t in before if before[t] != after[t])
    assert not changed, f"the demo tenant's rows changed in {changed}"
    assert head == container.store.head() or _no_event_of(container, demo.tenant_id, head)


def _no_event_of(container: Any, tenant_id: str, since: int) -> bool:
    from projections.base import metadata

    audit = metadata.tables["audit_events"]
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.position, audit.c.event_type).where(
            audit.c.tenant_id == tenant_id, audit.c.position > since)).all()
    assert not rows, f"events of the demo tenant recorded during the probes: {rows}"
    return True
