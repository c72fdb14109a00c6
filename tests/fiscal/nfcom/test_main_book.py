"""The main fiscal book (`/fiscal/book`) shows the NFCom of the competence beside the NFS-e, with
ICMS/FUST/FUNTTEL totals, and its CSV/XLSX/PDF exports carry the NFCom section in Brazilian formats,
a formula-like subscriber name kept as text."""

from __future__ import annotations

import csv
import io

from tests.fiscal.conftest import ADMIN, add_customer
from tests.integrations.helpers import wait_until


def test_the_main_book_and_its_exports_hold_the_nfcom(nfcom_api, nfcom_container):
    from openpyxl import load_workbook

    api = nfcom_api
    customer = add_customer(nfcom_container, name="=1+1 Telecom")
    body = {"customer_id": customer, "competence": "2026-12",
            "items": [{"cclass": "0100401", "description": "Internet", "quantity": "1", "unit": "UN",
                       "unit_price": "1234.50"}]}
    nfcom_id = api.post("/api/v1/fiscal/nfcom", headers=ADMIN, json=body).json()["id"]
    api.post(f"/api/v1/fiscal/nfcom/{nfcom_id}/emit", headers=ADMIN)
    wait_until(lambda: api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}", headers=ADMIN).json()["status"]
               == "authorized", timeout=30)
    book = api.get("/api/v1/fiscal/book?competence=2026-12", headers=ADMIN).json()
    assert book["nfcom"]["count"] == 1 and book["nfcom"]["totals"]["icms"] == "222.21"
    page = api.get("/fiscal/book?competence=2026-12", headers=ADMIN)
    assert page.status_code == 200 and 'data-testid="book-nfcom-row"' in page.text
    assert "222,21" in page.text and "12,34" in page.text  # ICMS 18 %, FUST 1 %
    empty = api.get("/fiscal/book?competence=2026-10", headers=ADMIN)
    assert 'data-testid="empty-nfcom"' in empty.text

    text = api.get("/api/v1/fiscal/book/export?competence=2026-12&format=csv", headers=ADMIN).content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    start = next(i for i, r in enumerate(rows) if r and r[0].startswith("NFCom (modelo 62)"))
    header, row, total = rows[start + 1], rows[start + 2], rows[start + 3]
    assert header[0] == "NFCom" and header[6] == "ICMS"
    assert row[3] == "'=1+1 Telecom" and row[6] == "222,21" and row[9] == "12,34" and row[11] == "1.234,50"
    assert total[6] == "222,21" and total[11] == "1.234,50"

    wb = load_workbook(io.BytesIO(api.get("/api/v1/fiscal/book/export?competence=2026-12&format=xlsx",
                                          headers=ADMIN).content))
    sheet = wb["NFCom 2026-12"]
    assert str(sheet[4][6].value) == "222.21" and sheet[4][3].value == "'=1+1 Telecom"
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for r in sheet.iter_rows() for c in r)
    pdf = api.get("/api/v1/fiscal/book/export?competence=2026-12&format=pdf", headers=ADMIN)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
