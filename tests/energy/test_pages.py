"""The energy pages render the flow: companies, the SMS form with countdown, bills on expand
(PIX copy button, digitable line, PDF), the plant's beneficiaries and the bills due in 7 days."""

from __future__ import annotations

from typing import Any

import pytest

from tests.energy.conftest import connect, create_account, synced

pytestmark = pytest.mark.e2e


def test_pages(client: Any, admin: dict[str, str]) -> None:
    account_id = create_account(client, admin)
    r = client.get("/energy", headers=admin)
    assert r.status_code == 200 and "Padaria Pão Quente" in r.text and "529.982.247-25" in r.text
    client.post(f"/api/v1/energy/accounts/{account_id}/connect", headers=admin)
    r = client.get(f"/energy/accounts/{account_id}", headers=admin)
    assert r.status_code == 200 and 'data-testid="sms-form"' in r.text and "data-countdown" in r.text
    assert "/static/energy.js" in r.text and " onclick=" not in r.text
    connect(client, admin, account_id)
    synced(client, admin, account_id)
    r = client.get(f"/energy/accounts/{account_id}", headers=admin)
    assert 'data-testid="unit-4160693"' in r.text and 'hx-get="/energy/units/' in r.text
    units = client.get(f"/api/v1/energy/units?account={account_id}", headers=admin).json()["items"]
    plant = next(u for u in units if u["is_generator"])
    fragment = client.get(f"/energy/units/{plant['id']}/bills", headers=admin)
    assert fragment.status_code == 200 and 'data-testid="copy-pix"' in fragment.text
    assert "000201" in fragment.text and fragment.text.count('data-testid="bill-pdf"') == 13
    page = client.get(f"/energy/units/{plant['id']}", headers=admin)
    assert page.status_code == 200 and 'data-testid="plant-keeps">10%' in page.text and "4160701" in page.text
    due = client.get("/energy/due", headers=admin)
    assert due.status_code == 200 and due.text.count("data-copy=") >= 1
    bill = client.get(f"/api/v1/energy/units/{plant['id']}/bills", headers=admin).json()["items"][0]
    pdf = client.get(f"/energy/bills/{bill['id']}/pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
