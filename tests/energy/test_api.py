"""The energy API over HTTP with the sandbox portal (the issue's acceptance interfaces)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from retaguarda.billing.boleto import parse_arrecadacao
from retaguarda.billing.pix import parse_brcode
from tests.energy.conftest import CNPJ, CPF, connect, create_account, synced

pytestmark = pytest.mark.e2e


def test_create_validates_document_and_phone(client: Any, admin: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/energy/accounts",
        headers=admin,
        json={"name": "X", "document": "52998224724", "phone_last4": "1234"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document"
    r = client.post(
        "/api/v1/energy/accounts", headers=admin, json={"name": "X", "document": "123", "phone_last4": "1234"}
    )
    assert r.status_code == 422 and "document" in r.text
    r = client.post(
        "/api/v1/energy/accounts", headers=admin, json={"name": "X", "document": CPF, "phone_last4": "12a4"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone_last4"
    assert client.get("/api/v1/energy/accounts", headers=admin).json()["total"] == 0
    account_id = create_account(client, admin, "529.982.247-25")
    body = client.get(f"/api/v1/energy/accounts/{account_id}", headers=admin).json()
    assert body["document"] == CPF and body["last_sync"] is None and body["status"] == "disconnected"


def test_wrong_code_keeps_awaiting_sms_then_right_code_connects_and_syncs(
    client: Any, admin: dict[str, str]
) -> None:
    account_id = create_account(client, admin)
    r = client.post(f"/api/v1/energy/accounts/{account_id}/connect", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "awaiting_sms"
    tid = r.json()["transaction_id"]
    assert tid
    r = client.post(
        f"/api/v1/energy/accounts/{account_id}/sms",
        headers=admin,
        json={"transaction_id": tid, "code": "654321"},
    )
    assert 400 <= r.status_code < 500 and r.json()["errors"][0]["field"] == "code"
    assert (
        client.get(f"/api/v1/energy/accounts/{account_id}", headers=admin).json()["status"] == "awaiting_sms"
    )
    r = client.post(
        f"/api/v1/energy/accounts/{account_id}/sms",
        headers=admin,
        json={"transaction_id": tid, "code": "123456"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "connected"
    body = synced(client, admin, account_id)
    last = body["last_sync"]
    assert last["status"] == "completed" and last["units"] == 4 and last["bills"] == 52
    assert last["failed_units"] == 0 and last["done"] == last["total"] == 4


def test_sync_is_202_and_units_beneficiaries_bills_are_listed(client: Any, admin: dict[str, str]) -> None:
    account_id = create_account(client, admin)
    connect(client, admin, account_id)
    synced(client, admin, account_id)
    r = client.post(f"/api/v1/energy/accounts/{account_id}/sync", headers=admin)
    assert r.status_code == 202
    body = synced(client, admin, account_id)
    assert body["last_sync"]["status"] == "completed"
    # a second sync changes nothing: no new bills
    assert body["last_sync"]["new_bills"] == 0

    units = client.get(f"/api/v1/energy/units?account={account_id}", headers=admin).json()["items"]
    assert {u["number"] for u in units} == {4160693, 4160701, 4160702, 4160703}
    assert all({"id", "number", "is_generator", "credit_kwh"} <= set(u) for u in units)
    plants = [u for u in units if u["is_generator"]]
    assert (
        len(plants) == 1
        and plants[0]["number"] == 4160693
        and Decimal(plants[0]["credit_kwh"]) == Decimal("1523.7")
    )
    assert all(u["credit_kwh"] is None for u in units if not u["is_generator"])

    items = client.get(f"/api/v1/energy/units/{plants[0]['id']}/beneficiaries", headers=admin).json()["items"]
    by_number = {u["number"]: u["id"] for u in units}
    assert [(b["number"], b["percent"], b["unit_id"]) for b in items] == [
        (4160701, 40, by_number[4160701]),
        (4160702, 35, by_number[4160702]),
        (4160703, 15, by_number[4160703]),
    ]
    assert sum(b["percent"] for b in items) <= 100

    bills = client.get(f"/api/v1/energy/units/{by_number[4160701]}/bills?per_page=50", headers=admin).json()
    assert bills["total"] == 13
    first = bills["items"][0]
    assert {"id", "reference_month", "amount", "due_date", "status", "pix_copy_paste", "barcode"} <= set(
        first
    )
    assert first["status"] == "pending"
    assert [b["reference_month"] for b in bills["items"]] == sorted(
        (b["reference_month"] for b in bills["items"]), reverse=True
    )
    pix = parse_brcode(first["pix_copy_paste"])
    assert pix["amount"] == Decimal(first["amount"])
    code = parse_arrecadacao(first["barcode"])
    assert code["segment"] == "3" and code["amount"] == Decimal(first["amount"])
    assert len(first["digitable_line"]) == 48
    paid = [b for b in bills["items"] if b["status"] != "pending"]
    assert all(b["pix_copy_paste"] is None and b["barcode"] is None for b in paid)
    assert {b["status"] for b in paid} == {"paid_on_time", "paid_late"}


def test_pdf_is_fetched_once_then_served_from_cache(client: Any, admin: dict[str, str]) -> None:
    account_id = create_account(client, admin)
    connect(client, admin, account_id)
    synced(client, admin, account_id)
    unit = client.get(f"/api/v1/energy/units?account={account_id}", headers=admin).json()["items"][0]
    bill = client.get(f"/api/v1/energy/units/{unit['id']}/bills", headers=admin).json()["items"][0]
    r = client.get(f"/api/v1/energy/bills/{bill['id']}/pdf", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf")
    assert r.headers["x-cache"] == "miss" and r.content.startswith(b"%PDF")
    again = client.get(f"/api/v1/energy/bills/{bill['id']}/pdf", headers=admin)
    assert again.headers["x-cache"] == "hit" and again.content == r.content
    assert client.get(f"/api/v1/energy/bills/{unit['id']}/pdf", headers=admin).status_code == 404


def test_company_b_has_no_plant_and_a_cut_unit(client: Any, admin: dict[str, str]) -> None:
    account_id = create_account(client, admin, CNPJ)
    connect(client, admin, account_id)
    synced(client, admin, account_id)
    units = client.get(f"/api/v1/energy/units?account={account_id}", headers=admin).json()["items"]
    assert [(u["number"], u["is_generator"], u["cut"]) for u in units] == [
        (5230011, False, False),
        (5230028, False, True),
    ]
    r = client.get(f"/api/v1/energy/units/{units[0]['id']}/beneficiaries", headers=admin)
    assert r.status_code == 200 and r.json()["items"] == []


def test_other_tenant_sees_nothing_and_phone_mismatch_names_phone(client: Any, admin: dict[str, str]) -> None:
    from tests.billing.conftest import signup

    account_id = create_account(client, admin)
    other = signup(client, "Outra", "admin@outra.test")
    assert client.get(f"/api/v1/energy/accounts/{account_id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/energy/accounts/{account_id}/connect", headers=other).status_code == 404
    r = client.post(
        "/api/v1/energy/accounts", headers=admin, json={"name": "Y", "document": CPF, "phone_last4": "9999"}
    )
    r = client.post(f"/api/v1/energy/accounts/{r.json()['id']}/connect", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone_last4"
    # sync before connecting is a conflict naming status
    r = client.post(f"/api/v1/energy/accounts/{account_id}/sync", headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"


def test_sms_for_a_superseded_transaction_names_transaction_id(client: Any, admin: dict[str, str]) -> None:
    account_id = create_account(client, admin)
    client.post(f"/api/v1/energy/accounts/{account_id}/connect", headers=admin)
    r = client.post(
        f"/api/v1/energy/accounts/{account_id}/sms",
        headers=admin,
        json={"transaction_id": "sbx.other.1", "code": "123456"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "transaction_id"
    r = client.post(f"/api/v1/energy/accounts/{account_id}/sms", headers=admin, json={"code": "12"})
    assert r.status_code == 422


def test_alerts_mail_new_pending_bills_and_cut_units_and_cards_show(
    client: Any, admin: dict[str, str], live_container: Any
) -> None:
    from projections.ops.outbox import list_emails
    from tests.energy.conftest import wait_for

    account_id = create_account(client, admin, CNPJ)
    connect(client, admin, account_id)
    synced(client, admin, account_id)
    tenant = client.get(f"/api/v1/energy/accounts/{account_id}", headers=admin)
    assert tenant.status_code == 200

    def mails() -> Any:
        with live_container.engine.connect() as conn:
            from projections.energy.portfolio import energy_accounts

            tid = (
                conn.execute(energy_accounts.select().where(energy_accounts.c.id == account_id))
                .first()
                .tenant_id
            )
            items = list_emails(conn, tid, per_page=100)["items"]
        sent = [m["subject"] for m in items if m["template"] == "energy.alert" and m["status"] == "sent"]
        return sent if len(sent) >= 3 else None

    subjects = wait_for(mails)
    assert len(subjects) == 3  # one new pending bill per unit and the cut unit, once each
    assert sum("5230028" in s for s in subjects) == 2 and any("cut" in s or "cortada" in s for s in subjects)
    home = client.get("/", headers=admin)
    assert "card-energy-alerts" in home.text
