"""Boleto bancário (cobrança): 44-digit barcode, 47-digit linha digitável, ITF bars.

Barcode: bank(3) currency(1) DV(1, mod 11) factor(4) amount in cents(10) campo livre(25).
Linha digitável: three fields each closed by a mod-10 DV, then the barcode DV, then factor +
amount. The due-date factor counts days from 1997-10-07 and, having reached 9999 on
2025-02-21, restarted at 1000 on 2025-02-22 (cycles of 9000 days). Facts: reference
gateways-payments.md section 6 (Banco do Brasil Doc5175 and barcode standard). Pure module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

FACTOR_BASE = date(1997, 10, 7)
CYCLE_START = date(2000, 7, 3)  # factor 1000 of the first cycle; 2025-02-22 starts the second
CYCLE_DAYS = 9000
MAX_AMOUNT = Decimal("99999999.99")
_CENT = Decimal("0.01")

# ITF (interleaved 2 of 5): each digit is five elements, two of them wide.
ITF_DIGITS = {
    "0": "nnwwn", "1": "wnnnw", "2": "nwnnw", "3": "wwnnn", "4": "nnwnw",
    "5": "wnwnn", "6": "nwwnn", "7": "nnnww", "8": "wnnwn", "9": "nwnwn",
}
ITF_START = "nnnn"  # bar, space, bar, space (narrow)
ITF_STOP = "wnn"  # wide bar, narrow space, narrow bar


@dataclass(frozen=True)
class Boleto:
    """A bank boleto as printed: both representations plus what they encode."""

    barcode: str
    digitable_line: str
    due_date: date | None
    amount: Decimal
    bank_code: str = ""
    currency: str = "9"
    factor: int = 0
    free_field: str = ""

    @property
    def formatted_line(self) -> str:
        """``AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV`` as printed on the slip."""
        return format_digitable_line(self.digitable_line)


def mod10(digits: str) -> int:
    """FEBRABAN mod 10: weights 2,1,2,… from the right, digit-sum of each product."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_boleto(digits: str) -> int:
    """Barcode general DV: weights 2..9 from the right; 0, 10 and 11 become 1 (never 0)."""
    total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(digits)))
    dv = 11 - total % 11
    return 1 if dv in (0, 10, 11) else dv


def due_factor(d: date) -> int:
    """The 4-digit due-date factor, including the reset to 1000 on 2025-02-22."""
    if d >= CYCLE_START:
        return 1000 + (d - CYCLE_START).days % CYCLE_DAYS
    days = (d - FACTOR_BASE).days
    if days < 1:
        raise ValueError("due date before the factor base 1997-10-07")
    return days


def date_from_factor(f: int, today: date) -> date:
    """The date a factor stands for, choosing among its cycles the one nearest `today`.

    A factor names one day in each 9000-day cycle; the nearest one to today is the one a payer
    can mean (boletos are issued a few weeks, at most a few years, around their due date).
    """
    if not 1000 <= f <= 9999:
        if 1 <= f < 1000:
            return FACTOR_BASE + timedelta(days=f)
        raise ValueError("factor must be between 1 and 9999 (0 means no due date)")
    offset = f - 1000
    cycle = round(((today - CYCLE_START).days - offset) / CYCLE_DAYS)
    return CYCLE_START + timedelta(days=offset + max(cycle, 0) * CYCLE_DAYS)


def amount_field(amount: Decimal) -> str:
    """Ten digits of cents (half-even); ValueError when negative or above R$ 99.999.999,99."""
    try:
        value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError("amount is not a decimal") from exc
    if value < 0 or value > MAX_AMOUNT:
        raise ValueError("amount must be between 0 and 99999999.99")
    return f"{int(value * 100):010d}"


def make_boleto(*, bank_code: str, currency: str = "9", due_date: date | None, amount: Decimal,
                free_field: str) -> Boleto:
    """Barcode and linha digitável for one boleto; `due_date=None` gives factor 0000."""
    if not re.fullmatch(r"[0-9]{3}", bank_code or "") or bank_code[0] == "8":
        raise ValueError("bank code must be 3 digits (a leading 8 marks arrecadação codes)")
    if currency not in ("9", "0"):
        raise ValueError("currency must be 9 (real) or 0 (other)")
    if not re.fullmatch(r"[0-9]{25}", free_field or ""):
        raise ValueError("free field (campo livre) must be 25 digits")
    factor = due_factor(due_date) if due_date is not None else 0
    value = amount_field(amount)
    head, tail = bank_code + currency, f"{factor:04d}{value}{free_field}"
    barcode = head + str(mod11_boleto(head + tail)) + tail
    return Boleto(barcode=barcode, digitable_line=digitable_line_from_barcode(barcode),
                  due_date=due_date, amount=_cents(value), bank_code=bank_code,
                  currency=currency, factor=factor, free_field=free_field)


