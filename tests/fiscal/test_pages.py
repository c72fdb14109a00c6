"""The HTML side: forms with CSRF, HTMX fragments, exports."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.fiscal.conftest import ADMIN
from tests.integrations.helpers import wait_until

pytestmark = pytest.mark.e2e


def _csrf(api: Any) -> dict[str, str]:
    api.get("/fiscal/nfse", headers=ADMIN)
    return {**ADMIN, "x-csrftoken": api.cookies.get("rg_csrf")}


def test_draft_form_preview_emit_cancel_and_book_exports(api, customer_id):
    h = _csrf(api)
    # The form shows the tenant's default service and the sandbox label
    page = api.get("/fiscal/nfse/new", headers=ADMIN)
    assert page.status_code == 200 and 'value="010701"' in page.text and "sandbox" in page.text
    # Live preview (HTMX fragment)
    r = api.post("/fiscal/preview", headers={**h, "hx-request": "true"},
                 data={"amount": "1234,56", "iss_rate": "2.00", "deductions": "0"})
    assert r.status_code == 200 and "R$\xa024,69" in r.text and "R$\xa01.234,56" in r.text
    # A bad amount comes back next to the field, the rest kept
    form = {"customer_id": customer_id, "service.code": "010701", "service.nbs": "115013000",
            "service.description": "Suporte técnico", "amount": "-5", "deductions": "0",
            "competence": "2026-11-10", "iss_rate": "2.00"}
    r = api.post("/fiscal/nfse/new", headers=h, data=form)
    assert r.status_code == 422 and 'data-testid="error-amount"' in r.text and "Suporte técnico" in r.text
    r = api.post("/fiscal/nfse/new", headers=h, data={**form, "amount": "1234.56"}, follow_redirects=False)
    assert r.status_code in (302, 303)
    note_url = r.headers["location"].split("?")[0]
    note_id = note_url.rsplit("/", 1)[1]
    # Send via HTMX: the panel comes back and, polled, reaches authorized
    r = api.post(f"{note_url}/emit", headers={**h, "hx-request": "true"})
    assert r.status_code == 200 and 'data-testid="note-panel"' in r.text
    wait_until(lambda: 'data-status="authorized"' in api.get(f"{note_url}/panel", headers=ADMIN).text)
    detail = api.get(note_url, headers=ADMIN).text
    assert 'data-testid="access-key"' in detail and 'data-testid="danfse"' in detail
    assert api.get(f"{note_url}/danfse", headers=ADMIN).headers["content-type"] == "application/pdf"
    assert "<DPS" in api.get(f"{note_url}/xml/dps", headers=ADMIN).text
    log = api.get(f"{note_url}?tab=log", headers=ADMIN).text
    assert "SefinNacional/nfse" in log and "201" in log
    # Exports of the fiscal book
    exported = api.get("/fiscal/book/export?competence=2026-11&format=csv", headers=ADMIN)
    assert exported.headers["content-type"].lower().count("charset") == 1, exported.headers["content-type"]
    csv_text = exported.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    # Brazilian spreadsheet formats: decimal comma, dd/mm/aaaa, the CNPJ/CPF with its mask (defect 9)
    assert rows[1][-2:] == ["1.234,56", "autorizada"] and rows[-1][-2] == "1.234,56"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows[1][1])
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[1][2])
    assert re.fullmatch(r"\d\d\.\d{3}\.\d{3}/\d{4}-\d\d|\d{3}\.\d{3}\.\d{3}-\d\d", rows[1][4]), rows[1]
    wb = load_workbook(io.BytesIO(api.get("/fiscal/book/export?competence=2026-11&format=xlsx",
                                          headers=ADMIN).content))
    values = [c.value for c in wb.active[4]]
    assert str(values[-2]) == "1234.56"
    assert api.get("/fiscal/book/export?competence=2026-11&format=pdf", headers=ADMIN).content[:5] == b"%PDF-"
    # Cancel with a too-short reason: the error is shown in the panel; then a good one
    r = api.post(f"{note_url}/cancel", headers={**h, "hx-request": "true"},
                 data={"reason_code": "1", "reason": "curto"})
    assert r.status_code == 422 and "15 caracteres" in r.text
    r = api.post(f"{note_url}/cancel", headers={**h, "hx-request": "true"},
                 data={"reason_code": "1", "reason": "Valor digitado errado na nota"})
    assert r.status_code == 200
    wait_until(lambda: 'data-status="cancelled"' in api.get(f"{note_url}/panel", headers=ADMIN).text)
    book = api.get("/fiscal/book?competence=2026-11", headers=ADMIN).text
    assert re.search(r'data-testid="book-count">0<', book) and 'data-status="cancelled"' in book
    assert note_id in book


def test_settings_page_keeps_errors_and_never_echoes_a_token(api):
    h = _csrf(api)
    page = api.get("/fiscal/settings", headers=ADMIN)
    assert 'data-testid="creds-focus"' in page.text and 'data-testid="webhook-url"' in page.text
    form = {"backend": "focus_nfe", "environment": "producao_restrita", "issuer.cnpj": "11222333000182",
            "issuer.name": "X", "issuer.municipality_ibge": "3550308", "issuer.uf": "SP",
            "issuer.tax_regime": "simples_nacional", "issuer.special_regime": "0", "series": "900",
            "next_number": "1", "default_service.code": "010701", "default_service.description": "Suporte",
            "default_service.iss_rate": "2.00", "cbs_rate": "0.90", "ibs_uf_rate": "0.10",
            "ibs_mun_rate": "0.00", "credentials.focus_token": "super-secret-token"}
    r = api.post("/fiscal/settings", headers=h, data=form)
    assert r.status_code == 422 and 'data-testid="error-issuer.cnpj"' in r.text
    assert "super-secret-token" not in r.text
    r = api.post("/fiscal/settings", headers=h, data={**form, "issuer.cnpj": "11222333000181"},
                 follow_redirects=False)
    assert r.status_code in (302, 303)
    page = api.get("/fiscal/settings", headers=ADMIN).text
    assert "super-secret-token" not in page and "deixe vazio para manter o token guardado" in page
    # Test connection answers in a fragment (the Focus host is unreachable here: a clear failure)
    r = api.post("/fiscal/test-connection", headers={**h, "hx-request": "true"})
    assert r.status_code == 200 and 'data-testid="test-result"' in r.text


def test_lists_have_empty_states_and_dead_letters_page(api):
    assert 'data-testid="empty-state"' in api.get("/fiscal/nfse", headers=ADMIN).text
    assert 'data-testid="empty-state"' in api.get("/fiscal/dead-letters", headers=ADMIN).text
    assert 'data-testid="empty-state"' in api.get("/fiscal/book?competence=2020-01", headers=ADMIN).text
    # A role without fiscal:read is refused
    assert api.get("/fiscal/nfse", headers={"x-test-role": "customer"}).status_code in (403, 404)
