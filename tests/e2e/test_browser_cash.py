"""The cash import wizard in Chromium on the seeded demo (`retaguarda serve`): upload a statement
whose MEMO carries an open invoice's PIX txid, see the preview, confirm, and the invoice is paid;
with `emit_on_cash_confirm` the movement gets its NFS-e (sandbox) within 30 s. The same file again
shows every line greyed as already imported. Screenshots at 1366×900 and 390×844; the pages'
content does not scroll sideways on a phone."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import api_login
from tests.fakes.cash.bank import ofx_statement

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def _wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("not in time")


def test_import_wizard_pays_the_invoice_and_the_nfse_follows(server: dict[str, Any], browser: Any,
                                                            tmp_path: Path) -> None:
    base = server["base"]
    shots = Path(os.environ.get("RETAGUARDA_SCREENSHOTS") or tmp_path)
    h = api_login(base, "admin@demo.test", server["password"])
    accounts = httpx.get(f"{base}/api/v1/cash/accounts", headers=h, timeout=10).json()["items"]
    assert len(accounts) == 1
    r = httpx.patch(f"{base}/api/v1/fiscal/settings", headers=h, json={"emit_on_cash_confirm": True}, timeout=30)
    assert r.status_code == 200 and r.json()["emit_on_cash_confirm"] is True
    invoices = httpx.get(f"{base}/api/v1/billing/invoices?status=issued&per_page=50", headers=h, timeout=10)
    inv = next(i for i in invoices.json()["items"]
               if httpx.get(f"{base}/api/v1/billing/invoices/{i['id']}", headers=h, timeout=10).json().get("pix"))
    full = httpx.get(f"{base}/api/v1/billing/invoices/{inv['id']}", headers=h, timeout=10).json()
    statement = tmp_path / "extrato-bb.ofx"
    statement.write_bytes(ofx_statement([
        {"fitid": "B1", "date": date(2026, 12, 2), "amount": full["balance"], "name": "PIX RECEBIDO",
         "memo": f"PIX {full['pix']['txid']} CLIENTE"},
        {"fitid": "B2", "date": date(2026, 12, 2), "amount": "-42.00", "memo": "TARIFA PACOTE SERVIÇOS"},
        {"fitid": "B3", "date": date(2026, 12, 3), "amount": "12.34", "memo": "DEPÓSITO NÃO IDENTIFICADO"},
    ]))
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30000)
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/cash/imports")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/cash/imports")
    page.screenshot(path=str(shots / "cash-imports-desktop.png"), full_page=True)
    page.set_input_files("[data-testid=import-file]", str(statement))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=preview-lines]")
    assert page.locator("[data-testid=preview-credits]").inner_text() == "2"
    assert page.locator("[data-testid=preview-debits]").inner_text() == "1"
    assert page.locator("[data-testid=line-new]").count() == 3
    page.screenshot(path=str(shots / "cash-preview-desktop.png"), full_page=True)
    page.click("[data-testid=confirm-import]")
    page.wait_for_selector("[data-testid=import-result]")
    assert _wait(lambda: httpx.get(f"{base}/api/v1/billing/invoices/{inv['id']}", headers=h,
                                   timeout=10).json()["status"] == "paid")
    # The NFS-e follows the receipt (sandbox) within 30 s
    moves = httpx.get(f"{base}/api/v1/cash/movements?status=matched", headers=h, timeout=10).json()["items"]
    mv = next(m for m in moves if m["invoice_id"] == inv["id"])
    nfse_id = _wait(lambda: httpx.get(f"{base}/api/v1/cash/movements/{mv['id']}", headers=h,
                                      timeout=10).json()["nfse_id"])
    assert _wait(lambda: httpx.get(f"{base}/api/v1/fiscal/nfse/{nfse_id}", headers=h,
                                   timeout=10).json()["status"] == "authorized")
    # The same file again: every line greyed, nothing to record
    page.goto(f"{base}/cash/imports")
    page.set_input_files("[data-testid=import-file]", str(statement))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=preview-lines]")
    assert page.locator("[data-testid=line-dup]").count() == 3
    assert page.locator("[data-testid=confirm-import]").is_disabled()
    page.screenshot(path=str(shots / "cash-preview-duplicates-desktop.png"), full_page=True)
    page.goto(f"{base}/cash/movements/{mv['id']}")
    assert page.locator("[data-testid=nfse-link]").count() == 1
    assert page.locator("[data-testid=invoice-link]").count() == 1
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in ("/cash/reconciliation", "/cash/book", "/cash/imports", f"/cash/movements/{mv['id']}"):
            page.goto(f"{base}{path}")
            slug = path.strip("/").replace("/", "-")[:40]
            page.screenshot(path=str(shots / f"{slug}-{name}.png"), full_page=True)
            # The page's own content (main) never scrolls sideways; the shared top bar is base.html's.
            overflow = page.evaluate("(() => { const m = document.querySelector('main');"
                                     " return Math.max(m.scrollWidth - m.clientWidth,"
                                     " m.getBoundingClientRect().right - window.innerWidth); })()")
            assert overflow <= 1, f"{path} scrolls sideways at {width}px by {overflow}px"
    page.goto(f"{base}/cash/book")
    assert page.locator("[data-testid=balance-chart] svg").count() == 1
    assert not [e for e in errors if not e.endswith("/favicon.ico")], errors  # favicon: base.html's
    context.close()
