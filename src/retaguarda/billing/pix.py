"""PIX BR Code ("copia e cola"): EMV QRCPS Merchant Presented Mode, built and parsed by us.

A BR Code is a flat string of TLV fields (2-digit id, 2-digit decimal length, value), with
templates 26 (Pix account: GUI + key) and 62 (additional data: txid in 05) nested the same way,
and a CRC-16/CCITT-FALSE over everything up to and including the literal ``6304`` as the last
field. Facts: reference gateways-payments.md section 5 (BCB manuals as quoted by ACBr and
Stark Bank test suites). Pure module: no I/O.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import string
import unicodedata
import uuid
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

PIX_GUI = "br.gov.bcb.pix"
NO_TXID = "***"
MAX_TXID = 25
MAX_NAME = 25
MAX_CITY = 15
MAX_KEY = 77
_TXID_RE = re.compile(r"^[A-Za-z0-9]{1,25}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_EVP_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_CPF_RE = re.compile(r"^[0-9]{11}$")
_CNPJ_RE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CENT = Decimal("0.01")
# Templates whose value is itself TLV (26-51 merchant account info, 62 additional data, 80-99).
_NESTED = {*(f"{i:02d}" for i in range(26, 52)), "62", *(f"{i:02d}" for i in range(80, 100))}


def crc16_ccitt_false(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout) as 4 uppercase hex."""
    # binascii.crc_hqx is exactly this CRC (XMODEM's poly and shift direction) with our init value.
    return f"{binascii.crc_hqx(data, 0xFFFF):04X}"


def pix_key_kind(key: str) -> str:
    """`email`, `cpf`, `cnpj`, `phone` or `evp` for a valid DICT key; ValueError otherwise.

    CNPJ keys accept the alphanumeric CNPJ (first 12 characters 0-9/A-Z) issued from July 2026.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY or key != key.strip():
        raise ValueError("pix key must be 1-77 characters without surrounding spaces")
    if _EVP_RE.match(key):
        return "evp"
    if _PHONE_RE.match(key):
        return "phone"
    if _CPF_RE.match(key):
        return "cpf"
    if _CNPJ_RE.match(key):
        return "cnpj"
    if _EMAIL_RE.match(key) and key.isascii():
        return "email"
    raise ValueError("pix key is not an e-mail, CPF, CNPJ, +55 phone or random (EVP) key")


def make_txid(invoice_id: str) -> str:
    """A deterministic txid (1-25 characters [A-Za-z0-9]) for an invoice id.

    UUIDs become their 22-character base62 form (injective); other ids keep their letters and
    digits when they fit in 25, else a 25-character base62 digest.
    """
    text = str(invoice_id).strip()
    if not text:
        raise ValueError("invoice id is empty")
    try:
        return _base62(uuid.UUID(text).int).rjust(22, "0")
    except ValueError:
        pass
    alnum = "".join(ch for ch in text if ch.isascii() and ch.isalnum())
    if alnum == text and len(alnum) <= MAX_TXID:
        return alnum
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:18], "big")
    return _base62(digest).rjust(MAX_TXID, "0")[:MAX_TXID]


def format_amount(amount: Decimal) -> str:
    """Field 54: half-even to cents, '.' as separator, no thousands separator (e.g. ``10.00``)."""
    try:
        value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError("amount is not a decimal") from exc
    if value <= 0:
        raise ValueError("amount must be positive")
    text = f"{value:f}"
    if len(text) > 13:
        raise ValueError("amount is too large for a BR Code")
    return text


def ascii_text(text: str, limit: int) -> str:
    """Accents stripped, printable ASCII only, collapsed spaces, cut to `limit` characters."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = " ".join("".join(ch for ch in folded if ch.isprintable()).split())
    return cleaned[:limit].rstrip()


def build_brcode(*, key: str, merchant_name: str, merchant_city: str, amount: Decimal | None,
                 txid: str, description: str | None = None) -> str:
    """A static BR Code for `key`, with amount (omitted when None) and txid (``***`` for none).

    Name and city are folded to ASCII and cut to 25/15 characters; the description (26.02) is cut
    so template 26 stays within 99 characters. Raises ValueError on a bad key, txid or amount.
    """
    pix_key_kind(key)
    if txid != NO_TXID and not _TXID_RE.match(txid or ""):
        raise ValueError("txid must be 1-25 characters [A-Za-z0-9] (or *** for none)")
    name = ascii_text(merchant_name or "", MAX_NAME)
    city = ascii_text(merchant_city or "", MAX_CITY)
    if not name:
        raise ValueError("merchant name is empty")
    if not city:
        raise ValueError("merchant city is empty")
    account = _tlv("00", PIX_GUI) + _tlv("01", key)
    if description:
        room = 99 - len(account) - 4
        info = ascii_text(description, room)
        if info:
            account += _tlv("02", info)
    body = (
        _tlv("00", "01")
        + _tlv("26", account)
        + _tlv("52", "0000")
        + _tlv("53", "986")
        + (_tlv("54", format_amount(amount)) if amount is not None else "")
        + _tlv("58", "BR")
        + _tlv("59", name)
        + _tlv("60", city)
        + _tlv("62", _tlv("05", txid))
        + "6304"
    )
    return body + crc16_ccitt_false(body.encode("ascii"))


