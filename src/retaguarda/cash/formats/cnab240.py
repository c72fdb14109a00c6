"""CNAB 240 cobrança (FEBRABAN V08.6/V10.6): retorno T+U reader and remessa P+Q writer/reader.

Banks: Banco do Brasil (001, FEBRABAN positions, convênio field `CCCCCCCCC0014CCVVV`,
versions 083/042) and Santander (033, own positions in the file header and segments P/T).
Settled titles (movimento 06 liquidação, 17 liquidação após baixa) become credit `Line`s with
the paid amount, fees (tarifa), interest (juros/multa), discount and credit date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from retaguarda.cash.formats import FileFormatError, Line
from retaguarda.cash.formats.fixed import Fields, Record, records

SETTLED = {"06", "17"}
BANKS = {"001": "BANCO DO BRASIL S.A.", "033": "BANCO SANTANDER"}
# Segment T positions that differ per bank: nosso número, seu número, vencimento, valor,
# uso da empresa, payer document, payer name, tarifa, motivos.
_T_LAYOUT = {
    "001": {
        "nn": (38, 57),
        "seu": (59, 73),
        "due": (74, 81),
        "value": (82, 96),
        "company": (106, 130),
        "doc": (134, 148),
        "payer": (149, 188),
        "fee": (199, 213),
        "reasons": (214, 223),
    },
    "033": {
        "nn": (41, 53),
        "seu": (55, 69),
        "due": (70, 77),
        "value": (78, 92),
        "company": (101, 125),
        "doc": (129, 143),
        "payer": (144, 183),
        "fee": (194, 208),
        "reasons": (209, 218),
    },
}


def read_retorno_240(stream: IO[bytes]) -> Iterator[Line]:
    bank = ""
    pending: tuple[int, Fields] | None = None
    saw_header = saw_trailer = False
    for line_no, raw in records(stream, 240):
        f = Fields(raw, line_no)
        kind = raw[7]
        if kind == "0":
            bank = raw[0:3]
            if bank not in _T_LAYOUT:
                raise FileFormatError(
                    line_no, f"bank {bank} is not supported (001 Banco do Brasil, 033 Santander)"
                )
            if raw[142] != "2":
                raise FileFormatError(line_no, "this is a remessa, not a retorno (position 143 must be 2)")
            saw_header = True
            continue
        if not saw_header:
            raise FileFormatError(line_no, "the file header (record type 0) must come first")
        if kind == "9":
            saw_trailer = True
            continue
        if kind != "3":
            continue
        segment = raw[13]
        if segment == "T":
            pending = (line_no, f)
        elif segment == "U":
            if pending is None:
                raise FileFormatError(line_no, "segment U without the segment T before it")
            t_line, t = pending
            pending = None
            line = _settled(bank, t_line, t, f)
            if line is not None:
                yield line
    if not saw_header:
        raise FileFormatError(1, "empty CNAB 240 file")
    if not saw_trailer:
        raise FileFormatError(0, "the file trailer (record type 9) is missing: the file is truncated")


def _settled(bank: str, line_no: int, t: Fields, u: Fields) -> Line | None:
    movement = t.text(16, 17)
    if movement not in SETTLED:
        return None
    lay = _T_LAYOUT[bank]
    nn = t.text(*lay["nn"]).lstrip("0") or "0"
    if bank == "001":
        nn = t.text(*lay["nn"])  # BB: left-aligned 17 digits (convênio 7 + sequence 10)
    paid = u.money(78, 92, "valor pago")
    occurred = u.day(138, 145, "data da ocorrência")
    credited = u.day(146, 153, "data do crédito")
    posted = credited or occurred
    if posted is None:
        raise FileFormatError(u.line, "settled title without occurrence or credit date")
    doc = t.text(*lay["doc"]).lstrip("0")
    doc = doc.rjust(11, "0") if len(doc) <= 11 else doc.rjust(14, "0")
    return Line(
        line_no=line_no,
        posted_on=posted,
        amount=paid,
        kind="credit",
        source="return_file",
        nosso_numero=nn,
        seu_numero=t.text(*lay["seu"]),
        name=t.text(*lay["payer"]),
        payer_document=doc if doc.strip("0") else "",
        fees=t.money(*lay["fee"], "tarifa"),
        interest=u.money(18, 32, "juros/multa"),
        discount=u.money(33, 47, "desconto"),
        credit_on=credited,
        occurrence=movement,
        memo=f"CNAB240 {bank} mov {movement} NN {nn}",
        extra={"bank": bank, "company_use": t.text(*lay["company"]), "reasons": t.text(*lay["reasons"])},
    )


# Remessa -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Beneficiary:
    """The company (cedente) and its agreement with the bank."""

    bank: str  # "001"
    document: str  # CNPJ digits
    name: str
    agency: str  # digits, without DV
    agency_dv: str
    account: str
    account_dv: str
    convenio: str  # BB: 7 digits
    carteira: str = "17"
    variacao: str = "019"


@dataclass(frozen=True)
class Title:
    """One boleto to register."""

    nosso_numero: str  # BB convênio 7: 17 digits
    seu_numero: str
    due_date: date
    amount: Decimal
    issue_date: date
    payer_document: str
    payer_name: str
    payer_address: str = ""
    payer_district: str = ""
    payer_cep: str = ""
    payer_city: str = ""
    payer_uf: str = ""
    interest_per_day: Decimal = Decimal("0.00")
    company_use: str = ""


@dataclass
class Remessa:
    text: str
    titles: int
    total: Decimal
    records: int = 0
    lines: list[str] = field(default_factory=list)


def _convenio_field(b: Beneficiary) -> str:
    return f"{b.convenio.rjust(9, '0')}0014{b.carteira.rjust(2, '0')}{b.variacao.rjust(3, '0')}  "


def _doc_kind(document: str) -> int:
    return 1 if len(document) == 11 else 2


def write_remessa_240(b: Beneficiary, titles: Iterable[Title], *, sequence: int, at: datetime) -> Remessa:
    """A Banco do Brasil CNAB 240 remessa (movimento 01 entrada de títulos), CRLF-separated."""
    if b.bank != "001":
        raise ValueError("remessa: only Banco do Brasil (001) is supported")
    out: list[str] = []
    h = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 0, numeric=True).put(8, 8, "0")
    h.put(18, 18, _doc_kind(b.document), numeric=True).put(19, 32, b.document, numeric=True)
    h.put(33, 52, _convenio_field(b)).put(53, 57, b.agency, numeric=True).put(58, 58, b.agency_dv)
    h.put(59, 70, b.account, numeric=True).put(71, 71, b.account_dv).put(73, 102, b.name)
    h.put(103, 132, BANKS[b.bank]).put(143, 143, 1, numeric=True).day(144, 151, at.date())
    h.put(152, 157, at.strftime("%H%M%S"), numeric=True).put(158, 163, sequence, numeric=True)
    h.put(164, 166, "083", numeric=True).put(167, 171, 0, numeric=True)
    out.append(str(h))
    lh = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "1")
    lh.put(9, 9, "R").put(10, 11, "01", numeric=True).put(14, 16, "042", numeric=True)
    lh.put(18, 18, _doc_kind(b.document), numeric=True).put(19, 33, b.document, numeric=True)
    lh.put(34, 53, _convenio_field(b)).put(54, 58, b.agency, numeric=True).put(59, 59, b.agency_dv)
    lh.put(60, 71, b.account, numeric=True).put(72, 72, b.account_dv).put(74, 103, b.name)
    lh.put(184, 191, sequence, numeric=True).day(192, 199, at.date()).put(200, 207, 0, numeric=True)
    out.append(str(lh))
    seq = 0
    total = Decimal("0.00")
    count = 0
    for t in titles:
        count += 1
        total += t.amount
        seq += 1
        p = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "3")
        p.put(9, 13, seq, numeric=True).put(14, 14, "P").put(16, 17, "01", numeric=True)
        p.put(18, 22, b.agency, numeric=True).put(23, 23, b.agency_dv).put(24, 35, b.account, numeric=True)
        p.put(36, 36, b.account_dv).put(38, 57, t.nosso_numero).put(
            58, 58, 7 if b.carteira == "17" else 1, numeric=True
        )
        p.put(59, 59, 1, numeric=True).put(60, 60, "1").put(61, 61, "2").put(62, 62, "2")
        p.put(63, 77, t.seu_numero).day(78, 85, t.due_date).money(86, 100, t.amount)
        p.put(101, 105, 0, numeric=True).put(106, 106, "0").put(107, 108, "02", numeric=True).put(
            109, 109, "N"
        )
        p.day(110, 117, t.issue_date)
        if t.interest_per_day > 0:
            p.put(118, 118, 1, numeric=True).day(119, 126, t.due_date).money(127, 141, t.interest_per_day)
        else:
            p.put(118, 118, 3, numeric=True).put(119, 126, 0, numeric=True).money(127, 141, Decimal("0"))
        p.put(142, 142, 0, numeric=True).put(143, 150, 0, numeric=True).money(151, 165, Decimal("0"))
        p.money(166, 180, Decimal("0")).money(181, 195, Decimal("0")).put(196, 220, t.company_use)
        p.put(221, 221, 3, numeric=True).put(222, 223, 0, numeric=True).put(224, 224, 0, numeric=True)
        p.put(225, 227, 0, numeric=True).put(228, 229, "09", numeric=True).put(230, 239, 0, numeric=True)
        out.append(str(p))
        seq += 1
        q = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "3")
        q.put(9, 13, seq, numeric=True).put(14, 14, "Q").put(16, 17, "01", numeric=True)
        q.put(18, 18, _doc_kind(t.payer_document), numeric=True).put(19, 33, t.payer_document, numeric=True)
        q.put(34, 73, t.payer_name).put(74, 113, t.payer_address).put(114, 128, t.payer_district)
        cep = "".join(ch for ch in t.payer_cep if ch.isdigit()).ljust(8, "0")[:8]
        q.put(129, 133, cep[:5], numeric=True).put(134, 136, cep[5:], numeric=True).put(
            137, 151, t.payer_city
        )
        q.put(152, 153, t.payer_uf).put(154, 154, 0, numeric=True).put(155, 169, 0, numeric=True)
        q.put(210, 212, 0, numeric=True)
        out.append(str(q))
    lt = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "5")
    lt.put(18, 23, seq + 2, numeric=True).put(24, 29, count, numeric=True).money(30, 46, total)
    out.append(str(lt))
    ft = Record(240).put(1, 3, b.bank, numeric=True).put(4, 7, 9999, numeric=True).put(8, 8, "9")
    ft.put(18, 23, 1, numeric=True).put(24, 29, len(out) + 1, numeric=True)
    out.append(str(ft))
    return Remessa(text="\r\n".join(out) + "\r\n", titles=count, total=total, records=len(out), lines=out)


def read_remessa_240(stream: IO[bytes]) -> Iterator[Title]:
    """The titles of a remessa (to check what we send, and for the fake bank)."""
    pending: Fields | None = None
    for line_no, raw in records(stream, 240):
        f = Fields(raw, line_no)
        if raw[7] == "0" and raw[142] != "1":
            raise FileFormatError(line_no, "not a remessa (position 143 must be 1)")
        if raw[7] != "3":
            continue
        if raw[13] == "P":
            pending = f
        elif raw[13] == "Q" and pending is not None:
            p, pending = pending, None
            yield Title(
                nosso_numero=p.text(38, 57),
                seu_numero=p.text(63, 77),
                due_date=p.day(78, 85, "vencimento") or date.min,
                amount=p.money(86, 100, "valor"),
                issue_date=p.day(110, 117, "emissão") or date.min,
                payer_document=f.text(19, 33).lstrip("0").rjust(11 if f.text(18, 18) == "1" else 14, "0"),
                payer_name=f.text(34, 73),
                payer_address=f.text(74, 113),
                payer_district=f.text(114, 128),
                payer_cep=f.text(129, 136),
                payer_city=f.text(137, 151),
                payer_uf=f.text(152, 153),
                interest_per_day=p.money(127, 141, "juros") if p.text(118, 118) == "1" else Decimal("0.00"),
                company_use=p.text(196, 220),
            )
