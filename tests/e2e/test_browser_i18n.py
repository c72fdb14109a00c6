"""A Brazilian office in Chromium: Portuguese screens and errors, money typed as 1.234,56, then English."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import api_login

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_portuguese_office_then_english_profile(server, browser, tmp_path):
    base = server["base"]
    admin = api_login(base, "admin@demo.test", server["password"])
    invoices = httpx.get(f"{base}/api/v1/billing/invoices?status=overdue", headers=admin, timeout=30).json()["items"]
    invoices = invoices or httpx.get(f"{base}/api/v1/billing/invoices?status=issued", headers=admin,
                                     timeout=30).json()["items"]
    assert invoices, "the demo has open invoices"
    invoice_id = invoices[0]["id"]
    page = browser.new_page(locale="pt-BR")
    page.set_default_timeout(20000)
    # Given the admin logs in on a Portuguese login page
    page.goto(f"{base}/login")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Entrar" in page.locator("h1").inner_text()
    assert "Senha" in page.locator("form").inner_text()
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    nav = page.locator("header nav").inner_text()
    assert "Clientes" in nav and "Sair" in nav and "Configurações" in nav and "Customers" not in nav
    # When they register a company whose CNPJ has wrong check digits
    page.goto(f"{base}/customers/new")
    page.fill("input[name=name]", "Mercearia Boa Vista Ltda")
    page.check("input[name=kind][value=company]")
    page.fill("input[name=document]", "11.222.333/0001-00")
    page.click("[data-testid=save-customer]")
    # Then the error next to the field is in Portuguese and nothing was saved
    error = page.locator("[data-testid=error-document]").inner_text()
    assert "dígitos verificadores do CNPJ não conferem" in error, error
    assert page.locator("input[name=name]").input_value() == "Mercearia Boa Vista Ltda"
    assert "Corrija os campos destacados." in page.content()
    # When a payment of 1.234,56 is typed as Brazilians write it
    page.goto(f"{base}/billing/invoices/{invoice_id}")
    form = page.locator("[data-testid=payment-form]")
    form.locator("input[name=amount]").fill("1.234,56")
    form.locator("button").click()
    page.wait_for_url(f"{base}/billing/invoices/{invoice_id}")
    # Then the invoice shows R$ 1.234,56 among its payments and dates as dd/mm/aaaa
    payments = page.locator("table").nth(1).inner_text().replace("\xa0", " ")
    assert "R$ 1.234,56" in payments, payments
    assert re.search(r"\d{2}/\d{2}/\d{4}", payments)
    assert "Pagamentos" in page.content()
    page.screenshot(path=str(tmp_path / "invoice-pt.png"), full_page=True)
    # When a typed amount cannot be read, the error is Portuguese and names the field
    form = page.locator("[data-testid=payment-form]")
    if form.count():
        form.locator("input[name=amount]").fill("mil reais")
        form.locator("button").click()
        page.wait_for_load_state()
        assert "Valor: “mil reais” não é um valor (ex.: 1.234,56)." in page.locator("[role=alert]").inner_text()
    # When they switch their profile to English
    page.goto(f"{base}/profile")
    page.select_option("[data-testid=profile-locale]", "en")
    with page.expect_navigation(url=re.compile(r"/profile(\?done=profile)?$")):  # app.js drops ?done=
        page.locator("form[action='/profile'] button[type=submit]").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Profile saved." in page.content()
    # Then the same invoice page is in English (amounts stay in reais)
    page.goto(f"{base}/billing/invoices/{invoice_id}")
    text = page.locator("main").inner_text().replace("\xa0", " ")
    assert "Invoice" in text and "Payments" in text and "R$ 1.234,56" in text
    assert "Log out" in page.locator("header nav").inner_text()
    page.screenshot(path=str(tmp_path / "invoice-en.png"), full_page=True)
    # And back to Portuguese for the other tests of this session
    page.goto(f"{base}/profile")
    page.select_option("[data-testid=profile-locale]", "pt_BR")
    with page.expect_navigation(url=re.compile(r"/profile(\?done=profile)?$")):  # app.js drops ?done=
        page.locator("form[action='/profile'] button[type=submit]").click()
    assert "Perfil salvo." in page.content()
    page.close()
