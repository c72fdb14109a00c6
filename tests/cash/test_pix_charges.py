"""The BCB API Pix against the fake PSP, through the app: an issued invoice gets its immediate
charge (`cob`) whose location-based BR Code replaces the static one on the invoice and the public
pay page; the `GET /pix` reconciler records (and matches) a Pix whose webhook never came, once
across runs, and a webhook for the same Pix later records nothing new."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from retaguarda.billing.pix import parse_brcode
from retaguarda.cash.actors import create_pix_charge, reconcile_received_pix
from retaguarda.cash.install import cob_txid, invoice_id_of_txid
from tests.cash.conftest import wait_for
from tests.fakes.cash.psp import FakePsp, start_fake_psp

KEY = "financeiro@demo.test"


@pytest.fixture
def psp(tmp_path: Path) -> Any:
    fake = start_fake_psp(tmp_path / "psp")
    yield fake
    fake.stop()


def configure_psp(client: Any, admin: dict[str, str], account_id: str, psp: FakePsp) -> str:
    r = client.put(
        f"/api/v1/cash/accounts/{account_id}/psp",
        headers=admin,
        json={
            "base_url": psp.base_url,
            "client_id": psp.client_id,
            "client_secret": psp.client_secret,
            "pix_key": KEY,
            "cert_pem": psp.client_cert_pem.decode(),
            "key_pem": psp.client_key_pem.decode(),
            "ca_pem": psp.ca_pem.decode(),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["webhook_url"])


def test_cob_txid_is_valid_for_the_api_pix_and_maps_back_to_the_invoice() -> None:
    invoice_id = "0b7e6c2e-8f0e-4d7c-9a55-3f1f2a9d4c11"
    txid = cob_txid(invoice_id)
    assert re.fullmatch(r"[A-Za-z0-9]{26,35}", txid)
    assert invoice_id_of_txid(txid) == invoice_id


def test_issued_invoice_gets_a_cob_whose_qr_replaces_the_static_code_on_the_pay_page(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any, psp: FakePsp, live_container: Any
) -> None:
    static = issued_invoice("149.90")  # before the PSP: the static BR Code with the key
    assert parse_brcode(static["pix"]["brcode"])["key"]
    tenant = live_container.billing.get_invoice(None, static["id"]).tenant_id
    assert create_pix_charge(live_container, tenant, static["id"]) == "no PSP"
    configure_psp(client, admin, account_id, psp)
    inv = issued_invoice("99.90")
    txid = cob_txid(inv["id"])

    def dynamic() -> Any:
        pix = client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["pix"]
        return pix if pix and pix.get("dynamic") else None

    pix = wait_for(dynamic)  # the trigger on Invoice.Issued created and attached the cob
    cob = psp.cobs[txid]
    assert cob["valor"]["original"] == "99.90" and cob["chave"] == KEY
    parsed = parse_brcode(pix["brcode"])
    assert parsed["dynamic"] and parsed["key"] is None and parsed["url"] == cob["location"]
    assert parsed["txid"] == "***" and parsed["amount"] is None
    assert pix["txid"] == txid and pix["amount"] == "99.90"
    # A retry (redelivered message) creates nothing and attaches nothing twice
    assert create_pix_charge(live_container, tenant, inv["id"]) == "already attached"
    assert psp.control.count("PUT", f"/cob/{txid}") == 1

    page = client.get(pix_path(inv["public_url"]))
    assert page.status_code == 200
    assert f'value="{pix["brcode"]}"' in page.text
    from retaguarda.web.qr import qr_svg

    expected_path = re.search(r' d="([^"]+)"', str(qr_svg(pix["brcode"]))).group(1)
    assert expected_path in page.text  # the QR drawn encodes the cob's location-based BR Code
    static_path = re.search(r' d="([^"]+)"', str(qr_svg(static["pix"]["brcode"]))).group(1)
    assert static_path not in page.text


def pix_path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_get_pix_reconciler_records_a_missed_pix_once_and_pays_the_invoice(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any, psp: FakePsp, live_container: Any
) -> None:
    hook = configure_psp(client, admin, account_id, psp)
    inv = issued_invoice("120.00")
    txid = cob_txid(inv["id"])
    wait_for(lambda: txid in psp.cobs)
    now = live_container.clock.now()
    paid = psp.pay(txid, Decimal("120.00"), payer_document="52998224725", payer_name="José",
                   at=now - timedelta(minutes=5), notify=False)  # the webhook never comes
    psp.pay(None, Decimal("7.00"), at=now - timedelta(hours=5), notify=False)  # outside the window
    assert reconcile_received_pix(live_container) == "1 Pix recorded, 0 already recorded, 0 accounts failed"
    wait_for(lambda: client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"] == "paid")
    assert reconcile_received_pix(live_container) == "0 Pix recorded, 1 already recorded, 0 accounts failed"
    # The webhook arrives late: confirmed with the PSP, but still one movement and one payment
    token = hook.rsplit("/", 1)[1]
    r = client.post(f"/api/v1/cash/webhooks/pix/{token}", json={"pix": [
        {k: v for k, v in paid.items() if k != "pagador"}]})
    assert r.status_code == 200
    wait_for(lambda: psp.control.count("GET", f"/pix/{paid['endToEndId']}") >= 1)
    def matched() -> Any:
        items = client.get("/api/v1/cash/movements", headers=admin).json()["items"]
        return items if items and items[0]["status"] == "matched" else None

    (mv,) = wait_for(matched)
    assert mv["e2eid"] == paid["endToEndId"] and mv["source"] == "api_pix" and mv["status"] == "matched"
    assert mv["invoice_id"] == inv["id"] and mv["rule"] == "reference"  # by the cob txid
    assert len(client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["payments"]) == 1
    assert psp.control.count("GET", "/pix") >= 2
