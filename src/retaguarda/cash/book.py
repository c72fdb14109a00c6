"""Cash book exports (CSV with `;` and Brazilian decimals, XLSX) and the balance chart (SVG)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from retaguarda.i18n import _, format_money

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Neutralises text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(book: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for acc in book["accounts"]:
        for d in acc["days"]:
            rows.append(
                [acc["name"], d["date"].strftime("%d/%m/%Y"), d["credits"], d["debits"], d["balance"]]
            )
    return rows


def header() -> list[str]:
    return [_("Account"), _("Date"), _("Credits"), _("Debits"), _("Balance")]


def to_csv(book: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(header())
    for r in _rows(book):
        w.writerow([_cell(r[0]), r[1], *(f"{v:.2f}".replace(".", ",") for v in r[2:])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(book: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Cash book")[:31]
    ws.append(header())
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in _rows(book):
        ws.append([_cell(r[0]), r[1], *r[2:]])
        for c in ws[ws.max_row][2:]:
            c.number_format = "#,##0.00"
    rec = wb.create_sheet(_("Reconciliation")[:31])
    rec.append([_("Status"), _("Count"), _("Amount")])
    for status in ("matched", "unmatched", "not_revenue"):
        item = book["reconciliation"].get(status, {"count": 0, "amount": Decimal("0")})
        rec.append([status, item["count"], item["amount"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def balance_svg(book: dict[str, Any], width: int = 640, height: int = 220) -> str:
    """A line per account of the daily balance; pure SVG (no script), scales to its container."""
    series = [(a["name"], [d["balance"] for d in a["days"]]) for a in book["accounts"] if a["days"]]
    if not series:
        return ""
    values = [v for _, vs in series for v in vs]
    lo, hi = min([*values, Decimal("0")]), max([*values, Decimal("0")])
    span = (hi - lo) or Decimal("1")
    pad_l, pad_b, pad_t = 70, 24, 12
    w, h = width - pad_l - 8, height - pad_b - pad_t
    n = max(len(vs) for _, vs in series)
    colors = ("#1f6feb", "#2da44e", "#bf8700", "#cf222e")

    def x(i: int) -> float:
        return pad_l + (w * i / max(n - 1, 1))

    def y(v: Decimal) -> float:
        return pad_t + float((hi - v) / span) * h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(_("Balance per day"))}" class="cash-chart" preserveAspectRatio="none">'
    ]
    zero = y(Decimal("0"))
    parts.append(
        f'<line x1="{pad_l}" y1="{zero:.1f}" x2="{width - 8}" y2="{zero:.1f}" stroke="#999" '
        'stroke-dasharray="3 3"/>'
    )
    for label_v in (hi, lo):
        parts.append(
            f'<text x="{pad_l - 6}" y="{y(label_v) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(format_money(label_v))}</text>"
        )
    for idx, (name, vs) in enumerate(series):
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs))
        color = colors[idx % len(colors)]
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    days = book["accounts"][0]["days"]
    for i in (0, len(days) - 1):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="{"start" if i == 0 else "end"}" '
            f'font-size="11">{days[i]["date"].strftime("%d/%m")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
