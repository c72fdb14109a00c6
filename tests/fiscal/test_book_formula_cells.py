"""Defect 3 (#20): the fiscal book CSV/XLSX hold a customer named `=1+1` as text, never a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.fiscal.conftest import ADMIN, add_customer, wait_status


def test_the_fiscal_book_csv_and_xlsx_hold_the_name_as_text(api: Any, fiscal_container: Any) -> None:
    from openpyxl import load_workbook

    customer = add_customer(fiscal_container, name="=1+1")
    body = {"customer_id": customer, "service": {"code": "010701", "nbs": "115013000",
                                                    "description": "Suporte técnico mensal"},
            "amount": "100.00", "competence": "2026-11-10", "iss_rate": "2.00", "iss_withheld": False}
    note = api.post("/api/v1/fiscal/nfse", headers=ADMIN, json=body).json()
    assert api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN).status_code == 202
    assert wait_status(api, note["id"], "authorized", "rejected", "failed")["status"] == "authorized"
    csv_body = api.get("/api/v1/fiscal/book/export?competence=2026-11&format=csv", headers=ADMIN)
    assert csv_body.status_code == 200, csv_body.text
    rows = list(csv.reader(io.StringIO(csv_body.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][3] == "'=1+1"
    xlsx = api.get("/api/v1/fiscal/book/export?competence=2026-11&format=xlsx", headers=ADMIN)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    names = [c for c in cells if isinstance(c.value, str) and "1+1" in c.value]
    assert [c.value for c in names] == ["'=1+1"] and all(c.data_type == "s" for c in names)
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in cells)
