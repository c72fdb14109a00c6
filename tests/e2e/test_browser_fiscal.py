"""NFS-e against a real `retaguarda serve` on the seeded demo tenant (sandbox backend):
the acceptance interfaces over HTTP, and a person doing the whole flow in Chromium."""

from __future__ import annotations

import re
import subprocess
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import api_login

pytestmark = [pytest.mark.e2e]

COMPANY = "Provedor Serra Azul Ltda"


def _customer_id(base: str, headers: dict[str, str], name: str = COMPANY) -> str:
    r = httpx.get(f"{base}/api/v1/customers", params={"search": name}, headers=headers, timeout=10)
    return r.json()["items"][0]["id"]


def _wait(base: str, headers: dict[str, str], note_id: str, *statuses: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{base}/api/v1/fiscal/nfse/{note_id}", headers=headers, timeout=10).json()
        if body["status"] in statuses or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_the_demo_tenant_issues_cancels_and_books_a_note_over_the_api(server: dict[str, Any], tmp_path):
    base = server["base"]
    h = api_login(base, "admin@demo.test", server["password"])
    # The demo tenant comes with sandbox settings
    settings = httpx.get(f"{base}/api/v1/fiscal/settings", headers=h, timeout=10).json()
    assert settings["backend"] == "sandbox" and settings["issuer"]["municipality_ibge"] == "3550308"
    # Bad input names the field
    r = httpx.post(f"{base}/api/v1/fiscal/nfse", headers=h, timeout=10, json={
        "customer_id": _customer_id(base, h), "amount": "-1.00", "competence": "2026-11-01",
        "service": {"code": "010701", "nbs": "115013000", "description": "x"},
        "iss_rate": "2.00", "iss_withheld": False})
    assert r.status_code == 422 and r.json()["field"] == "amount"
    # A draft is emitted and authorized within seconds
    r = httpx.post(f"{base}/api/v1/fiscal/nfse", headers=h, timeout=10, json={
        "customer_id": _customer_id(base, h), "amount": "321.00", "competence": "2026-10-15",
        "service": {"code": "010701", "nbs": "115013000", "description": "Suporte mensal"},
        "iss_rate": "2.00", "iss_withheld": False})
    assert r.status_code == 201 and r.json()["status"] == "draft", r.text
    note_id = r.json()["id"]
    assert httpx.post(f"{base}/api/v1/fiscal/nfse/{note_id}/emit", headers=h, timeout=10).status_code == 202
    note = _wait(base, h, note_id, "authorized", "rejected", "failed")
    assert note["status"] == "authorized" and len(note["access_key"]) == 50 and note["number"]
    # The signed DPS verifies with xmlsec1 using the certificate it carries
    r = httpx.get(f"{base}/api/v1/fiscal/nfse/{note_id}/dps", headers=h, timeout=10)
    assert r.headers["content-type"].startswith("application/xml")
    (tmp_path / "dps.xml").write_bytes(r.content)
    done = subprocess.run(["xmlsec1", "--verify", "--insecure", "--id-attr:Id",
                           "http://www.sped.fazenda.gov.br/nfse:infDPS", str(tmp_path / "dps.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    r = httpx.get(f"{base}/api/v1/fiscal/nfse/{note_id}/danfse", headers=h, timeout=20)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    book = httpx.get(f"{base}/api/v1/fiscal/book", params={"competence": "2026-10"}, headers=h, timeout=10).json()
    assert Decimal(book["totals"]["amount"]) >= Decimal("321.00")
    before = Decimal(book["totals"]["amount"])
    # Cancelling works; cancelling a draft is a conflict
    r = httpx.post(f"{base}/api/v1/fiscal/nfse/{note_id}/cancel", headers=h, timeout=10,
                   json={"reason_code": "2", "reason": "Serviço não foi prestado neste mês"})
    assert r.status_code == 202
    assert _wait(base, h, note_id, "cancelled", "cancellation_rejected")["status"] == "cancelled"
    book = httpx.get(f"{base}/api/v1/fiscal/book", params={"competence": "2026-10"}, headers=h, timeout=10).json()
    assert Decimal(book["totals"]["amount"]) == before - Decimal("321.00")
    draft = httpx.post(f"{base}/api/v1/fiscal/nfse", headers=h, timeout=10, json={
        "customer_id": _customer_id(base, h), "amount": "10.00", "competence": "2026-10-15"}).json()
    r = httpx.post(f"{base}/api/v1/fiscal/nfse/{draft['id']}/cancel", headers=h, timeout=10,
                   json={"reason_code": "1", "reason": "Rascunho que não deveria existir"})
    assert r.status_code == 409


@pytest.mark.browser
def test_staff_configure_emit_open_danfse_cancel_and_see_the_book_change(server, browser, tmp_path):
    # (the API test above may run first on the same server: every check here is relative)
    page = browser.new_page()
    page.set_default_timeout(20000)
    base = server["base"]
    page.goto(f"{base}/fiscal/settings")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/fiscal/settings")
    # Configure: the credential section follows the backend, then save on the sandbox
    page.select_option("[data-testid=backend-select]", "focus_nfe")
    page.locator("[data-testid=creds-focus]").wait_for(state="visible")
    page.locator("[data-testid=creds-sandbox]").wait_for(state="hidden")
    assert page.locator("input[name='credentials.focus_token']").is_visible()
    page.select_option("[data-testid=backend-select]", "sandbox")
    page.locator("[data-testid=creds-sandbox]").wait_for(state="visible")
    page.locator("[data-testid=creds-focus]").wait_for(state="hidden")
    with page.expect_navigation(url=re.compile(r"/fiscal/settings(\?saved=1)?$")):
        page.click("[data-testid=save-settings]")
    page.click("[data-testid=test-connection]")
    page.wait_for_selector("[data-testid=test-result][data-ok=true]")
    # The book of the current month before
    page.goto(f"{base}/fiscal/book")
    before = page.locator("[data-testid=book-count]").inner_text()
    # Draft a note, with the live tax preview
    page.goto(f"{base}/fiscal/nfse/new")
    options = page.locator("[data-testid=customer-select] option").all_inner_texts()
    choice = next(o for o in options if o.startswith(COMPANY))
    page.select_option("[data-testid=customer-select]", label=choice)
    page.fill("[data-testid=amount]", "1234.56")
    page.wait_for_function(
        "document.querySelector('[data-testid=preview-iss]')?.textContent.includes('24,69')")
    page.click("[data-testid=save-draft]")
    page.wait_for_url(re.compile(r"/fiscal/nfse/[0-9a-f-]{36}(\?created=1)?$"))  # app.js drops the one-shot
    assert page.locator("[data-testid=sandbox-badge]").first.is_visible()
    # Emit and see it authorized
    page.click("[data-testid=emit]")
    page.wait_for_selector("[data-testid=note-panel][data-status=authorized]")
    key = page.locator("[data-testid=access-key]").inner_text()
    assert re.fullmatch(r"\d{50}", key)
    # Open the DANFSe (inline in the page and as a PDF)
    assert page.locator("[data-testid=danfse-frame]").count() == 1
    href = page.locator("[data-testid=danfse]").get_attribute("href")
    pdf = page.request.get(base + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    page.screenshot(path=str(tmp_path / "authorized.png"), full_page=True)
    # The book counts it
    note_url = page.url.split("?")[0]
    page.goto(f"{base}/fiscal/book")
    assert int(page.locator("[data-testid=book-count]").inner_text()) == int(before) + 1
    # Cancel it with a reason
    page.goto(note_url)
    page.click("[data-testid=cancel-open]")
    page.select_option("[data-testid=cancel-code]", "1")
    page.fill("[data-testid=cancel-reason]", "Valor digitado errado na emissão")
    page.click("[data-testid=cancel-submit]")
    page.wait_for_selector("[data-testid=note-panel][data-status=cancelled]")
    # The book lists it as cancelled, out of the count and totals
    page.goto(f"{base}/fiscal/book")
    assert int(page.locator("[data-testid=book-count]").inner_text()) == int(before)
    assert page.locator("[data-testid=book-row][data-status=cancelled]").count() >= 1
    # History tab shows the life cycle
    page.goto(note_url + "?tab=history")
    page.locator("#history .timeline").wait_for()
    text = page.locator("#history").inner_text()
    assert "Drafted" in text and "Authorized" in text and "Cancelled" in text
    page.screenshot(path=str(tmp_path / "book.png"), full_page=True)
    page.close()
