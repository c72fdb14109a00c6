"""Defects 1 and 3: the PIX QR is scanned from a Chromium screenshot of the public payment page and of
the invoice page, at 1366 and at 390 wide, and must decode to the invoice's BR Code, whose amount
(tag 54) is the amount due today (fine and interest included) of an overdue invoice."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import httpx
import pytest

from retaguarda.billing.pix import parse_brcode
from tests.e2e.conftest import api_login

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
WIDTHS = (1366, 390)


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture(scope="module")
def overdue(server: dict[str, Any]) -> dict[str, Any]:
    admin = api_login(server["base"], "admin@demo.test", server["password"])
    items = httpx.get(f"{server['base']}/api/v1/billing/invoices", params={"status": "overdue"},
                      headers=admin, timeout=30).json()["items"]
    assert items, "the demo seed has overdue invoices"
    invoice = httpx.get(f"{server['base']}/api/v1/billing/invoices/{items[0]['id']}", headers=admin,
                        timeout=30).json()
    assert invoice["pix"] and invoice["pix"]["brcode"]
    return invoice


def test_an_overdue_invoices_pix_charges_the_amount_due_today(overdue: dict[str, Any]) -> None:
    amount_due = Decimal(overdue["amount_due"])
    assert amount_due > Decimal(overdue["balance"]), "overdue: fine and interest on top of the balance"
    assert parse_brcode(overdue["pix"]["brcode"])["amount"] == amount_due


def _screenshot_qr(page: Any) -> bytes:
    qr = page.locator("[data-testid=pix-qr] svg")
    qr.scroll_into_view_if_needed()
    box = qr.bounding_box()
    assert box and box["width"] >= 150 and abs(box["width"] - box["height"]) < 2, box
    # The whole viewport, not the element alone: what a phone camera would see on screen.
    return page.screenshot()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_payment_page_qr_decodes_to_the_brcode(server: dict[str, Any], browser: Any,
                                                          overdue: dict[str, Any], width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900 if width > 400 else 844})
    try:
        page.goto(overdue["public_url"])
        assert page.locator("[data-testid=pix-brcode]").input_value() == overdue["pix"]["brcode"]
        assert decode_qr(_screenshot_qr(page)) == [overdue["pix"]["brcode"]]
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_invoice_page_qr_decodes_to_the_brcode(server: dict[str, Any], browser: Any,
                                                   overdue: dict[str, Any], width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900 if width > 400 else 844})
    try:
        page.goto(f"{server['base']}/login?next=/billing/invoices/{overdue['id']}")
        page.fill("input[name=email]", "finance@demo.test")
        page.fill("input[name=password]", server["password"])
        page.click("button[type=submit]")
        page.wait_for_url(f"**/billing/invoices/{overdue['id']}")
        assert decode_qr(_screenshot_qr(page)) == [overdue["pix"]["brcode"]]
    finally:
        page.close()
