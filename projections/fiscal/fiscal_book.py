"""Fiscal book of services (livro fiscal) by competence month.

Every note that was ever authorized is a line of its competence month; a cancelled note stays
listed as cancelled and is excluded from the totals. Totals are summed in Python with Decimal
(never SQL SUM over text/float), so they equal the sum of the lines to the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from projections.fiscal.nfse_list import text_money
from retaguarda.fiscal.domain import Nfse
from retaguarda.shared.clock import as_utc

MONEY = sa.String(20)
BOOK_STATUSES = ("authorized", "cancelled")
TOTAL_KEYS = ("amount", "deductions", "base", "iss", "iss_withheld", "cbs", "ibs", "net")

book_lines = sa.Table(
    "fiscal_book",
    metadata,
    sa.Column("nfse_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("competence", sa.Date, nullable=False),
    sa.Column("number", sa.String(20)),
    sa.Column("access_key", sa.String(60)),
    sa.Column("series", sa.String(5)),
    sa.Column("dps_number", sa.BigInteger),
    sa.Column("authorized_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("tomador_name", sa.String(200), nullable=False),
    sa.Column("tomador_document", sa.String(14), nullable=False),
    sa.Column("service_code", sa.String(6), nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("deductions", MONEY, nullable=False),
    sa.Column("base", MONEY, nullable=False),
    sa.Column("iss_rate", MONEY, nullable=False),
    sa.Column("iss", MONEY, nullable=False),
    sa.Column("iss_withheld", sa.Boolean, nullable=False),
    sa.Column("cbs", MONEY, nullable=False),
    sa.Column("ibs", MONEY, nullable=False),
)
sa.Index(None, book_lines.c.tenant_id, book_lines.c.month, book_lines.c.status)


def _values(amount: Any, deductions: Any, iss_rate: Any, iss_withheld: Any, taxes: Any,
            competence: Any, tomador: Any, service: Any) -> dict[str, Any]:
    comp = competence if isinstance(competence, date) else date.fromisoformat(str(competence))
    return dict(
        month=comp.strftime("%Y-%m"), competence=comp, tomador_name=tomador["name"],
        tomador_document=tomador["document"], service_code=service["code"], amount=text_money(amount),
        deductions=text_money(deductions), base=text_money(taxes["iss_base"]),
        iss_rate=text_money(iss_rate), iss=text_money(taxes["iss"]), iss_withheld=bool(iss_withheld),
        cbs=text_money(taxes["cbs"]), ibs=text_money(taxes["ibs"]))


class FiscalBook(Projection):
    """Keeps every note's data from its draft on (status `draft` lines are not in the book)."""

    name = "fiscal_book"
    tables = (book_lines,)

    @handles(Nfse.Drafted)
    def drafted(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(book_lines, dict(nfse_id=str(e.originator_id), tenant_id=e.tenant_id, status="draft",
                                  **_values(e.amount, e.deductions, e.iss_rate, e.iss_withheld, e.taxes,
                                            e.competence, e.tomador, e.service)))

    @handles(Nfse.Corrected)
    def corrected(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(book_lines, {"nfse_id": str(env.event.originator_id)})
        if row is None:
            return
        c = env.event.changes
        current = dict(row._mapping)
        taxes = c.get("taxes") or {"iss_base": current["base"], "iss": current["iss"],
                                   "cbs": current["cbs"], "ibs": current["ibs"]}
        values = _values(
            c.get("amount", current["amount"]), c.get("deductions", current["deductions"]),
            c.get("iss_rate", current["iss_rate"]), c.get("iss_withheld", current["iss_withheld"]),
            taxes, c.get("competence", current["competence"]),
            c.get("tomador") or {"name": current["tomador_name"], "document": current["tomador_document"]},
            c.get("service") or {"code": current["service_code"]})
        w.update(book_lines, {"nfse_id": current["nfse_id"]}, values)

    @handles(Nfse.EmissionRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(book_lines, {"nfse_id": str(e.originator_id)},
                 {"series": e.series, "dps_number": e.dps_number})

    @handles(Nfse.Authorized)
    def authorized(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(book_lines, {"nfse_id": str(e.originator_id)},
                 {"status": "authorized", "number": e.number or None, "access_key": e.access_key or None,
                  "authorized_at": e.authorized_at})

    @handles(Nfse.Cancelled)
    def cancelled(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(book_lines, {"nfse_id": str(e.originator_id)},
                 {"status": "cancelled", "cancelled_at": e.cancelled_at})


def _line(r: Any) -> dict[str, Any]:
    row = dict(r._mapping)
    row["authorized_at"] = as_utc(row["authorized_at"])
    row["cancelled_at"] = as_utc(row["cancelled_at"])
    row["iss_withheld_value"] = row["iss"] if row["iss_withheld"] else "0.00"
    row["net"] = str(Decimal(row["amount"]) - Decimal(row["iss_withheld_value"]))
    return row


def book(conn: Connection, tenant_id: str, month: str) -> dict[str, Any]:
    """{competence, items, totals, cancelled_totals, count, cancelled}; amounts as decimal strings."""
    t = book_lines
    rows = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.month == month,
                                           t.c.status.in_(BOOK_STATUSES))
                        .order_by(t.c.authorized_at, t.c.dps_number, t.c.nfse_id)).all()
    items = [_line(r) for r in rows]
    totals = {k: Decimal("0.00") for k in TOTAL_KEYS}
    cancelled = {k: Decimal("0.00") for k in TOTAL_KEYS}
    for item in items:
        target = totals if item["status"] == "authorized" else cancelled
        for key in TOTAL_KEYS:
            source = "iss_withheld_value" if key == "iss_withheld" else key
            target[key] += Decimal(item[source])
    return {
        "competence": month, "items": items,
        "totals": {k: str(v) for k, v in totals.items()},
        "cancelled_totals": {k: str(v) for k, v in cancelled.items()},
        "count": sum(1 for i in items if i["status"] == "authorized"),
        "cancelled": sum(1 for i in items if i["status"] == "cancelled"),
    }


def months(conn: Connection, tenant_id: str, limit: int = 24) -> list[str]:
    t = book_lines
    rows = conn.execute(sa.select(t.c.month).where(t.c.tenant_id == tenant_id,
                                                   t.c.status.in_(BOOK_STATUSES))
                        .group_by(t.c.month).order_by(t.c.month.desc()).limit(limit)).all()
    return [r.month for r in rows]
