"""Bank file readers against hand-written bank samples and files the tests generate."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from retaguarda.cash.formats import FileFormatError, detect, read, references_in
from retaguarda.cash.formats.cnab240 import Beneficiary, Title, read_remessa_240, write_remessa_240
from tests.fakes.cash.bank import Settled, ofx_statement, retorno_240, retorno_400

DATA = Path(__file__).resolve().parents[1] / "data" / "cash"
AT = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def lines_of(data: bytes, fmt: str = "", **kw: object) -> list:
    return list(read(io.BytesIO(data), fmt or detect(data[:4096]), **kw))  # type: ignore[arg-type]


def test_bb_sgml_sample_latin1_unclosed_tags_decimal_comma_and_local_dates() -> None:
    data = (DATA / "bb_extrato_latin1.ofx").read_bytes()
    lines = lines_of(data)
    assert [(ln.kind, ln.amount) for ln in lines] == [
        ("credit", Decimal("149.90")),
        ("debit", Decimal("35.00")),
        ("credit", Decimal("89.90")),
        ("credit", Decimal("50.00")),
        ("credit", Decimal("75.00")),
    ]
    assert lines[0].memo == "01/12 10:15 JOSÉ DA CONCEIÇÃO 529.982.247-25"  # cp1252 decoded
    assert lines[0].payer_document == "52998224725"
    assert lines[1].posted_on == date(2026, 12, 1)  # no time and no offset
    assert lines[2].posted_on == date(2026, 12, 2)  # midnight without offset stays on its local day
    assert lines[3].fitid == lines[4].fitid  # BB repeats FITIDs: both lines are kept
    assert all(ln.source == "statement" for ln in lines)


def test_ofx2_xml_sample_reads_e2eid_from_memo() -> None:
    lines = lines_of((DATA / "nubank_ofx2.ofx").read_bytes())
    assert len(lines) == 2
    assert lines[0].e2eid == "E00000000202612021230AbCdEfGhIjK"
    assert lines[0].posted_on == date(2026, 12, 2) and lines[1].kind == "debit"


def test_csv_sample_with_mapping() -> None:
    mapping = {
        "date": "Data",
        "amount": "Valor",
        "memo": "Detalhes",
        "name": "Lançamento",
        "id": "Nº documento",
    }
    lines = lines_of((DATA / "itau_extrato.csv").read_bytes(), "csv", mapping=mapping)
    assert [(ln.posted_on, ln.kind, ln.amount) for ln in lines] == [
        (date(2026, 12, 1), "credit", Decimal("1149.90")),
        (date(2026, 12, 1), "debit", Decimal("35.00")),
        (date(2026, 12, 2), "credit", Decimal("89.90")),
    ]
    assert lines[0].payer_document == "52998224725" and lines[0].fitid == "000001"


def test_csv_credit_and_debit_columns_and_missing_column() -> None:
    data = b'data,entrada,saida,hist\n2026-12-01,10,,a\n02/12/2026,,"1.234,50",b\n'
    lines = lines_of(
        data, "csv", mapping={"date": "data", "credit": "entrada", "debit": "saida", "memo": "hist"}
    )
    assert [(ln.kind, ln.amount) for ln in lines] == [
        ("credit", Decimal("10.00")),
        ("debit", Decimal("1234.50")),
    ]
    with pytest.raises(FileFormatError) as exc:
        lines_of(data, "csv", mapping={"date": "Data", "amount": "valor"})
    assert exc.value.line == 1 and "Data" in exc.value.message


@pytest.mark.parametrize(
    "version,encoding,close", [(1, "latin-1", False), (1, "cp1252", True), (2, "utf-8", True)]
)
def test_generated_statement_round_trip(version: int, encoding: str, close: bool) -> None:
    rows = [
        {
            "fitid": f"F{i}",
            "date": date(2026, 12, 1 + i % 3),
            "amount": Decimal(i + 1) * (1 if i % 2 else -1),
            "memo": f"Lançamento ção {i}",
        }
        for i in range(30)
    ]
    lines = lines_of(ofx_statement(rows, version=version, encoding=encoding, close_leaves=close))
    assert [ln.fitid for ln in lines] == [f"F{i}" for i in range(30)]
    assert [ln.amount for ln in lines] == [Decimal(i + 1) for i in range(30)]
    assert lines[0].memo == "Lançamento ção 0"


def test_big_statement_is_streamed_across_chunks() -> None:
    rows = [
        {"fitid": f"F{i}", "date": date(2026, 12, 1), "amount": Decimal("1.00"), "memo": "x" * 200}
        for i in range(2000)
    ]  # ~ 700 KB: many 64 KB chunks
    assert len(lines_of(ofx_statement(rows))) == 2000


@pytest.mark.parametrize(
    "data,line,words",
    [
        (
            b"OFXHEADER:100\n\n<OFX>\n<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>2026-12-01\n<TRNAMT>1\n<FITID>1\n</STMTTRN>\n</OFX>",
            6,
            "DTPOSTED",
        ),
        (
            b"OFXHEADER:100\n\n<OFX>\n\n<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>20261201\n<TRNAMT>abc\n</STMTTRN>\n</OFX>",
            8,
            "TRNAMT",
        ),
        (b"OFXHEADER:100\n\n<OFX>\n<STMTTRN>\n<TRNTYPE>CREDIT\n<DTPOSTED>20261201\n", 4, "not closed"),
    ],
)
def test_unreadable_ofx_names_the_line(data: bytes, line: int, words: str) -> None:
    with pytest.raises(FileFormatError) as exc:
        lines_of(data, "ofx")
    assert exc.value.line == line and words in exc.value.message


def test_references_in_free_text() -> None:
    refs = references_in(
        "PIX RECEBIDO 3nJfXkqg2wN6dPz1yVb0aT E18236120202612041230abcdef12345 CPF 529.982.247-25"
    )
    assert refs == {
        "e2eid": "E18236120202612041230abcdef12345",
        "txid": "3nJfXkqg2wN6dPz1yVb0aT",
        "payer_document": "52998224725",
    }
    assert references_in("CPF 529.982.247-26") == {}  # wrong check digits


SETTLED = [
    Settled(
        "12345670000000042",
        "42",
        date(2026, 12, 10),
        Decimal("99.90"),
        Decimal("101.90"),
        date(2026, 12, 11),
        date(2026, 12, 12),
        Decimal("2.50"),
        Decimal("2.00"),
        "52998224725",
        "JOSÉ",
    ),
    Settled(
        "12345670000000043",
        "43",
        date(2026, 12, 10),
        Decimal("50.00"),
        Decimal("50.00"),
        date(2026, 12, 10),
        date(2026, 12, 11),
    ),
]


@pytest.mark.parametrize("bank,nn", [("001", "12345670000000042"), ("033", "1234500000042")])
def test_cnab240_retorno(bank: str, nn: str) -> None:
    titles = [SETTLED[0].__class__(**{**SETTLED[0].__dict__, "nosso_numero": nn}), SETTLED[1]]
    data = retorno_240(bank, titles, at=AT, extra_codes=("02", "28"))
    assert detect(data) == "cnab240"
    lines = lines_of(data)
    assert len(lines) == 2  # 02 (entrada) and 28 (tarifas) are not receipts
    first = lines[0]
    assert first.nosso_numero.lstrip("0") == nn
    assert (first.amount, first.fees, first.interest) == (Decimal("101.90"), Decimal("2.50"), Decimal("2.00"))
    assert first.credit_on == date(2026, 12, 12) and first.posted_on == date(2026, 12, 12)
    assert first.payer_document == "52998224725" and first.seu_numero == "42"
    assert first.source == "return_file" and first.occurrence == "06"


@pytest.mark.parametrize(
    "bank,nn", [("001", "12345670000000042"), ("237", "000012345678"), ("341", "10912345678")]
)
def test_cnab400_retorno(bank: str, nn: str) -> None:
    data = retorno_400(
        bank,
        [
            Settled(
                nn,
                "42",
                date(2026, 12, 10),
                Decimal("99.90"),
                Decimal("99.90"),
                date(2026, 12, 11),
                date(2026, 12, 12),
            )
        ],
        at=AT,
    )
    assert detect(data) == "cnab400"
    (line,) = lines_of(data)
    assert line.nosso_numero.lstrip("0") == nn.lstrip("0") and line.amount == Decimal("99.90")
    assert line.credit_on == date(2026, 12, 12) and line.fees == Decimal("2.50")


def test_truncated_or_malformed_cnab_names_the_line() -> None:
    data = retorno_240("001", SETTLED, at=AT)
    truncated = b"\r\n".join(data.split(b"\r\n")[:-2])
    with pytest.raises(FileFormatError, match="trailer"):
        lines_of(truncated, "cnab240")
    broken = data.split(b"\r\n")
    broken[3] = broken[3][:100]
    with pytest.raises(FileFormatError) as exc:
        lines_of(b"\r\n".join(broken), "cnab240")
    assert exc.value.line == 4
    lines = data.split(b"\r\n")
    lines[3] = lines[3][:77] + b"ABCDEFGHIJKLMNO" + lines[3][92:]
    with pytest.raises(FileFormatError) as exc:
        lines_of(b"\r\n".join(lines), "cnab240")
    assert exc.value.line == 4 and "valor pago" in exc.value.message


BEN = Beneficiary(
    bank="001",
    document="11222333000181",
    name="Provedor Demo Ltda",
    agency="1234",
    agency_dv="5",
    account="123456",
    account_dv="7",
    convenio="1234567",
)


def test_remessa_240_round_trip() -> None:
    titles = [
        Title(
            nosso_numero=f"1234567{n:010d}",
            seu_numero=str(n),
            due_date=date(2026, 12, 10 + n % 5),
            amount=Decimal("99.90") + n,
            issue_date=date(2026, 12, 1),
            payer_document="52998224725",
            payer_name="José da Conceição",
            payer_address="Rua A, 10",
            payer_district="Centro",
            payer_cep="01310-100",
            payer_city="São Paulo",
            payer_uf="SP",
            interest_per_day=Decimal("0.03") if n % 2 else Decimal("0.00"),
            company_use=f"inv-{n}",
        )
        for n in range(1, 8)
    ]
    rem = write_remessa_240(BEN, titles, sequence=3, at=AT)
    assert all(len(line) == 240 for line in rem.lines)
    assert rem.records == 2 + 2 * 7 + 2 and rem.total == sum(t.amount for t in titles)
    back = list(read_remessa_240(io.BytesIO(rem.text.encode("latin-1"))))
    assert [b.nosso_numero for b in back] == [t.nosso_numero for t in titles]
    assert [(b.amount, b.due_date, b.interest_per_day, b.company_use) for b in back] == [
        (t.amount, t.due_date, t.interest_per_day, t.company_use.upper()) for t in titles
    ]
    assert back[0].payer_name == "JOSE DA CONCEICAO" and back[0].payer_cep == "01310100"
    assert rem.lines[0][32:52] == "001234567001417019  "  # convênio, 0014, carteira, variação
    with pytest.raises(FileFormatError, match="remessa"):
        lines_of(rem.text.encode(), "cnab240")


def test_txid_rule_is_billings_and_reversible() -> None:
    import uuid

    from retaguarda.billing.pix import make_txid as billing_txid
    from retaguarda.cash.install import invoice_id_of_txid, make_txid

    for _ in range(200):
        invoice_id = str(uuid.uuid4())
        assert make_txid(invoice_id) == billing_txid(invoice_id)
        assert invoice_id_of_txid(make_txid(invoice_id)) == invoice_id
    assert invoice_id_of_txid("not-a-txid") is None