def build_dynamic_brcode(*, location: str, merchant_name: str, merchant_city: str) -> str:
    """The BR Code of a PSP charge (`cob`, BCB API Pix): template 26 carries the charge's
    `location` (25, without scheme) instead of a key, point of initiation 12 (single use), no
    amount and txid ``***`` — the app fetches the payload (amount, txid) from the location."""
    loc = (location or "").strip()
    for scheme in ("https://", "http://"):
        if loc.lower().startswith(scheme):
            loc = loc[len(scheme):]
    if not loc or len(loc) > 77 or not loc.isascii():
        raise ValueError("location must be an ASCII URL of at most 77 characters")
    name = ascii_text(merchant_name or "", MAX_NAME)
    city = ascii_text(merchant_city or "", MAX_CITY)
    if not name or not city:
        raise ValueError("merchant name and city are required")
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")
        + _tlv("26", _tlv("00", PIX_GUI) + _tlv("25", loc))
        + _tlv("52", "0000")
        + _tlv("53", "986")
        + _tlv("58", "BR")
        + _tlv("59", name)
        + _tlv("60", city)
        + _tlv("62", _tlv("05", NO_TXID))
        + "6304"
    )
    return body + crc16_ccitt_false(body.encode("ascii"))


def parse_brcode(code: str) -> dict:
    """Parse and check a BR Code; raises ValueError on bad CRC, TLV structure or mandatory fields.

    Returns ``{"payload_format", "point_of_initiation", "gui", "key", "description", "url",
    "mcc", "currency", "amount" (Decimal | None), "country", "merchant_name", "merchant_city",
    "postal_code", "txid", "crc", "dynamic" (bool), "fields" (id -> raw value; templates as
    dicts)}``.
    """
    if not isinstance(code, str):
        raise ValueError("BR Code must be a string")
    code = code.strip()
    if len(code) < 8 or code[-8:-4] != "6304":
        raise ValueError("BR Code must end with the CRC field 6304XXXX")
    try:
        raw = code.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("BR Code must be ASCII") from exc
    expected = crc16_ccitt_false(raw[:-4])
    if code[-4:].upper() != expected:
        raise ValueError(f"CRC mismatch: code says {code[-4:]}, computed {expected}")
    fields = _parse_tlv(code, nested=True)
    order = list(fields)
    if not order or order[0] != "00" or fields["00"] != "01":
        raise ValueError("payload format indicator 00=01 must come first")
    if order[-1] != "63":
        raise ValueError("CRC field 63 must be last")
    account = next((v for k, v in fields.items() if k in _NESTED and k != "62" and isinstance(v, dict)
                    and str(v.get("00", "")).lower() == PIX_GUI), None)
    if account is None:
        raise ValueError("no Pix merchant account template (GUI br.gov.bcb.pix)")
    for required in ("52", "53", "58", "59", "60", "62"):
        if required not in fields:
            raise ValueError(f"mandatory field {required} is missing")
    if "05" not in fields["62"]:
        raise ValueError("additional data template 62 must contain the txid (05)")
    if "01" not in account and "25" not in account:
        raise ValueError("Pix template has neither a key (01) nor a URL (25)")
    amount = None
    if "54" in fields:
        if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", fields["54"]):
            raise ValueError("transaction amount 54 is malformed")
        amount = Decimal(fields["54"])
    return {
        "payload_format": fields["00"],
        "point_of_initiation": fields.get("01"),
        "gui": account["00"],
        "key": account.get("01"),
        "description": account.get("02"),
        "url": account.get("25"),
        "mcc": fields["52"],
        "currency": fields["53"],
        "amount": amount,
        "country": fields["58"],
        "merchant_name": fields["59"],
        "merchant_city": fields["60"],
        "postal_code": fields.get("61"),
        "txid": fields["62"]["05"],
        "crc": code[-4:].upper(),
        "dynamic": "25" in account or fields.get("01") == "12",
        "fields": fields,
    }


def verify_brcode(code: str) -> bool:
    """True when `code` parses and its CRC verifies."""
    try:
        parse_brcode(code)
    except ValueError:
        return False
    return True


def _tlv(ident: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {ident} is longer than 99 characters")
    return f"{ident}{len(value):02d}{value}"


def _parse_tlv(text: str, *, nested: bool) -> dict:
    fields: dict = {}
    pos = 0
    while pos < len(text):
        head = text[pos:pos + 4]
        if len(head) < 4 or not head.isdigit():
            raise ValueError(f"bad TLV header at position {pos}")
        ident, length = head[:2], int(head[2:])
        value = text[pos + 4:pos + 4 + length]
        if len(value) != length:
            raise ValueError(f"field {ident} is shorter than its length {length}")
        if ident in fields:
            raise ValueError(f"field {ident} appears twice")
        fields[ident] = _parse_tlv(value, nested=False) if nested and ident in _NESTED else value
        pos += 4 + length
    return fields


def _base62(number: int) -> str:
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 62)
        out.append(_BASE62[rest])
    return "".join(reversed(out))
