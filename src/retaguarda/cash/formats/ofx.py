"""OFX statements: 1.x SGML (unclosed leaf tags, latin-1/cp1252) and 2.x XML, streamed.

The file is read in chunks and cut into `<STMTTRN>` aggregates; each one is tokenised by
ofxtools' `TreeBuilder` (which accepts unclosed leaf tags and decodes entities), so memory
stays flat however long the statement is. Field conversion is ours because Brazilian banks
send a decimal comma, `00000000` dates and dates without a UTC offset (local time, −03:00).
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.etree import ElementTree as ET

from retaguarda.cash.formats import FileFormatError, Line, references_in

CHUNK = 64 * 1024
BRT = timezone(timedelta(hours=-3))
_CHARSET_RE = re.compile(rb"CHARSET:\s*([A-Za-z0-9_\-]+)|encoding=[\"']([A-Za-z0-9_\-]+)[\"']", re.I)
_OPEN = re.compile(r"<STMTTRN>", re.I)
_END = re.compile(r"</STMTTRN>|<STMTTRN>|</BANKTRANLIST>", re.I)
_DATE_RE = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?(?:\.\d+)?)?(?:\[([+-]?\d+(?:\.\d+)?)(?::[^\]]*)?\])?$"
)
DEBIT_TYPES = {"DEBIT", "FEE", "SRVCHG", "ATM", "POS", "CHECK", "PAYMENT", "CASH", "DIRECTDEBIT", "REPEATPMT"}


def _codec(head: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (banks mislabel it), else the declared charset."""
    try:
        head.decode("utf-8")
        valid_utf8 = True
    except UnicodeDecodeError as exc:
        valid_utf8 = exc.start > len(head) - 4  # a character cut at the end of the sample
    if valid_utf8:
        return "utf-8"
    m = _CHARSET_RE.search(head[:2048])
    declared = (m.group(1) or m.group(2)).decode().upper() if m else ""
    if declared in ("1252", "CP1252", "WINDOWS-1252"):
        return "cp1252"
    return "latin-1"


def parse_ofx_date(text: str, line: int, tag: str) -> datetime | None:
    """`YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]`; no offset → Brazil local (−03:00); zeros → None."""
    value = (text or "").strip()
    if not value or value.startswith("00000000"):
        return None
    m = _DATE_RE.match(value)
    if not m:
        raise FileFormatError(line, f"{tag} {value!r} is not an OFX date")
    y, mo, d, hh, mi, ss, off = m.groups()
    tz = BRT if off is None else timezone(timedelta(hours=float(off)))
    try:
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), tzinfo=tz)
    except ValueError:
        raise FileFormatError(line, f"{tag} {value!r} is not a valid date") from None


def parse_ofx_amount(text: str, line: int) -> Decimal:
    raw = (text or "").strip().replace(" ", "")
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FileFormatError(line, f"TRNAMT {text!r} is not an amount") from None
    if not value.is_finite():
        raise FileFormatError(line, f"TRNAMT {text!r} is not an amount")
    return value.quantize(Decimal("0.01"))


class _Leaves(dict[str, str]):
    """The leaf elements of a flat `<STMTTRN>` (first value of each tag), read like an Element."""

    def findtext(self, tag: str, default: str | None = None) -> str | None:
        return self.get(tag, default)


_LEAF_RE: re.Pattern[str] | None = None


def _leaves(body: str) -> _Leaves | None:
    """Fast path for the usual transaction, only leaf elements (`<TAG>value`, closed or not):
    ofxtools' own tag expression without building a tree (its builder logs every tag, the cost of
    a big import). Anything else — a nested aggregate, an empty element, stray text — returns
    None and goes through ofxtools' `TreeBuilder`, which reports the error the same way."""
    global _LEAF_RE
    if _LEAF_RE is None:
        from ofxtools.Parser import TreeBuilder

        _LEAF_RE = TreeBuilder.regex
    first = body.find("<")
    if first < 0 or body[:first].strip():
        return None
    out = _Leaves()
    end = first
    for m in _LEAF_RE.finditer(body, first):
        if m.start() != end:
            return None  # something the expression skipped: let ofxtools decide
        end = m.end()
        tag = m.group("tag")
        text = m.group("cdata") or (m.group("text") or "").strip()
        if tag.startswith("/") or not text or (m.group("tail") or "").strip():
            return None
        if tag not in out:
            out[tag] = text
    if end != len(body):
        return None
    return out


def _element(block: str, line: int) -> ET.Element:
    from ofxtools.Parser import ParseError, TreeBuilder

    builder = TreeBuilder()
    try:
        builder.feed(block)
        return builder.close()
    except (ParseError, ET.ParseError, IndexError, AssertionError) as exc:
        raise FileFormatError(line, f"unreadable transaction: {exc}") from None


