"""A blocked customer opens the public payment link in Chromium, pays by card on (fake) Stripe
Checkout, and is unblocked: Stripe's signed `checkout.session.completed` reaches our webhook."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import _env, api_login, free_port, run_cli, wait_http
from tests.fakes.billing import start_fake_stripe

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
STRIPE_KEY = "sk_test_browser"
STRIPE_SECRET = "whsec_browser_secret"


@pytest.fixture(scope="module")
def billing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`retaguarda serve` (migrated, seeded) whose Stripe is a fake that posts its webhooks back to it."""
    var_dir = tmp_path_factory.mktemp("billing-serve") / "var"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stripe = start_fake_stripe(webhook_url=f"{base}/api/v1/billing/webhooks/stripe", secret=STRIPE_SECRET,
                               api_key=STRIPE_KEY)
    env = _env(var_dir, port, RETAGUARDA_STRIPE_URL=stripe.base_url)
    proc = None
    log = None
    try:
        for step in (["migrate"], ["seed"]):
            done = run_cli(step, env, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
        log = open(var_dir / "serve.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        wait_http(base + "/health/live", timeout=180)
        yield {"base": base, "stripe": stripe, "password": env["RETAGUARDA_DEMO_PASSWORD"]}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log is not None:
            log.close()
        stripe.stop()


def test_blocked_customer_pays_by_card_on_the_public_page_and_is_unblocked(billing_server, browser, tmp_path):
    base, stripe = billing_server["base"], billing_server["stripe"]
    admin = api_login(base, "admin@demo.test", billing_server["password"])
    # Given the tenant's Stripe keys are set through the API (secrets only shown as booleans)
    r = httpx.patch(f"{base}/api/v1/billing/settings", headers=admin, timeout=30,
                    json={"stripe_secret_key": STRIPE_KEY, "stripe_webhook_secret": STRIPE_SECRET})
    assert r.status_code == 200, r.text
    assert r.json()["stripe_secret_key"] is True and r.json()["stripe_webhook_secret"] is True
    # And the demo customer blocked by the seed's run for an overdue invoice
    overdue = httpx.get(f"{base}/api/v1/billing/invoices", params={"status": "overdue"}, headers=admin,
                        timeout=30).json()["items"]
    accounts = {i["customer_id"]: httpx.get(f"{base}/api/v1/billing/customers/{i['customer_id']}/account",
                                            headers=admin, timeout=30).json() for i in overdue}
    blocked = [a for a in accounts.values() if a["blocked"]]
    assert blocked, "the demo tenant should have a customer blocked for an overdue invoice"
    customer_id, invoice_id = blocked[0]["customer_id"], blocked[0]["block_invoice_id"]
    assert blocked[0]["block_reason"].startswith("overdue invoice")
    customer = httpx.get(f"{base}/api/v1/customers/{customer_id}", headers=admin, timeout=30).json()
    assert customer["status"] == "blocked"
    invoice = httpx.get(f"{base}/api/v1/billing/invoices/{invoice_id}", headers=admin, timeout=30).json()
    assert invoice["status"] == "overdue"
    # When the customer opens the public payment link (no login) on a phone-sized screen
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(20000)
    page.goto(invoice["public_url"])
    amount = page.locator("[data-testid=amount-due]").inner_text()
    shown = amount.replace("R$", "").replace("\xa0", " ").strip()  # Brazilian: 1.234,56
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{2}", shown), amount
    due_today = shown.replace(".", "").replace(",", ".")
    # Late: the amount due today carries the fine and interest on top of the balance
    assert Decimal(due_today) > Decimal(invoice["balance"])
    assert page.locator("[data-testid=pix-brcode]").input_value() == invoice["pix"]["brcode"]
    # And pays by card: our server creates a Checkout Session and sends the browser to it
    page.click("[data-testid=pay-card]")
    page.wait_for_url(re.compile(re.escape(stripe.base_url) + r"/checkout/cs_test_\w+"))
    assert page.locator("[data-testid=fake-stripe-amount]").inner_text() == "R$ " + due_today.replace(".", ",")
    page.click("[data-testid=fake-stripe-pay]")
    # Then Stripe's signed webhook is accepted and the browser is back on a paid invoice
    page.wait_for_url(re.compile(re.escape(invoice["public_url"]) + r"\?paid=1$"))
    page.locator("[data-testid=paid-banner]").wait_for()
    page.screenshot(path=str(tmp_path / "paid.png"), full_page=True)
    page.close()
    assert [d.status for d in stripe.deliveries] == [200]
    session = next(iter(stripe.sessions.values()))
    assert session["metadata"].get("invoice_id") == invoice_id or session["client_reference_id"] == invoice_id
    # One card payment with Stripe's payment intent as reference; the invoice is paid
    paid = httpx.get(f"{base}/api/v1/billing/invoices/{invoice_id}", headers=admin, timeout=30).json()
    assert paid["status"] == "paid" and paid["balance"] == "0.00"
    cards = [p for p in paid["payments"] if p["method"] == "card"]
    assert len(cards) == 1 and cards[0]["reference"] == session["payment_intent"]
    assert cards[0]["amount"] == due_today
    # And the customer is unblocked, in billing and in the customers context
    account = httpx.get(f"{base}/api/v1/billing/customers/{customer_id}/account", headers=admin, timeout=30).json()
    assert account["blocked"] is False
    customer = httpx.get(f"{base}/api/v1/customers/{customer_id}", headers=admin, timeout=30).json()
    assert customer["status"] == "active"
    # A redelivery of the same Stripe event changes nothing
    again = stripe.redeliver(stripe.deliveries[0].event["id"])
    assert again.status == 200 and '"duplicate"' in again.body
    after = httpx.get(f"{base}/api/v1/billing/invoices/{invoice_id}", headers=admin, timeout=30).json()
    assert len(after["payments"]) == len(paid["payments"])
