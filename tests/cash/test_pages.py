"""The HTML pages: import wizard (upload → preview, duplicates greyed → confirm), queue with a
suggested match, movement detail links, cash book with its SVG chart; all behind CSRF."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from tests.fakes.cash.bank import ofx_statement

pytestmark = pytest.mark.e2e


def _csrf(client: Any, admin: dict[str, str]) -> dict[str, str]:
    client.get("/cash/imports", headers=admin)
    return {**admin, "x-csrftoken": client.cookies.get("rg_csrf")}


def test_wizard_queue_and_book(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any
) -> None:
    inv = issued_invoice("77.70")
    h = _csrf(client, admin)
    page = client.get("/cash/imports", headers=admin)
    assert (
        page.status_code == 200 and 'data-testid="import-form"' in page.text and "BB movimento" in page.text
    )
    data = ofx_statement(
        [
            {"fitid": "W1", "date": date(2026, 12, 1), "amount": "77.70", "memo": "DEPOSITO"},
            {"fitid": "W2", "date": date(2026, 12, 1), "amount": "-3.00", "memo": "TARIFA &amp; CIA"},
        ]
    )
    r = client.post(
        "/cash/imports",
        headers=h,
        files={"file": ("extrato.ofx", data)},
        data={"account_id": account_id},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    preview = client.get(r.headers["location"], headers=admin)
    assert 'data-testid="preview-credits">1<' in preview.text and 'data-testid="line-new"' in preview.text
    assert "TARIFA &amp; CIA" in preview.text and "77,70" in preview.text
    r = client.post(r.headers["location"] + "/confirm", headers=h, follow_redirects=False)
    assert r.status_code in (302, 303)
    done = client.get(r.headers["location"], headers=admin)
    assert 'data-testid="import-result"' in done.text
    # The same file again: both lines greyed as duplicates
    r = client.post(
        "/cash/imports",
        headers=h,
        files={"file": ("extrato.ofx", data)},
        data={"account_id": account_id},
        follow_redirects=False,
    )
    again = client.get(r.headers["location"], headers=admin).text
    assert again.count('data-testid="line-dup"') == 2 and 'data-testid="preview-duplicates">2<' in again
    # A bad file comes back on the form naming the problem
    r = client.post(
        "/cash/imports",
        headers=h,
        files={"file": ("x.ofx", b"OFXHEADER:100\n<OFX>")},
        data={"account_id": account_id},
    )
    assert r.status_code == 422 and 'data-testid="import-error"' in r.text and "file" in r.text
    # The queue suggests the invoice with the same amount; one click pays it
    queue = client.get("/cash/reconciliation", headers=admin)
    assert 'data-testid="suggestion"' in queue.text and str(inv["number"]) in queue.text
    unmatched = client.get("/api/v1/cash/movements?status=unmatched", headers=admin).json()["items"]
    mv = next(m for m in unmatched if m["kind"] == "credit")  # (the -3,00 fee is unmatched too)
    r = client.post(
        f"/cash/movements/{mv['id']}/action",
        headers=h,
        data={"action": "match", "invoice_id": inv["id"]},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303) and "error=" not in r.headers["location"], r.headers["location"]
    deadline = time.monotonic() + 20  # the payment is recorded by the billing context right after
    while client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"] != "paid":
        assert time.monotonic() < deadline, "the matched invoice was not paid"
        time.sleep(0.2)
    detail = client.get(f"/cash/movements/{mv['id']}", headers=admin).text
    assert 'data-testid="invoice-link"' in detail and f"/billing/invoices/{inv['id']}" in detail
    assert 'data-testid="queue-empty"' in client.get("/cash/reconciliation", headers=admin).text
    book = client.get("/cash/book?from=2026-11-25&to=2026-12-04", headers=admin)
    assert book.status_code == 200 and "<svg" in book.text and 'data-testid="balance-chart"' in book.text
    assert "<script" not in book.text.split('data-testid="balance-chart"')[1].split("</figure>")[0]
    bad = client.get("/cash/book?from=2026-12-05&to=2026-12-01", headers=admin)
    assert bad.status_code == 200 and "from" in bad.text
    # Without the CSRF token a form post is refused
    assert (
        client.post(
            f"/cash/movements/{mv['id']}/action",
            headers=admin,
            data={"action": "not_revenue", "category": "loan"},
        ).status_code
        == 403
    )
