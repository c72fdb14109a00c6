"""What each payment method charges today.

The invoice records its PIX BR Code and boleto when it is issued, for the amount then open. Once the
due date passes (or a part is paid) the amount due today differs: fine and interest pro rata die.

- PIX carries exactly the amount due today: the issued BR Code is re-encoded with the same key,
  merchant, city and txid and tag 54 = amount due (a static code has no "due date" of its own).
- The boleto keeps its printed amount and due date (FEBRABAN: the barcode's factor and amount are
  fixed); after the due date the bank adds the fine and interest registered with the charge, so
  the page says so instead of pretending the line carries today's amount.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from retaguarda.billing.pix import build_brcode, parse_brcode


def pix_for_amount(pix: dict[str, Any] | None, amount: Decimal) -> dict[str, Any] | None:
    """The issued PIX re-encoded for `amount` (None when there is no PIX or nothing to pay)."""
    if not pix or not pix.get("brcode") or amount <= 0:
        return None
    if pix.get("dynamic"):
        # A PSP charge (cob) carries its amount: shown while it is the amount due; otherwise the
        # static code (kept beside it) is re-encoded for today's amount.
        if Decimal(str(pix.get("amount") or "0")) == amount or not pix.get("static_brcode"):
            return dict(pix)
        pix = {"brcode": pix["static_brcode"], "txid": parse_brcode(pix["static_brcode"])["txid"]}
    parsed = parse_brcode(pix["brcode"])
    if parsed.get("amount") == amount or not parsed.get("key"):  # a gateway's dynamic code stays as is
        return dict(pix)
    brcode = build_brcode(key=parsed["key"], merchant_name=parsed["merchant_name"],
                          merchant_city=parsed["merchant_city"], amount=amount, txid=parsed["txid"],
                          description=parsed.get("description") or None)
    return {**pix, "brcode": brcode, "amount": f"{amount:.2f}"}


def group_digitable_line(line: str) -> str:
    """The 47-digit line as printed on a boleto: `AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV`."""
    d = "".join(ch for ch in str(line) if ch.isdigit())
    if len(d) != 47:
        return str(line)
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"


def charges_due(inv: Any, today: date, terms: Any) -> dict[str, Any]:
    """`amount_due` (fine and interest included), the PIX for it, and the boleto as printed with
    the rule that applies to it."""
    amount_due = inv.due_on(today, terms)
    boleto = dict(inv.boleto) if inv.boleto else None
    if boleto is not None:
        boleto["after_due_date"] = bool(inv.due_date and today > inv.due_date)
        boleto["grouped_line"] = group_digitable_line(boleto.get("digitable_line", ""))
    return {"amount_due": amount_due, "pix": pix_for_amount(inv.pix, amount_due), "boleto": boleto}
