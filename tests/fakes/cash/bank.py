"""A fake bank's files: CNAB 240/400 retorno for settled titles and OFX statements, as the
banks lay them out (used by the tests, the benchmark and the fake PSP's statement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from retaguarda.cash.formats.fixed import Record


@dataclass(frozen=True)
class Settled:
    nosso_numero: str
    seu_numero: str
    due_date: date
    face_value: Decimal
    paid: Decimal
    paid_on: date
    credit_on: date
    fee: Decimal = Decimal("2.50")
    interest: Decimal = Decimal("0.00")
    payer_document: str = ""
    payer_name: str = ""
    movement: str = "06"


def retorno_240(
    bank: str, titles: list[Settled], *, at: datetime, extra_codes: tuple[str, ...] = ()
) -> bytes:
    """A CNAB 240 retorno with T+U per title (`extra_codes`: also a non-settlement T+U each)."""
    nn_pos = {"001": (38, 57), "033": (41, 53)}[bank]
    seu_pos = {"001": (59, 73), "033": (55, 69)}[bank]
    due_pos = {"001": (74, 81), "033": (70, 77)}[bank]
    val_pos = {"001": (82, 96), "033": (78, 92)}[bank]
    doc_pos = {"001": (133, 148), "033": (128, 143)}[bank]
    name_pos = {"001": (149, 188), "033": (144, 183)}[bank]
    fee_pos = {"001": (199, 213), "033": (194, 208)}[bank]
    out = []
    h = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 0, numeric=True).put(8, 8, "0")
    h.put(18, 18, 2, numeric=True).put(19, 32, "11222333000181", numeric=True).put(73, 102, "PROVEDOR DEMO")
    h.put(143, 143, 2, numeric=True).day(144, 151, at.date()).put(
        152, 157, at.strftime("%H%M%S"), numeric=True
    )
    h.put(158, 163, 1, numeric=True).put(164, 166, "083", numeric=True)
    out.append(str(h))
    lh = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "1").put(9, 9, "T")
    lh.put(10, 11, "01", numeric=True).put(14, 16, "042", numeric=True)
    out.append(str(lh))
    seq = 0
    rows = [(t, t.movement) for t in titles] + [(t, code) for t in titles[:1] for code in extra_codes]
    for t, code in rows:
        seq += 1
        r = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "3")
        r.put(9, 13, seq, numeric=True).put(14, 14, "T").put(16, 17, code, numeric=True)
        r.put(nn_pos[0], nn_pos[1], t.nosso_numero if bank == "001" else t.nosso_numero.rjust(13, "0"))
        r.put(seu_pos[0], seu_pos[1], t.seu_numero).day(due_pos[0], due_pos[1], t.due_date)
        r.money(val_pos[0], val_pos[1], t.face_value)
        if t.payer_document:
            r.put(doc_pos[0], doc_pos[0], 1 if len(t.payer_document) == 11 else 2, numeric=True)
            r.put(doc_pos[0] + 1, doc_pos[1], t.payer_document, numeric=True)
        r.put(name_pos[0], name_pos[1], t.payer_name).money(fee_pos[0], fee_pos[1], t.fee)
        out.append(str(r))
        seq += 1
        u = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "3")
        u.put(9, 13, seq, numeric=True).put(14, 14, "U").put(16, 17, code, numeric=True)
        u.money(18, 32, t.interest).money(33, 47, Decimal("0")).money(78, 92, t.paid)
        u.money(93, 107, t.paid - t.fee).day(138, 145, t.paid_on).day(146, 153, t.credit_on)
        out.append(str(u))
    lt = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 1, numeric=True).put(8, 8, "5")
    lt.put(18, 23, seq + 2, numeric=True)
    out.append(str(lt))
    ft = Record(240).put(1, 3, bank, numeric=True).put(4, 7, 9999, numeric=True).put(8, 8, "9")
    ft.put(18, 23, 1, numeric=True).put(24, 29, len(out) + 1, numeric=True)
    out.append(str(ft))
    return ("\r\n".join(out) + "\r\n").encode("latin-1")


def retorno_400(bank: str, titles: list[Settled], *, at: datetime) -> bytes:
    detail_type = "7" if bank == "001" else "1"
    out = []
    h = Record(400).put(1, 1, "0").put(2, 2, "2").put(3, 9, "RETORNO").put(10, 11, "01", numeric=True)
    h.put(77, 79, bank, numeric=True).day(95, 100, at.date()).put(395, 400, 1, numeric=True)
    out.append(str(h))
    for i, t in enumerate(titles, start=2):
        r = Record(400).put(1, 1, detail_type)
        if bank == "001":
            r.put(64, 80, t.nosso_numero).day(176, 181, t.credit_on).money(182, 188, t.fee)
        elif bank == "237":
            r.put(71, 82, t.nosso_numero.rjust(12, "0")).day(296, 301, t.credit_on).money(176, 188, t.fee)
        else:  # 341: carteira (3) + nosso número (8)
            r.put(83, 85, t.nosso_numero[:3]).put(63, 70, t.nosso_numero[3:]).day(296, 301, t.credit_on)
            r.money(176, 188, t.fee)
        r.put(109, 110, t.movement, numeric=True).day(111, 116, t.paid_on).put(117, 126, t.seu_numero)
        r.day(147, 152, t.due_date).money(153, 165, t.face_value).money(241, 253, Decimal("0"))
        r.money(254, 266, t.paid).money(267, 279, t.interest).put(395, 400, i, numeric=True)
        out.append(str(r))
    out.append(str(Record(400).put(1, 1, "9").put(2, 2, "2").put(395, 400, len(out) + 1, numeric=True)))
    return ("\r\n".join(out) + "\r\n").encode("latin-1")


def ofx_statement(
    lines: list[dict[str, object]],
    *,
    version: int = 1,
    encoding: str = "latin-1",
    close_leaves: bool = False,
    bank_id: str = "0001",
    account: str = "12345-6",
) -> bytes:
    """An OFX statement (1.x SGML with unclosed leaf tags, or 2.x XML) with `lines`
    (`fitid`, `date`, `amount`, `memo`, `name`, `type`)."""

    def leaf(tag: str, value: object) -> str:
        return f"<{tag}>{value}</{tag}>" if close_leaves or version == 2 else f"<{tag}>{value}"

    rows = []
    for ln in lines:
        amount = Decimal(str(ln["amount"]))
        kind = str(ln.get("type") or ("CREDIT" if amount > 0 else "DEBIT"))
        posted = ln["date"]
        stamp = posted.strftime("%Y%m%d") + "120000[-3:BRT]" if isinstance(posted, date) else str(posted)
        parts = [
            leaf("TRNTYPE", kind),
            leaf("DTPOSTED", stamp),
            leaf("TRNAMT", f"{amount:.2f}"),
            leaf("FITID", ln["fitid"]),
        ]
        if ln.get("name"):
            parts.append(leaf("NAME", ln["name"]))
        if ln.get("memo"):
            parts.append(leaf("MEMO", ln["memo"]))
        rows.append("<STMTTRN>\n" + "\n".join(parts) + "\n</STMTTRN>")
    start = min((ln["date"] for ln in lines), default=date(2026, 12, 1))
    body = (
        "<OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>0</CODE>\n"
        + leaf("SEVERITY", "INFO")
        + "\n</STATUS>\n"
        + leaf("DTSERVER", "20261204120000[-3:BRT]")
        + "\n"
        + leaf("LANGUAGE", "POR")
        + "\n</SONRS>\n</SIGNONMSGSRSV1>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n"
        + leaf("TRNUID", "1")
        + "\n<STATUS>\n"
        + leaf("CODE", "0")
        + "\n"
        + leaf("SEVERITY", "INFO")
        + "\n</STATUS>\n<STMTRS>\n"
        + leaf("CURDEF", "BRL")
        + "\n<BANKACCTFROM>\n"
        + leaf("BANKID", bank_id)
        + "\n"
        + leaf("BRANCHID", "1234-5")
        + "\n"
        + leaf("ACCTID", account)
        + "\n"
        + leaf("ACCTTYPE", "CHECKING")
        + "\n</BANKACCTFROM>\n<BANKTRANLIST>\n"
        + leaf("DTSTART", (start if isinstance(start, date) else date(2026, 12, 1)).strftime("%Y%m%d"))
        + "\n"
        + leaf("DTEND", "20261204")
        + "\n"
        + "\n".join(rows)
        + "\n</BANKTRANLIST>\n<LEDGERBAL>\n"
        + leaf("BALAMT", "0.00")
        + "\n"
        + leaf("DTASOF", "20261204")
        + "\n</LEDGERBAL>\n</STMTRS>\n"
        + "</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n"
    )
    if version == 2:
        head = (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
        )
        return (head + body).encode("utf-8")
    charset = "1252" if encoding in ("cp1252", "latin-1") else "NONE"
    head = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
        f"CHARSET:{charset}\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
    )
    return (head + body).encode(encoding)


def days(start: date, n: int) -> date:
    return start + timedelta(days=n)
