"""E-mails and documents people receive are in Portuguese with Brazilian formats (PDF text via pypdf)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from retaguarda.seed import seed_demo
from tests.identity.helpers import render, requested_emails

pytestmark = pytest.mark.e2e

BRL = re.compile(r"R\$\s?\d{1,3}(\.\d{3})*,\d{2}")
BR_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def pdf_text(content: bytes) -> str:
    assert content[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def demo(live_container: Any, client: Any) -> Any:
    seed_demo(live_container)
    live_container.wait_for(live_container.store.head(), timeout=20)
    return client


def admin(client: Any, container: Any) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"email": "admin@demo.test",
                                                "password": container.settings.demo_password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_welcome_email_is_in_portuguese(client: Any, live_container: Any) -> None:
    r = client.post("/api/v1/auth/signup", json={"tenant_name": "Provedor Norte", "name": "Bruna",
                                                 "email": "bruna@norte.test", "password": "senha-bem-longa-9"})
    assert r.status_code == 201, r.text
    [mail] = requested_emails(live_container, "identity.welcome", "bruna@norte.test")
    subject, text = render(live_container, mail)
    assert subject == "Bem-vindo ao Retaguarda"
    assert text.startswith("Olá, Bruna,") and "Sua conta e o espaço de trabalho Provedor Norte estão prontos." in text
    assert "Welcome" not in text and "Log in" not in text


def test_reminder_email_is_in_portuguese_with_brazilian_money_and_dates(live_container: Any) -> None:
    from retaguarda.notifications.templates import render as render_template

    subject, text = render_template("billing.reminder", {
        "key": "+5", "number": "2026-000042", "due_date": "2026-12-10", "amount": "1234.5",
        "customer_name": "Maria", "link": "https://pay.example/x", "brcode": "000201...",
        "digitable_line": "00190.00009 01234.567004 00000.042184 1 12340000012345"}, live_container)
    assert subject == "A fatura 2026-000042 está vencida (vencimento 10/12/2026)"
    assert "Valor para pagamento hoje: R$\xa01.234,50." in text and "Código PIX copia e cola:" in text
    assert "Olá, Maria," in text and not ISO_DATE.search(text)


def test_invoice_pdf_reads_in_portuguese(demo: Any, live_container: Any) -> None:
    headers = admin(demo, live_container)
    invoices = demo.get("/api/v1/billing/invoices?per_page=50", headers=headers).json()["items"]
    invoice = next(i for i in invoices if i["status"] in ("issued", "overdue", "partially_paid"))
    r = demo.get(f"/api/v1/billing/invoices/{invoice['id']}/pdf", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    for words in ("Fatura", "Vencimento", "Emitida", "Descrição", "Total", "Saldo devedor", "SACADO"):
        assert words in text, words
    assert BRL.search(text) and BR_DATE.search(text)
    for english in ("Invoice", "Due:", "Balance due", "BILL TO", "Description"):
        assert english not in text, english
    assert not ISO_DATE.search(text)


def test_danfse_pdf_reads_in_portuguese(demo: Any, live_container: Any) -> None:
    headers = admin(demo, live_container)
    notes = demo.get("/api/v1/fiscal/nfse?status=authorized", headers=headers).json()["items"]
    assert notes, "the demo seeds authorized NFS-e"
    r = demo.get(f"/fiscal/nfse/{notes[0]['id']}/danfse", headers=headers)
    assert r.status_code == 200
    text = pdf_text(r.content)
    for words in ("DANFSe", "COMPETÊNCIA", "TOMADOR DO SERVIÇO", "VALOR DO SERVIÇO", "VALOR LÍQUIDO"):
        assert words in text, words
    assert BRL.search(text) and BR_DATE.search(text)


def test_fiscal_book_exports_have_portuguese_headers(demo: Any, live_container: Any) -> None:
    headers = admin(demo, live_container)
    months = demo.get("/api/v1/fiscal/book/months", headers=headers)
    competence = (months.json().get("items") or [None])[0] if months.status_code == 200 else None
    competence = competence or live_container.clock.now().strftime("%Y-%m")
    r = demo.get(f"/fiscal/book/export?competence={competence}&format=csv", headers=headers)
    assert r.status_code == 200, r.text[:200]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["NFS-e", "Competência", "Autorizada em", "Tomador"] and rows[0][-1] == "Situação"
    r = demo.get(f"/fiscal/book/export?competence={competence}&format=pdf", headers=headers)
    assert "Livro fiscal de serviços" in pdf_text(r.content)


def test_cnpj_report_pdf_is_in_portuguese(demo: Any, live_container: Any) -> None:
    headers = admin(demo, live_container)
    targets = demo.get("/api/v1/cnpj/targets", headers=headers).json()["items"]
    checked = next(t for t in targets if t.get("razao_social"))
    r = demo.get(f"/cnpj/targets/{checked['id']}/report.pdf", headers=headers)
    assert r.status_code == 200
    text = pdf_text(r.content)
    assert "Relatório de CNPJ" in text and "Razão social" in text and "Fonte" in text
    assert "CNPJ report" not in text and "Legal name" not in text