def _line_of(elem: ET.Element | _Leaves, line: int, block: str = "") -> Line:
    def text(tag: str) -> str:
        return html.unescape(elem.findtext(tag) or "").strip()  # &amp; &lt; … in SGML text

    def at(tag: str) -> int:
        """The physical line of `<tag>` inside the transaction (errors name it exactly)."""
        pos = block.upper().find(f"<{tag}>")
        return line + block.count("\n", 0, pos) if pos >= 0 else line

    trntype = text("TRNTYPE").upper()
    if not text("TRNAMT"):
        raise FileFormatError(line, "transaction without TRNAMT")
    # The exact line of a field is looked up only for an error (a second call that raises it).
    try:
        amount = parse_ofx_amount(text("TRNAMT"), line)
    except FileFormatError:
        amount = parse_ofx_amount(text("TRNAMT"), at("TRNAMT"))
    posted = _date(text, at, "DTPOSTED", line) or _date(text, at, "DTUSER", line)
    if posted is None:
        raise FileFormatError(line, "transaction without DTPOSTED")
    if amount > 0 and trntype in DEBIT_TYPES:
        amount = -amount  # some exporters send absolute values
    memo, name = text("MEMO"), text("NAME")
    refs = references_in(memo, name, text("REFNUM"))
    return Line(
        line_no=line,
        posted_on=posted.astimezone(BRT).date(),
        posted_at=posted,
        amount=abs(amount),
        kind="debit" if amount < 0 else "credit",
        source="statement",
        fitid=text("FITID")[:255],
        memo=memo[:255],
        name=name[:120],
        payer_document=refs.get("payer_document", ""),
        txid=refs.get("txid", ""),
        e2eid=refs.get("e2eid", ""),
        extra={"trntype": trntype, "checknum": text("CHECKNUM")},
    )


def _date(text: Any, at: Any, tag: str, line: int) -> datetime | None:
    try:
        return parse_ofx_date(text(tag), line, tag)
    except FileFormatError:
        return parse_ofx_date(text(tag), at(tag), tag)


def read_ofx(stream: IO[bytes]) -> Iterator[Line]:
    head = stream.read(CHUNK)
    if not head.strip():
        raise FileFormatError(1, "the file is empty")
    codec = _codec(head)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    buf = decoder.decode(head)
    upper_head = buf[:4096].upper()
    if "<OFX>" not in upper_head and "OFXHEADER" not in upper_head and "<?OFX" not in upper_head:
        raise FileFormatError(1, "not an OFX file (no OFX header)")
    consumed_lines = 1  # physical line number of buf[0]
    seen_ofx = "<OFX>" in buf.upper()
    found_any = False
    eof = False
    while True:
        m = _OPEN.search(buf)
        if m is None:
            if eof:
                break
            keep = buf[-16:]
            consumed_lines += buf[: len(buf) - len(keep)].count("\n")
            chunk = stream.read(CHUNK)
            if not chunk:
                eof = True
                buf = keep + decoder.decode(b"", final=True)
            else:
                buf = keep + decoder.decode(chunk)
            seen_ofx = seen_ofx or "<OFX>" in buf.upper()
            continue
        start_line = consumed_lines + buf.count("\n", 0, m.start())
        end = _END.search(buf, m.end())
        while end is None and not eof:
            chunk = stream.read(CHUNK)
            if not chunk:
                eof = True
                buf += decoder.decode(b"", final=True)
            else:
                buf += decoder.decode(chunk)
            end = _END.search(buf, m.end())
        if end is None:
            raise FileFormatError(
                start_line, "transaction <STMTTRN> is not closed before the end of the file"
            )
        body = buf[m.end() : end.start()]
        if "<" not in body:
            raise FileFormatError(start_line, "empty <STMTTRN>")
        elem = _leaves(body) or _element("<STMTTRN>" + body + "</STMTTRN>", start_line)
        yield _line_of(elem, start_line, "<STMTTRN>" + body)
        found_any = True
        cut = end.end() if end.group(0).upper() == "</STMTTRN>" else end.start()
        consumed_lines += buf.count("\n", 0, cut)
        buf = buf[cut:]
    if not seen_ofx:
        raise FileFormatError(1, "not an OFX file (no <OFX> element)")
    if not found_any:
        return


def account_of(head: bytes) -> dict[str, str]:
    """BANKID/BRANCHID/ACCTID of the statement (from the first bytes), for a friendly check."""
    text = head.decode("latin-1")
    out = {}
    for tag in ("BANKID", "BRANCHID", "ACCTID", "CURDEF"):
        m = re.search(rf"<{tag}>\s*([^<\r\n]+)", text, re.I)
        if m:
            out[tag.lower()] = m.group(1).strip()
    return out