def digitable_line_from_barcode(barcode: str) -> str:
    """The 47 digits of the linha digitável (no punctuation) for a 44-digit barcode."""
    bc = _digits(barcode, 44, "barcode")
    f1 = bc[0:4] + bc[19:24]
    f2 = bc[24:34]
    f3 = bc[34:44]
    return f"{f1}{mod10(f1)}{f2}{mod10(f2)}{f3}{mod10(f3)}{bc[4]}{bc[5:19]}"


def barcode_from_digitable_line(line: str) -> str:
    """The 44-digit barcode a 47-digit linha encodes (check digits are not verified here)."""
    ln = _digits(line, 47, "digitable line")
    return ln[0:4] + ln[32] + ln[33:47] + ln[4:9] + ln[10:20] + ln[21:31]


def verify_barcode(barcode: str) -> None:
    """ValueError unless `barcode` is 44 digits whose mod-11 DV (position 5) verifies."""
    bc = _digits(barcode, 44, "barcode")
    if bc[0] == "8":
        raise ValueError("barcode starting with 8 is an arrecadação (utility) code, not a boleto")
    if int(bc[4]) != mod11_boleto(bc[:4] + bc[5:]):
        raise ValueError("barcode check digit (position 5) does not verify")


def verify_digitable_line(line: str) -> None:
    """ValueError unless the three mod-10 field DVs and the barcode DV all verify."""
    ln = _digits(line, 47, "digitable line")
    for name, body, dv in (("field 1", ln[0:9], ln[9]), ("field 2", ln[10:20], ln[20]),
                           ("field 3", ln[21:31], ln[31])):
        if mod10(body) != int(dv):
            raise ValueError(f"digitable line {name} check digit does not verify")
    verify_barcode(barcode_from_digitable_line(ln))


def parse_barcode(barcode: str, today: date | None = None) -> Boleto:
    """Check and decode a 44-digit barcode; `today` picks the factor's cycle (default: today)."""
    verify_barcode(barcode)
    bc = _digits(barcode, 44, "barcode")
    factor = int(bc[5:9])
    due = date_from_factor(factor, today or date.today()) if factor else None
    return Boleto(barcode=bc, digitable_line=digitable_line_from_barcode(bc), due_date=due,
                  amount=_cents(bc[9:19]), bank_code=bc[0:3], currency=bc[3],
                  factor=factor, free_field=bc[19:44])


def parse_digitable_line(line: str, today: date | None = None) -> Boleto:
    """Check and decode a linha digitável (punctuation and spaces allowed); ValueError if bad."""
    verify_digitable_line(line)
    return parse_barcode(barcode_from_digitable_line(line), today)


def format_digitable_line(line: str) -> str:
    """``10492.00650 61000.100042 00997.263900 9 89810000021403``."""
    ln = _digits(line, 47, "digitable line")
    return f"{ln[0:5]}.{ln[5:10]} {ln[10:15]}.{ln[15:21]} {ln[21:26]}.{ln[26:32]} {ln[32]} {ln[33:47]}"


def free_field_for(agreement: dict, our_number: int) -> str:
    """The 25-digit campo livre from the tenant's agreement data.

    Supported layout (``agreement["layout"]``, default ``"bb_convenio7"``): Banco do Brasil,
    convênio of 7 digits, nosso número of 17 digits = convênio + 10-digit sequence:
    ``000000`` + convênio(7) + sequence(10) + carteira(2). Agreement keys: ``convenio``
    (7 digits), ``carteira`` (2 digits, e.g. ``"17"`` or ``"18"``).
    """
    layout = agreement.get("layout", "bb_convenio7")
    if layout != "bb_convenio7":
        raise ValueError(f"unsupported boleto layout {layout!r}")
    convenio = str(agreement.get("convenio", ""))
    carteira = str(agreement.get("carteira", ""))
    if not re.fullmatch(r"[0-9]{7}", convenio):
        raise ValueError("agreement convenio must be 7 digits")
    if not re.fullmatch(r"[0-9]{2}", carteira):
        raise ValueError("agreement carteira must be 2 digits")
    if not isinstance(our_number, int) or not 0 < our_number < 10**10:
        raise ValueError("our number must be an integer between 1 and 9999999999")
    return f"000000{convenio}{our_number:010d}{carteira}"


