"""Acceptance interfaces of issue 14: bearer-token HTML in the user's locale, Accept-Language on
anonymous pages, the profile locale, sign-up and billing settings pages, translated problem details."""

from __future__ import annotations

import re
from typing import Any

import pytest

from retaguarda.seed import seed_demo

pytestmark = pytest.mark.e2e

BRL = re.compile(r"R\$\xa0\d{1,3}(\.\d{3})*,\d{2}")
BR_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


@pytest.fixture
def demo(live_container: Any, client: Any) -> Any:
    seed_demo(live_container)
    live_container.wait_for(live_container.store.head(), timeout=20)
    return client


def bearer(client: Any, email: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def session_login(client: Any, email: str, password: str) -> dict[str, str]:
    """A browser-like login (session cookie); returns the CSRF header forms must send."""
    client.get("/login")
    r = client.post("/login", data={"email": email, "password": password, "next": "/"},
                    headers={"x-csrftoken": client.cookies.get("rg_csrf")}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return {"x-csrftoken": client.cookies.get("rg_csrf")}


def test_pages_with_a_bearer_token_answer_in_portuguese(demo: Any, live_container: Any) -> None:
    headers = bearer(demo, "admin@demo.test", live_container.settings.demo_password)
    for path in ("/billing/invoices", "/customers", "/"):
        r = demo.get(path, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert '<html lang="pt-BR"' in r.text, path
        for word in ("Customers", "Invoices", "Settings", "Log out"):
            assert not re.search(rf">\s*{word}\s*<", r.text), (path, word)
        assert "Sair" in r.text and "Configurações" in r.text, path
    invoices = demo.get("/billing/invoices", headers=headers).text
    assert BRL.search(invoices), "no R$ 1.234,56 amount on the invoice list"
    assert BR_DATE.search(invoices), "no dd/mm/aaaa date on the invoice list"
    assert "Faturas" in invoices and "Vencimento" in invoices
    assert "Clientes" in demo.get("/customers", headers=headers).text


def test_profile_locale_switches_pages_and_me_reports_it(demo: Any, live_container: Any) -> None:
    headers = bearer(demo, "finance@demo.test", live_container.settings.demo_password)
    me = demo.get("/api/v1/me", headers=headers).json()
    assert me["locale"] == "pt_BR"
    assert demo.patch("/api/v1/me", json={"locale": "en"}, headers=headers).json()["locale"] == "en"
    page = demo.get("/billing/invoices", headers=headers).text
    assert '<html lang="en"' in page and "Invoices" in page and "Log out" in page
    assert BRL.search(page), "money stays R$ 1.234,56 in English too (Brazilian currency)"
    bad = demo.patch("/api/v1/me", json={"locale": "fr"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "locale"
    assert demo.patch("/api/v1/me", json={"locale": "pt_BR"}, headers=headers).json()["locale"] == "pt_BR"
    assert '<html lang="pt-BR"' in demo.get("/billing/invoices", headers=headers).text


def test_profile_form_changes_the_language(demo: Any, live_container: Any) -> None:
    demo.get("/login")
    login = demo.post("/login", data={"email": "manager@demo.test", "password": live_container.settings.demo_password,
                                      "next": "/profile"}, headers={"x-csrftoken": demo.cookies.get("rg_csrf")},
                      follow_redirects=True)
    assert login.status_code == 200 and 'data-testid="profile-locale"' in login.text
    csrf = demo.cookies.get("rg_csrf")
    r = demo.post("/profile", data={"name": "Gerente Demo", "locale": "en"}, headers={"x-csrftoken": csrf},
                  follow_redirects=True)
    assert r.status_code == 200 and '<html lang="en"' in r.text and "Profile saved." in r.text
    r = demo.post("/profile", data={"name": "Gerente Demo", "locale": "pt_BR"}, headers={"x-csrftoken": csrf},
                  follow_redirects=True)
    assert '<html lang="pt-BR"' in r.text and "Perfil salvo." in r.text


def test_login_page_follows_accept_language(client: Any) -> None:
    pt = client.get("/login", headers={"Accept-Language": "pt-BR"}).text
    assert '<html lang="pt-BR"' in pt and "Entrar" in pt and "Senha" in pt
    en = client.get("/login", headers={"Accept-Language": "en"}).text
    assert '<html lang="en"' in en and "Log in" in en and "Password" in en and "Senha" not in en
    fallback = client.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.8"}).text
    assert '<html lang="pt-BR"' in fallback and "Entrar" in fallback
    weighted = client.get("/login", headers={"Accept-Language": "fr;q=1, en;q=0.9, pt-BR;q=0.5"}).text
    assert '<html lang="en"' in weighted


def test_problem_details_follow_accept_language_and_default_to_english(client: Any) -> None:
    r = client.post("/api/v1/auth/signup", json={"tenant_name": "X", "name": "Y", "email": "not-an-email",
                                                  "password": "long-enough-password"})
    assert r.status_code == 422 and r.json()["title"] == "Invalid input" and r.json()["field"] == "email"
    pt = client.post("/api/v1/auth/signup", json={"tenant_name": "X", "name": "Y", "email": "not-an-email",
                                                   "password": "long-enough-password"},
                     headers={"Accept-Language": "pt-BR"}).json()
    assert pt["title"] == "Dados inválidos" and pt["field"] == "email" and pt["type"] == r.json()["type"]
    assert "e-mail inválido" in pt["detail"]


def test_signup_page_creates_a_company_and_logs_in(client: Any) -> None:
    page = client.get("/signup")
    assert client.cookies.get("rg_csrf")
    assert page.status_code == 200 and "Criar uma conta" in page.text and '<html lang="pt-BR"' in page.text
    csrf = client.cookies.get("rg_csrf")
    bad = client.post("/signup", data={"tenant_name": "Provedor Sul", "name": "Ana", "email": "ana@sul.test",
                                       "password": "senha-bem-longa-1", "password_confirm": "outra"},
                      headers={"x-csrftoken": csrf})
    assert bad.status_code == 422 and "as senhas não conferem" in bad.text
    ok = client.post("/signup", data={"tenant_name": "Provedor Sul", "name": "Ana", "email": "ana@sul.test",
                                      "password": "senha-bem-longa-1", "password_confirm": "senha-bem-longa-1"},
                     headers={"x-csrftoken": csrf}, follow_redirects=True)
    assert ok.status_code == 200 and "Painel" in ok.text and "Sair" in ok.text
    again = client.post("/signup", data={"tenant_name": "Outro", "name": "Ana", "email": "ana@sul.test",
                                         "password": "senha-bem-longa-1", "password_confirm": "senha-bem-longa-1"},
                        headers={"x-csrftoken": client.cookies.get("rg_csrf")})
    assert again.status_code == 422 and "este e-mail já está cadastrado" in again.text


def test_billing_settings_page_reads_and_saves_brazilian_numbers(demo: Any, live_container: Any) -> None:
    headers = bearer(demo, "admin@demo.test", live_container.settings.demo_password)
    page = demo.get("/billing/settings", headers=headers)
    assert page.status_code == 200 and "Configurações de cobrança" in page.text and "Chave PIX" in page.text
    form = {"fine_percent": "2,5", "interest_percent_month": "1", "pix_key": "financeiro@demo.test",
            "merchant_name": "Provedor Demo", "merchant_city": "Sao Paulo", "boleto_bank": "001",
            "boleto_agency": "1234", "boleto_account": "56789", "boleto_wallet": "17",
            "boleto_agreement": "1234567", "reminder_days": "-3, 0, 5", "block_after_days": "15", "lead_days": "10"}
    csrf = session_login(demo, "admin@demo.test", live_container.settings.demo_password)
    saved = demo.post("/billing/settings", data=form, headers=csrf, follow_redirects=True)
    assert saved.status_code == 200 and "Configurações salvas." in saved.text
    values = demo.get("/api/v1/billing/settings", headers=headers).json()
    assert values["fine_percent"] == "2.50" and values["reminder_days"] == [-3, 0, 5]
    assert values["block_after_days"] == 15 and values["boleto_agreement"] == "1234567"
    bad = demo.post("/billing/settings", data={**form, "fine_percent": "dois", "block_after_days": "x"},
                    headers=csrf)
    assert bad.status_code == 422
    assert "Multa após o vencimento (%): “dois” não é um número" in bad.text
    assert "Bloquear o acesso após (dias de atraso): “x” não é um número inteiro." in bad.text
    assert demo.get("/api/v1/billing/settings", headers=headers).json()["fine_percent"] == "2.50"
    tech = bearer(demo, "technician@demo.test", live_container.settings.demo_password)
    assert demo.get("/billing/settings", headers=tech).status_code == 403


def test_settings_hub_gathers_what_the_role_may_configure(demo: Any, live_container: Any) -> None:
    admin = demo.get("/settings", headers=bearer(demo, "admin@demo.test", live_container.settings.demo_password))
    for path in ("/billing/settings", "/fiscal/settings", "/support/settings", "/cnpj/settings", "/profile"):
        assert f'href="{path}"' in admin.text, path
    tech = demo.get("/settings", headers=bearer(demo, "technician@demo.test", live_container.settings.demo_password))
    assert 'href="/profile"' in tech.text and 'href="/billing/settings"' not in tech.text
