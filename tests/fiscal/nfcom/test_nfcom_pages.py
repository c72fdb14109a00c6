"""NFCom pages: list, new draft form (errors next to the field), detail panel via HTMX through
authorization and cancellation, integration log, settings form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fiscal.conftest import ADMIN
from tests.integrations.helpers import wait_until

pytestmark = pytest.mark.e2e


def _csrf(api: Any) -> dict[str, str]:
    api.get("/fiscal/nfcom", headers=ADMIN)
    return {**ADMIN, "x-csrftoken": api.cookies.get("rg_csrf")}


def test_list_form_detail_emit_cancel_and_log(nfcom_api, customer_id):
    api = nfcom_api
    h = _csrf(api)
    page = api.get("/fiscal/nfcom", headers=ADMIN)
    assert page.status_code == 200 and 'data-testid="empty-state"' in page.text and "sandbox" in page.text
    form = api.get("/fiscal/nfcom/new", headers=ADMIN)
    assert form.status_code == 200 and 'value="0100401"' in form.text
    data = {
        "customer_id": customer_id,
        "competence": "2026-12",
        "description_0": "Internet 300 Mega",
        "cclass_0": "0100401",
        "quantity_0": "1",
        "unit_0": "UN",
        "unit_price_0": "-5",
    }
    r = api.post("/fiscal/nfcom/new", headers=h, data=data)
    assert (
        r.status_code == 422
        and 'data-testid="error-0-unit_price"' in r.text
        and "Internet 300 Mega" in r.text
    )
    r = api.post(
        "/fiscal/nfcom/new", headers=h, data={**data, "unit_price_0": "1.234,50"}, follow_redirects=False
    )
    assert r.status_code in (302, 303), r.text
    url = r.headers["location"].split("?")[0]
    detail = api.get(url, headers=ADMIN).text
    assert "1.234,50" in detail and 'data-testid="emit"' in detail
    r = api.post(f"{url}/emit", headers={**h, "hx-request": "true"})
    assert r.status_code == 200 and 'data-testid="nfcom-panel"' in r.text
    wait_until(lambda: 'data-status="authorized"' in api.get(f"{url}/panel", headers=ADMIN).text, timeout=30)
    detail = api.get(url, headers=ADMIN).text
    for testid in ("access-key", "protocol", "xml", "danfecom", "cancel-open"):
        assert f'data-testid="{testid}"' in detail, testid
    assert api.get(f"{url}/file/danfecom", headers=ADMIN).headers["content-type"] == "application/pdf"
    assert "<nfcomProc" in api.get(f"{url}/file/xml", headers=ADMIN).text
    log = api.get(f"{url}?tab=log", headers=ADMIN).text
    assert "NFComRecepcao" in log and "200" in log
    listed = api.get("/fiscal/nfcom", headers=ADMIN).text
    assert 'data-testid="nfcom-link"' in listed and "1.234,50" in listed
    r = api.post(f"{url}/cancel", headers={**h, "hx-request": "true"}, data={"reason": "curto"})
    assert r.status_code == 422 and "15 characters" in r.text
    r = api.post(
        f"{url}/cancel",
        headers={**h, "hx-request": "true"},
        data={"reason": "Fatura emitida para o assinante errado"},
    )
    assert r.status_code == 200
    wait_until(lambda: 'data-status="cancelled"' in api.get(f"{url}/panel", headers=ADMIN).text, timeout=30)


def test_settings_form_validates_and_saves(nfcom_api):
    api = nfcom_api
    h = _csrf(api)
    page = api.get("/fiscal/nfcom/settings", headers=ADMIN)
    assert page.status_code == 200 and 'data-testid="nfcom-settings-form"' in page.text
    base = {
        "backend": "sandbox",
        "environment": "homologacao",
        "series": "3",
        "next_number": "1",
        "state_registration": "110042490114",
        "crt": "3",
        "icms_rate": "18,00",
        "pis_rate": "0.65",
        "cofins_rate": "3.00",
        "fust_rate": "1.00",
        "funttel_rate": "0.50",
        "cclass": "0100401",
        "cfop": "5307",
        "due_days": "10",
        "city": "São Paulo",
    }
    r = api.post("/fiscal/nfcom/settings", headers=h, data={**base, "cfop": "5102"})
    assert r.status_code == 422 and 'data-testid="error-cfop"' in r.text
    r = api.post("/fiscal/nfcom/settings", headers=h, data=base, follow_redirects=False)
    assert r.status_code in (302, 303)
    assert api.get("/api/v1/fiscal/nfcom/settings", headers=ADMIN).json()["series"] == 3


def test_the_nfcom_book_page_and_its_exports(nfcom_api, customer_id):
    import csv
    import io

    from openpyxl import load_workbook

    api = nfcom_api
    body = {
        "customer_id": customer_id,
        "competence": "2026-12",
        "items": [
            {
                "cclass": "0100401",
                "description": "Internet",
                "quantity": "1",
                "unit": "UN",
                "unit_price": "1234.50",
            }
        ],
    }
    nfcom_id = api.post("/api/v1/fiscal/nfcom", headers=ADMIN, json=body).json()["id"]
    api.post(f"/api/v1/fiscal/nfcom/{nfcom_id}/emit", headers=ADMIN)
    wait_until(
        lambda: api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}", headers=ADMIN).json()["status"] == "authorized",
        timeout=30,
    )
    page = api.get("/fiscal/nfcom/book?competence=2026-12", headers=ADMIN)
    assert (
        page.status_code == 200 and 'data-testid="book-row"' in page.text and "222,21" in page.text
    )  # ICMS 18 %
    text = api.get("/fiscal/nfcom/book/export?competence=2026-12&format=csv", headers=ADMIN).content.decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "NFCom" and rows[1][7] == "222.21" and rows[1][-1] == "autorizada"
    assert rows[-1][7] == "222.21" and rows[-1][10] == "12.34"  # FUST 1 % of 1234.50, half-even
    wb = load_workbook(
        io.BytesIO(api.get("/fiscal/nfcom/book/export?competence=2026-12&format=xlsx", headers=ADMIN).content)
    )
    assert str(wb.active[4][7].value) == "222.21"
    pdf = api.get("/api/v1/fiscal/nfcom/book/export?competence=2026-12&format=pdf", headers=ADMIN)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    r = api.get("/api/v1/fiscal/nfcom/book/export?competence=2026-13&format=csv", headers=ADMIN)
    assert r.status_code == 422 and "competence" in r.text
