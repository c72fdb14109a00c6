"""The API Pix client against the fake PSP over real mutual TLS, and the webhook → PSP query →
movement → invoice paid path through the app."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from retaguarda.cash.pixapi import PixApiClient, PixApiRefused, PixApiTransient
from tests.cash.conftest import upload, wait_for
from tests.fakes.cash.psp import FakePsp, start_fake_psp

TXID = "a" * 10 + "B" * 10 + "1234567"  # 27 characters


@pytest.fixture
def psp(tmp_path: Path) -> Any:
    fake = start_fake_psp(tmp_path / "psp")
    yield fake
    fake.stop()


def client_for(psp: FakePsp, **kw: Any) -> PixApiClient:
    return PixApiClient(psp.base_url, psp.client_id, psp.client_secret, ssl_context=psp.client_ssl(), **kw)


def test_cob_cobv_pix_and_webhook_over_mtls(psp: FakePsp) -> None:
    c = client_for(psp)
    cob = c.put_cob(
        TXID,
        amount=Decimal("149.90"),
        key="financeiro@demo.test",
        debtor={"cpf": "52998224725", "nome": "José"},
    )
    assert cob["status"] == "ATIVA" and cob["txid"] == TXID and cob["pixCopiaECola"].startswith("000201")
    cobv = c.put_cobv(
        "V" * 30,
        amount=Decimal("99.90"),
        key="k",
        due_date="2026-12-10",
        debtor={"cnpj": "11222333000181", "nome": "ACME"},
        fine_percent=Decimal("2"),
        interest_percent_month=Decimal("1"),
    )
    assert cobv["valor"]["multa"] == {"modalidade": 2, "valorPerc": "2.00"}
    paid = psp.pay(TXID, Decimal("149.90"), payer_document="52998224725", payer_name="José")
    pix = c.get_pix(paid["endToEndId"])
    assert (pix.txid, pix.amount, pix.payer_document) == (TXID, Decimal("149.90"), "52998224725")
    assert c.get_cob(TXID)["status"] == "CONCLUIDA"
    items, pages = c.list_pix("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
    assert [p.e2eid for p in items] == [pix.e2eid] and pages == 1
    assert c.put_webhook("financeiro@demo.test", "https://erp.example/api/v1/cash/webhooks/pix/t") == {}
    assert c.get_webhook("financeiro@demo.test")["webhookUrl"].endswith("/pix/t")
    assert psp.control.count("POST", "/oauth/token") == 1  # token reused
    c.close()


def test_client_without_certificate_is_refused_in_the_handshake(psp: FakePsp) -> None:
    import ssl

    ctx = ssl.create_default_context(cadata=psp.ca_pem.decode())
    c = PixApiClient(psp.base_url, psp.client_id, psp.client_secret, ssl_context=ctx)
    with pytest.raises(PixApiTransient):
        c.get_pix("E" * 32)


def test_errors_are_classified_and_expired_token_is_refreshed(psp: FakePsp) -> None:
    c = client_for(psp)
    with pytest.raises(PixApiRefused) as exc:
        c.get_pix("E" * 32)
    assert exc.value.status == 404 and exc.value.problem["type"].endswith("/NaoEncontrado")
    with pytest.raises(PixApiRefused) as exc:
        c.put_cob(TXID, amount=Decimal("1.00"), key="")
    assert exc.value.problem["violacoes"][0]["propriedade"] == "chave"
    psp.control.fail_next("429", retry_after=2, path="/pix/")
    with pytest.raises(PixApiTransient) as t:
        c.get_pix("E" * 32)
    assert t.value.retry_after == 2.0
    psp.control.fail_next("500", path="/cob/")
    with pytest.raises(PixApiTransient):
        c.get_cob(TXID)
    psp.tokens.clear()  # the PSP forgot our token: one refresh, then the call succeeds
    c.put_cob(TXID, amount=Decimal("1.00"), key="k")
    assert psp.control.count("POST", "/oauth/token") == 2
    wrong = PixApiClient(psp.base_url, psp.client_id, "wrong", ssl_context=psp.client_ssl())
    with pytest.raises(PixApiRefused) as exc:
        wrong.get_cob(TXID)
    assert exc.value.status == 401
    slow = client_for(psp, timeout=0.5)
    psp.control.fail_next("timeout", path="/cob/", delay=1.5)
    with pytest.raises(PixApiTransient):
        slow.get_cob(TXID)


def test_webhook_is_confirmed_with_the_psp_and_pays_once(
    client: Any,
    admin: dict[str, str],
    account_id: str,
    issued_invoice: Any,
    psp: FakePsp,
    live_container: Any,
) -> None:
    inv = issued_invoice("149.90")
    r = client.put(
        f"/api/v1/cash/accounts/{account_id}/psp",
        headers=admin,
        json={
            "base_url": psp.base_url,
            "client_id": psp.client_id,
            "client_secret": psp.client_secret,
            "pix_key": "financeiro@demo.test",
            "cert_pem": psp.client_cert_pem.decode(),
            "key_pem": psp.client_key_pem.decode(),
            "ca_pem": psp.ca_pem.decode(),
        },
    )
    assert r.status_code == 200, r.text
    hook = r.json()["webhook_url"]
    token = hook.rsplit("/", 1)[1]
    psp.webhooks["financeiro@demo.test"] = hook
    psp.deliver = lambda url, body: client.post(
        url.replace(live_container.settings.base_url, ""), content=body
    )
    # A forged webhook for an unknown Pix changes nothing: the PSP does not know it
    r = client.post(
        f"/api/v1/cash/webhooks/pix/{token}",
        json={
            "pix": [
                {
                    "endToEndId": "E" * 32,
                    "txid": inv["pix"]["txid"],
                    "valor": "149.90",
                    "horario": "2026-12-02T12:00:00Z",
                }
            ]
        },
    )
    assert r.status_code == 200
    assert client.post("/api/v1/cash/webhooks/pix/wrong-token", json={"pix": []}).status_code == 404
    assert client.post(f"/api/v1/cash/webhooks/pix/{token}", content=b"nope").status_code in (400, 422)
    paid = psp.pay(inv["pix"]["txid"], Decimal("149.90"), payer_document="52998224725")
    wait_for(
        lambda: client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"] == "paid"
    )
    # The same Pix again (webhook redelivered) and then on the statement: still one movement, one payment
    client.post(f"/api/v1/cash/webhooks/pix/{token}/pix", json={"pix": [paid]})
    from datetime import date

    from tests.fakes.cash.bank import ofx_statement

    st = ofx_statement(
        [
            {
                "fitid": "P1",
                "date": date(2026, 12, 4),
                "amount": "149.90",
                "memo": f"PIX RECEBIDO {paid['endToEndId']}",
            }
        ]
    )
    imp = upload(client, admin, account_id, st).json()
    assert imp["duplicates"] == 1
    failed = wait_for(lambda: client.get("/api/v1/cash/pix-notices/failed", headers=admin).json()["items"])
    assert failed[0]["e2eid"] == "E" * 32 and "404" in failed[0]["error"]
    movements = client.get("/api/v1/cash/movements", headers=admin).json()
    assert movements["total"] == 1 and movements["items"][0]["source"] == "api_pix"
    assert movements["items"][0]["e2eid"] == paid["endToEndId"]
    assert len(client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["payments"]) == 1
    assert psp.control.count("GET", f"/pix/{paid['endToEndId']}") >= 1
