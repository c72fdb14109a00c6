"""The cash API over HTTP (the issue's acceptance interfaces): accounts, import preview → confirm,
re-import records nothing, matching pays invoices through billing, errors name `file`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cash.conftest import CPF, upload, wait_for
from tests.fakes.cash.bank import Settled, ofx_statement, retorno_240

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parents[1] / "data" / "cash"


def test_accounts_list_and_validation(client: Any, admin: dict[str, str], account_id: str) -> None:
    r = client.get("/api/v1/cash/accounts", headers=admin)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [a["id"] for a in items] == [account_id] and items[0]["opening_balance"] == "1000.00"
    r = client.post(
        "/api/v1/cash/accounts", headers=admin, json={"name": "x", "bank": "1", "agency": "1", "number": "2"}
    )
    assert r.status_code in (400, 422) and "bank" in r.text
    r = client.post(
        "/api/v1/cash/accounts",
        headers=admin,
        json={"name": "again", "bank": "001", "agency": "1234-5", "number": "12345-6"},
    )
    assert r.status_code == 409


def test_statement_with_txid_pays_the_invoice_and_reimport_records_nothing(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any
) -> None:
    by_txid = issued_invoice("149.90")
    by_document = issued_invoice("89.90")
    txid = by_txid["pix"]["txid"]
    statement = ofx_statement(
        [
            {
                "fitid": "A1",
                "date": date(2026, 12, 2),
                "amount": "149.90",
                "name": "PIX RECEBIDO",
                "memo": f"PIX {txid} JOSE",
            },
            {
                "fitid": "A2",
                "date": date(2026, 12, 3),
                "amount": "89.90",
                "memo": f"TED CPF {CPF[:3]}.{CPF[3:6]}.{CPF[6:9]}-{CPF[9:]}",
            },
            {"fitid": "A3", "date": date(2026, 12, 3), "amount": "-35.00", "memo": "TARIFA"},
            {"fitid": "A4", "date": date(2026, 12, 4), "amount": "12.34", "memo": "DEPOSITO"},
        ]
    )
    r = upload(client, admin, account_id, statement)
    assert r.status_code == 201, r.text
    preview = r.json()
    assert {k: preview[k] for k in ("status", "credits", "debits", "duplicates")} == {
        "status": "preview",
        "credits": 3,
        "debits": 1,
        "duplicates": 0,
    }
    # Nothing is recorded before confirm
    assert client.get("/api/v1/cash/movements", headers=admin).json()["total"] == 0
    assert client.get(f"/api/v1/billing/invoices/{by_txid['id']}", headers=admin).json()["status"] == "issued"
    r = client.post(f"/api/v1/cash/imports/{preview['id']}/confirm", headers=admin)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("recorded", "matched", "unmatched")} == {
        "recorded": 4,
        "matched": 2,
        "unmatched": 1,
    }
    for inv in (by_txid, by_document):
        assert client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"] == "paid"
    matched = client.get("/api/v1/cash/movements?status=matched", headers=admin).json()["items"]
    assert sorted((m["invoice_id"], m["rule"]) for m in matched) == sorted(
        [(by_txid["id"], "reference"), (by_document["id"], "document_amount")]
    )
    one = client.get(f"/api/v1/cash/movements/{matched[0]['id']}", headers=admin).json()
    assert one["invoice_id"] and one["links"]["invoice"].endswith(one["invoice_id"])
    # A second confirm of the same import is refused; the same file again records nothing
    assert client.post(f"/api/v1/cash/imports/{preview['id']}/confirm", headers=admin).status_code == 409
    again = upload(client, admin, account_id, statement).json()
    assert (again["credits"], again["debits"], again["duplicates"]) == (0, 0, 4)
    r = client.post(f"/api/v1/cash/imports/{again['id']}/confirm", headers=admin)
    assert r.json()["recorded"] == 0 and r.json()["matched"] == 0
    payments = client.get(f"/api/v1/billing/invoices/{by_txid['id']}", headers=admin).json()["payments"]
    assert len(payments) == 1 and payments[0]["amount"] == "149.90"


@pytest.mark.parametrize(
    "content,name",
    [
        (
            b"OFXHEADER:100\n\n<OFX>\n<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>20261301\n<TRNAMT>1,00\n<FITID>1\n</STMTTRN>",
            "x.ofx",
        ),
        (b"\x00\x01\x02binary", "x.bin"),
        (b"", "empty.ofx"),
    ],
)
def test_unreadable_file_is_a_problem_naming_file_and_records_nothing(
    client: Any, admin: dict[str, str], account_id: str, live_container: Any, content: bytes, name: str
) -> None:
    head = live_container.store.head()
    r = upload(client, admin, account_id, content, name=name)
    assert r.status_code in (400, 422), r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "file" in str(body.get("invalid_params") or body.get("errors") or body), body
    assert live_container.store.head() == head
    assert client.get("/api/v1/cash/imports", headers=admin).json()["total"] == 0


def test_line_number_is_named(client: Any, admin: dict[str, str], account_id: str) -> None:
    data = (DATA / "bb_extrato_latin1.ofx").read_bytes().replace(b"<TRNAMT>89,90", b"<TRNAMT>oitenta")
    r = upload(client, admin, account_id, data)
    assert r.status_code in (400, 422)
    assert "line 60" in r.text and "TRNAMT" in r.text


def test_return_file_pays_by_nosso_numero_and_never_twice(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any
) -> None:
    inv = issued_invoice("99.90")
    nn = f"1234567{inv['number']:010d}"
    settled = Settled(
        nn,
        str(inv["number"]),
        date(2026, 12, 10),
        Decimal("99.90"),
        Decimal("101.90"),
        date(2026, 12, 11),
        date(2026, 12, 12),
        interest=Decimal("2.00"),
    )
    from datetime import datetime, timezone

    data = retorno_240("001", [settled], at=datetime(2026, 12, 12, 8, tzinfo=timezone.utc))
    r = upload(client, admin, account_id, data, name="RET.RET")
    assert r.status_code == 201 and r.json()["format"] == "cnab240" and r.json()["credits"] == 1
    assert client.post(f"/api/v1/cash/imports/{r.json()['id']}/confirm", headers=admin).json()["matched"] == 1
    got = client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()
    assert got["status"] == "paid" and len(got["payments"]) == 1
    # The same receipt on the statement by txid: a different source, but the invoice is paid once
    statement = ofx_statement(
        [{"fitid": "S1", "date": date(2026, 12, 12), "amount": "101.90", "memo": f"PIX {inv['pix']['txid']}"}]
    )
    imp = upload(client, admin, account_id, statement).json()
    result = client.post(f"/api/v1/cash/imports/{imp['id']}/confirm", headers=admin).json()
    assert (result["recorded"], result["matched"], result["unmatched"]) == (1, 0, 1)
    assert len(client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["payments"]) == 1
    queue = client.get("/api/v1/cash/movements?status=unmatched", headers=admin).json()["items"]
    assert "is paid, not open" in queue[0]["note"]


def test_manual_match_not_revenue_and_book(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any, customer_id: str
) -> None:
    inv = issued_invoice("50.00")
    statement = ofx_statement(
        [
            {"fitid": "M1", "date": date(2026, 12, 1), "amount": "30.00", "memo": "DEPOSITO"},
            {"fitid": "M2", "date": date(2026, 12, 2), "amount": "20.00", "memo": "DEPOSITO"},
            {"fitid": "M3", "date": date(2026, 12, 2), "amount": "500.00", "memo": "EMPRESTIMO"},
            {"fitid": "M4", "date": date(2026, 12, 3), "amount": "-10.00", "memo": "TARIFA"},
        ]
    )
    imp = upload(client, admin, account_id, statement).json()
    client.post(f"/api/v1/cash/imports/{imp['id']}/confirm", headers=admin)
    items = {
        m["memo"] + m["amount"]: m
        for m in client.get("/api/v1/cash/movements?status=unmatched", headers=admin).json()["items"]
    }
    first, second, loan = items["DEPOSITO30.00"], items["DEPOSITO20.00"], items["EMPRESTIMO500.00"]
    r = client.post(
        f"/api/v1/cash/movements/{first['id']}/match", headers=admin, json={"invoice_id": inv["id"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "matched"
    assert (
        client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"]
        == "partially_paid"
    )
    client.post(f"/api/v1/cash/movements/{second['id']}/match", headers=admin, json={"invoice_id": inv["id"]})
    assert client.get(f"/api/v1/billing/invoices/{inv['id']}", headers=admin).json()["status"] == "paid"
    r = client.post(
        f"/api/v1/cash/movements/{loan['id']}/not-revenue", headers=admin, json={"category": "loan"}
    )
    assert r.json()["status"] == "not_revenue"
    r = client.post(f"/api/v1/cash/movements/{loan['id']}/not-revenue", headers=admin, json={"category": "x"})
    assert r.status_code in (400, 422) and "category" in r.text
    r = client.post(f"/api/v1/cash/movements/{first['id']}/match", headers=admin, json={})
    assert r.status_code in (400, 422)
    book = client.get("/api/v1/cash/book?from=2026-12-01&to=2026-12-03", headers=admin).json()
    days = book["accounts"][0]["days"]
    assert book["accounts"][0]["opening"] == "1000.00"
    assert [d["balance"] for d in days] == ["1030.00", "1550.00", "1540.00"]
    assert (
        book["reconciliation"]["matched"]["count"] == 2
        and book["reconciliation"]["not_revenue"]["count"] == 1
    )
    csv = client.get("/api/v1/cash/book?from=2026-12-01&to=2026-12-03&format=csv", headers=admin)
    assert csv.status_code == 200 and "1550,00" in csv.text
    xlsx = client.get("/api/v1/cash/book?from=2026-12-01&to=2026-12-03&format=xlsx", headers=admin)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    r = client.get("/api/v1/cash/book?from=2026-12-05&to=2026-12-01", headers=admin)
    assert r.status_code in (400, 422) and "from" in r.text


def test_csv_import_uses_and_saves_the_mapping(client: Any, admin: dict[str, str], account_id: str) -> None:
    data = (DATA / "itau_extrato.csv").read_bytes()
    assert upload(client, admin, account_id, data, name="x.csv").status_code in (400, 422)
    mapping = {"date": "Data", "amount": "Valor", "memo": "Detalhes", "id": "Nº documento"}
    r = client.put(
        f"/api/v1/cash/accounts/{account_id}/csv-mapping", headers=admin, json={"mapping": mapping}
    )
    assert r.status_code == 200 and r.json()["csv_mapping"]["date"] == "Data"
    r = upload(client, admin, account_id, data, name="x.csv")
    assert r.status_code == 201 and (r.json()["credits"], r.json()["debits"]) == (2, 1)


def test_remittance_registers_each_boleto_once(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any, live_container: Any
) -> None:
    client.put("/api/v1/fiscal/settings", headers=admin, json=_fiscal())
    a, b = issued_invoice("10.00"), issued_invoice("20.00")
    r = client.post("/api/v1/cash/remittances", headers=admin, json={"account_id": account_id})
    assert r.status_code == 201, r.text
    assert r.json()["titles"] == 2 and r.json()["total"] == "30.00"
    f = client.get(r.json()["download"], headers=admin)
    lines = f.content.decode("latin-1").split("\r\n")[:-1]
    assert all(len(x) == 240 for x in lines) and len(lines) == 2 + 4 + 2
    assert f"1234567{a['number']:010d}" in f.text and f"1234567{b['number']:010d}" in f.text
    r = client.post("/api/v1/cash/remittances", headers=admin, json={"account_id": account_id})
    assert r.status_code == 409


def _fiscal() -> dict[str, Any]:
    from retaguarda.fiscal.install import DEMO_SETTINGS

    return {k: v for k, v in DEMO_SETTINGS.items()}


def test_fiscal_settings_patch_is_partial(client: Any, admin: dict[str, str]) -> None:
    assert (
        client.patch(
            "/api/v1/fiscal/settings", headers=admin, json={"emit_on_cash_confirm": True}
        ).status_code
        == 409
    )
    assert client.put("/api/v1/fiscal/settings", headers=admin, json=_fiscal()).status_code == 200
    before = client.get("/api/v1/fiscal/settings", headers=admin).json()
    r = client.patch("/api/v1/fiscal/settings", headers=admin, json={"emit_on_cash_confirm": True})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["emit_on_cash_confirm"] is True
    assert {k: v for k, v in after.items() if k not in ("emit_on_cash_confirm", "updated_at", "version")} == {
        k: v for k, v in before.items() if k not in ("emit_on_cash_confirm", "updated_at", "version")
    }
    r = client.patch("/api/v1/fiscal/settings", headers=admin, json={"series": "0"})
    assert r.status_code in (400, 422) and "series" in r.text
    r = client.patch("/api/v1/fiscal/settings", headers=admin, json={"nope": 1})
    assert r.status_code in (400, 422)


def test_matched_credit_gets_its_nfse_once(
    client: Any, admin: dict[str, str], account_id: str, issued_invoice: Any, live_container: Any
) -> None:
    client.put("/api/v1/fiscal/settings", headers=admin, json=_fiscal())
    client.patch("/api/v1/fiscal/settings", headers=admin, json={"emit_on_cash_confirm": True})
    client.patch("/api/v1/billing/settings", headers=admin, json={"nfse_on_paid": True})  # both: still one
    inv = issued_invoice("149.90")
    statement = ofx_statement(
        [{"fitid": "N1", "date": date(2026, 12, 2), "amount": "149.90", "memo": f"PIX {inv['pix']['txid']}"}]
    )
    imp = upload(client, admin, account_id, statement).json()
    assert client.post(f"/api/v1/cash/imports/{imp['id']}/confirm", headers=admin).json()["matched"] == 1
    mv = client.get("/api/v1/cash/movements?status=matched", headers=admin).json()["items"][0]

    def nfse() -> Any:
        got = client.get(f"/api/v1/cash/movements/{mv['id']}", headers=admin).json()
        return got["nfse_id"]

    nfse_id = wait_for(nfse)
    assert client.get(f"/api/v1/cash/movements/{mv['id']}", headers=admin).json()["invoice_id"] == inv["id"]
    note = wait_for(
        lambda: (
            (n := client.get(f"/api/v1/fiscal/nfse/{nfse_id}", headers=admin).json())["status"]
            == "authorized"
            and n
        )
    )
    assert Decimal(note["amount"]) == Decimal("149.90")
    notes = client.get("/api/v1/fiscal/nfse", headers=admin).json()
    assert notes["total"] == 1