def our_number_for(agreement: dict, our_number: int) -> str:
    """The printed nosso número (17 digits for BB convênio 7: convênio + sequence)."""
    return free_field_for(agreement, our_number)[6:23]


def itf_pattern(barcode: str) -> str:
    """ITF elements for a digit string: ``n``/``w`` alternating bar, space, bar, … from the start code.

    Digits are paired: the first of each pair is drawn by the bars, the second by the spaces.
    """
    digits = barcode if len(barcode) % 2 == 0 else "0" + barcode
    if not digits.isdigit():
        raise ValueError("ITF encodes digits only")
    parts = [ITF_START]
    for i in range(0, len(digits), 2):
        bars, spaces = ITF_DIGITS[digits[i]], ITF_DIGITS[digits[i + 1]]
        parts.append("".join(b + s for b, s in zip(bars, spaces)))
    parts.append(ITF_STOP)
    return "".join(parts)


def decode_itf_pattern(pattern: str) -> str:
    """Inverse of `itf_pattern` (used to check rendered bars); ValueError when malformed."""
    if not pattern.startswith(ITF_START) or not pattern.endswith(ITF_STOP):
        raise ValueError("missing ITF start or stop code")
    body = pattern[len(ITF_START):-len(ITF_STOP)]
    if len(body) % 10:
        raise ValueError("ITF body is not a whole number of digit pairs")
    reverse = {v: k for k, v in ITF_DIGITS.items()}
    out = []
    for i in range(0, len(body), 10):
        chunk = body[i:i + 10]
        try:
            out.append(reverse[chunk[0::2]] + reverse[chunk[1::2]])
        except KeyError as exc:
            raise ValueError("invalid ITF digit pattern") from exc
    return "".join(out)


# --- Arrecadação (utility/tax slips: barcodes starting with 8, FEBRABAN layout v06) -------------

def mod11_arrecadacao(digits: str) -> int:
    """Arrecadação mod 11: weights 2..9 from the right; remainder 0 or 1 → 0, remainder 10 → 1."""
    rest = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(digits))) % 11
    return 0 if rest in (0, 1) else 1 if rest == 10 else 11 - rest


def _arrecadacao_dv(digits: str, value_id: str) -> int:
    if value_id in "67":
        return mod10(digits)
    if value_id in "89":
        return mod11_arrecadacao(digits)
    raise ValueError("arrecadação value id (position 3) must be 6, 7, 8 or 9")


def arrecadacao_line_from_barcode(barcode: str) -> str:
    """The 48-digit linha of an arrecadação barcode: four blocks of 11 digits, each + its DV."""
    bc = _digits(barcode, 44, "barcode")
    return "".join(bc[i:i + 11] + str(_arrecadacao_dv(bc[i:i + 11], bc[2])) for i in range(0, 44, 11))


def parse_arrecadacao(code: str) -> dict:
    """Check and decode an arrecadação barcode (44) or linha (48); ValueError when a DV fails.

    Returns ``{"barcode", "digitable_line", "segment", "value_id", "amount" (Decimal, or None for
    reference values 7/9), "free_field"}``.
    """
    digits = re.sub(r"[\s.\-]", "", code or "")
    if len(digits) == 48:
        blocks = [digits[i:i + 12] for i in range(0, 48, 12)]
        barcode = "".join(block[:11] for block in blocks)
        if barcode[0] != "8":
            raise ValueError("arrecadação codes start with 8")
        for n, block in enumerate(blocks, 1):
            if _arrecadacao_dv(block[:11], barcode[2]) != int(block[11]):
                raise ValueError(f"arrecadação block {n} check digit does not verify")
    else:
        barcode = _digits(digits, 44, "arrecadação barcode")
    if barcode[0] != "8":
        raise ValueError("arrecadação codes start with 8")
    if _arrecadacao_dv(barcode[:3] + barcode[4:], barcode[2]) != int(barcode[3]):
        raise ValueError("arrecadação general check digit (position 4) does not verify")
    value_id = barcode[2]
    return {"barcode": barcode, "digitable_line": arrecadacao_line_from_barcode(barcode),
            "segment": barcode[1], "value_id": value_id,
            "amount": _cents(barcode[4:15]) if value_id in "68" else None, "free_field": barcode[19:44]}


def _cents(digits: str) -> Decimal:
    return (Decimal(int(digits)) / 100).quantize(_CENT)


def _digits(text: str, size: int, what: str) -> str:
    digits = re.sub(r"[\s.\-]", "", text or "")
    if not re.fullmatch(rf"[0-9]{{{size}}}", digits):
        raise ValueError(f"{what} must have {size} digits")
    return digits
