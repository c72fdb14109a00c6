"""Invoice PDF (fpdf2): header, customer, items, totals, PIX QR + copy-paste, boleto line + ITF bars.

`render_invoice_pdf(view)` takes a plain dict (built by the application from the invoice read
model), so rendering needs no database and is easy to test:

    {"tenant": {"name", "document", "address"}, "customer": {"name", "document", "address", "email"},
     "number", "issue_date", "due_date", "status",
     "items": [{"description", "quantity", "unit_price", "total"}],
     "discounts": [{"description", "amount"}] | Decimal, "subtotal"?, "total",
     "fine_interest_note"?, "paid", "balance", "pix": {"brcode", "txid"?} | None,
     "boleto": {"digitable_line", "barcode"} | None, "payment_url"?, "notes"?}

Amounts may be Decimal, int or decimal strings; dates may be `date` or ISO strings.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from retaguarda.billing.boleto import format_digitable_line, itf_pattern
from retaguarda.i18n import gettext as _
from retaguarda.i18n import label as status_label

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PAGE_W = 210
MARGIN = 15
CONTENT_W = PAGE_W - 2 * MARGIN
# Boleto bars: 103 mm wide and 13 mm high (BB spec); ITF narrow:wide = 1:3 → 405 narrow units.
BARCODE_W = 103.0
BARCODE_H = 13.0
STATUS_COLOURS = {
    "paid": (22, 128, 61), "partially_paid": (180, 110, 0), "overdue": (190, 30, 30),
    "cancelled": (110, 110, 110), "issued": (30, 80, 160), "draft": (110, 110, 110),
}


def render_invoice_pdf(view: dict, locale: str | None = None) -> bytes:
    """The invoice as PDF bytes (A4, one page for typical invoices; items flow onto more pages).

    A document for the customer: in `locale`, else view["locale"], else pt_BR (never the API's
    English default)."""
    from retaguarda.i18n import DEFAULT_LOCALE, use_locale

    with use_locale(locale or view.get("locale") or DEFAULT_LOCALE):
        pdf = _InvoicePdf()
        pdf.render(view)
        return bytes(pdf.output())


def money(value: Any) -> str:
    """``R$ 1.234,56`` (Brazilian separators), from Decimal/str/int; half-even to cents."""
    raw = Decimal(str(value if value is not None else "0"))
    amount = raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}R$ {groups},{cents}"


def quantity(value: Any) -> str:
    q = Decimal(str(value if value is not None else "1")).normalize()
    text = f"{q:f}"
    return text.replace(".", ",")


def br_date(value: Any) -> str:
    if value in (None, ""):
        return "-"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def format_document(value: str | None) -> str:
    """CPF ``123.456.789-09`` or CNPJ ``12.ABC.345/01DE-35`` when the digits fit; else as given."""
    raw = "".join(ch for ch in (value or "") if ch.isalnum()).upper()
    if len(raw) == 11 and raw.isdigit():
        return f"{raw[:3]}.{raw[3:6]}.{raw[6:9]}-{raw[9:]}"
    if len(raw) == 14:
        return f"{raw[:2]}.{raw[2:5]}.{raw[5:8]}/{raw[8:12]}-{raw[12:]}"
    return value or ""


class _InvoicePdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        self.footer_text = ""
        if (FONT_DIR / "DejaVuSans.ttf").exists():
            self.add_font("Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("Sans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.add_font("Mono", "", str(FONT_DIR / "DejaVuSansMono.ttf"))
            self.sans, self.mono, self.unicode = "Sans", "Mono", True
        else:  # core fonts: Latin-1 only
            self.sans, self.mono, self.unicode = "helvetica", "courier", False

    # fpdf2 hook
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.sans, "", 7)
        self.set_text_color(120)
        self.cell(0, 5, self._t(f"{self.footer_text}    " + _("page %(page)s", page=self.page_no()) + "/{nb}"), align="C")

    def _t(self, text: Any) -> str:
        value = "" if text is None else str(text)
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def render(self, view: dict) -> None:
        tenant = view.get("tenant") or {}
        customer = view.get("customer") or {}
        number = view.get("number", "")
        self.footer_text = f"{tenant.get('name', '')} - " + _("invoice %(number)s", number=number)
        self.set_title(_("Invoice %(number)s", number=number))
        self.set_author(str(tenant.get("name", "")))
        self.add_page()
        self._header(view, tenant)
        self._parties(tenant, customer)
        self._items(view)
        self._totals(view)
        if view.get("pix") and view["pix"].get("brcode"):
            self._pix(view["pix"])
        if view.get("boleto") and view["boleto"].get("barcode"):
            self._boleto(view["boleto"], view, tenant)
        if view.get("payment_url"):
            self.ln(3)
            self.set_font(self.sans, "", 8)
            self.set_text_color(60)
            self.multi_cell(CONTENT_W, 4, self._t(_("Pay online: %(url)s", url=view["payment_url"])))

    def _header(self, view: dict, tenant: dict) -> None:
        top = self.get_y()
        self.set_font(self.sans, "B", 16)
        self.set_text_color(20)
        self.multi_cell(110, 7, self._t(tenant.get("name", "")), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.sans, "", 8.5)
        self.set_text_color(70)
        if tenant.get("document"):
            self.multi_cell(110, 4.2, self._t(f"CNPJ/CPF {format_document(tenant['document'])}"),
                            new_x="LMARGIN", new_y="NEXT")
        if tenant.get("address"):
            self.multi_cell(110, 4.2, self._t(tenant["address"]), new_x="LMARGIN", new_y="NEXT")
        left_bottom = self.get_y()
        # Right block: number, dates, status.
        x = MARGIN + 115
        self.set_xy(x, top)
        self.set_font(self.sans, "B", 14)
        self.set_text_color(20)
        self.cell(CONTENT_W - 115, 7, self._t(_("Invoice %(number)s", number=view.get("number", ""))), align="R",
                  new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.sans, "", 9)
        dates = ((_("Issued"), br_date(view.get("issue_date"))), (_("Due"), br_date(view.get("due_date"))))
        for label, value in dates:
            self.set_x(x)
            self.cell(CONTENT_W - 115, 5, self._t(f"{label}: {value}"), align="R",
                      new_x="LMARGIN", new_y="NEXT")
        status = str(view.get("status") or "")
        if status:
            colour = STATUS_COLOURS.get(status, (60, 60, 60))
            label = status_label(status).upper()
            self.set_font(self.sans, "B", 9)
            width = self.get_string_width(label) + 6
            self.set_xy(MARGIN + CONTENT_W - width, self.get_y() + 1)
            self.set_fill_color(*colour)
            self.set_text_color(255)
            self.cell(width, 6, self._t(label), align="C", fill=True)
        self.set_y(max(left_bottom, self.get_y() + 7) + 2)
        self.set_draw_color(200)
        self.line(MARGIN, self.get_y(), MARGIN + CONTENT_W, self.get_y())
        self.ln(3)

    def _parties(self, tenant: dict, customer: dict) -> None:
        self.set_text_color(110)
        self.set_font(self.sans, "B", 7.5)
        self.cell(0, 4, self._t(_("BILL TO")), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(20)
        self.set_font(self.sans, "B", 10.5)
        self.multi_cell(CONTENT_W, 5, self._t(customer.get("name", "")), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.sans, "", 8.5)
        self.set_text_color(60)
        document = format_document(customer.get("document"))
        details = [document and f"CPF/CNPJ {document}", customer.get("address"), customer.get("email")]
        for line in filter(None, details):
            self.multi_cell(CONTENT_W, 4.2, self._t(line), new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def _items(self, view: dict) -> None:
        widths = (CONTENT_W - 20 - 32 - 32, 20, 32, 32)
        self._items_header(widths)
        items = view.get("items") or []
        if not items:
            self.cell(CONTENT_W, 7, self._t(_("No items.")), new_x="LMARGIN", new_y="NEXT")
        for item in items:
            total = item.get("total")
            if total is None:
                total = Decimal(str(item.get("quantity", 1))) * Decimal(str(item.get("unit_price", 0)))
            text = self._t(item.get("description", ""))
            lines = self.multi_cell(widths[0] - 1, 5, text, dry_run=True, output="LINES")
            row_h = max(1, len(lines)) * 5 + 1.5
            if self.get_y() + row_h > self.page_break_trigger:
                self.add_page()
                self._items_header(widths)  # repeat the column heads on continuation pages
            y = self.get_y()
            self.set_xy(MARGIN, y + 0.75)
            self.multi_cell(widths[0] - 1, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
            self.set_xy(MARGIN + widths[0], y + 0.75)
            self.cell(widths[1], 5, quantity(item.get("quantity", 1)), align="R")
            self.cell(widths[2], 5, money(item.get("unit_price")), align="R")
            self.cell(widths[3], 5, money(total), align="R")
            self.set_y(y + row_h)
            self.set_draw_color(230)
            self.line(MARGIN, self.get_y(), MARGIN + CONTENT_W, self.get_y())
        self.ln(2)

    def _items_header(self, widths: tuple[float, ...]) -> None:
        self.set_font(self.sans, "B", 8.5)
        self.set_fill_color(238, 241, 245)
        self.set_text_color(40)
        heads = (_("Description"), _("Qty"), _("Unit price"), _("Total"))
        for width, head, align in zip(widths, heads, ("L", "R", "R", "R")):
            self.cell(width, 7, self._t(head), border="B", align=align, fill=True)
        self.ln(7)
        self.set_font(self.sans, "", 9)
        self.set_text_color(20)

    def _totals(self, view: dict) -> None:
        rows: list[tuple[str, Any, bool]] = []
        if view.get("subtotal") is not None:
            rows.append((_("Subtotal"), view["subtotal"], False))
        discounts = view.get("discounts")
        if isinstance(discounts, list):
            for d in discounts:
                amount = -abs(Decimal(str(d.get("amount", 0))))
                rows.append((d.get("description") or _("Discount"), amount, False))
        elif discounts not in (None, "", 0) and Decimal(str(discounts)) != 0:
            rows.append((_("Discounts"), -abs(Decimal(str(discounts))), False))
        rows.append((_("Total"), view.get("total"), True))
        if view.get("paid") not in (None, "") and Decimal(str(view["paid"])) != 0:
            rows.append((_("Paid"), view["paid"], False))
        if view.get("balance") is not None:
            rows.append((_("Balance due"), view["balance"], True))
        label_w, value_w = 45.0, 35.0
        for label, value, strong in rows:
            self.set_x(MARGIN + CONTENT_W - label_w - value_w)
            self.set_font(self.sans, "B" if strong else "", 10 if strong else 9)
            self.cell(label_w, 6, self._t(label), align="R")
            self.cell(value_w, 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
        if view.get("fine_interest_note"):
            self.ln(1)
            self.set_font(self.sans, "", 7.5)
            self.set_text_color(90)
            self.multi_cell(CONTENT_W, 3.8, self._t(view["fine_interest_note"]), align="R",
                            new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(20)
        self.ln(4)

    def _section_title(self, title: str) -> None:
        if self.get_y() > 240:
            self.add_page()
        self.set_draw_color(200)
        self.line(MARGIN, self.get_y(), MARGIN + CONTENT_W, self.get_y())
        self.ln(2)
        self.set_font(self.sans, "B", 10)
        self.set_text_color(20)
        self.cell(0, 6, self._t(title), new_x="LMARGIN", new_y="NEXT")

    def _pix(self, pix: dict) -> None:
        self._section_title(_("Pay with PIX"))
        qr_size = 38.0
        if self.get_y() + qr_size > 277:
            self.add_page()
        top = self.get_y()
        qr = segno.make(pix["brcode"], error="m", micro=False)
        png = io.BytesIO()
        qr.save(png, kind="png", scale=8, border=2)
        png.seek(0)
        self.image(png, x=MARGIN, y=top, w=qr_size, h=qr_size)
        text_x = MARGIN + qr_size + 5
        self.set_xy(text_x, top + 1)
        self.set_font(self.sans, "", 8.5)
        self.set_text_color(60)
        text_w = CONTENT_W - qr_size - 5
        self.multi_cell(text_w, 4.2, self._t(_("Scan the QR code in your bank app, or copy and paste the code below "
                                  "(PIX copia e cola):")), align="L", new_x="LEFT", new_y="NEXT")
        self.ln(1)
        self.set_font(self.mono, "", 7.5)
        self.set_text_color(20)
        self.set_fill_color(246, 247, 249)
        # The code has meaningful spaces: cut it at a fixed width, never at word boundaries.
        per_line = max(10, int((text_w - 2) / self.get_string_width("0")))
        code = self._t(pix["brcode"])
        for start in range(0, len(code), per_line):
            self.set_x(text_x)
            self.cell(text_w, 3.8, code[start:start + per_line], fill=True, new_x="LEFT", new_y="NEXT")
        if pix.get("txid"):
            self.set_x(text_x)
            self.set_font(self.sans, "", 7.5)
            self.set_text_color(90)
            self.cell(0, 5, self._t(f"txid {pix['txid']}"))
        self.set_y(max(self.get_y(), top + qr_size) + 4)

    def _boleto(self, boleto: dict, view: dict, tenant: dict) -> None:
        self._section_title(_("Boleto"))
        if self.get_y() + 40 > 277:
            self.add_page()
        self.set_font(self.sans, "", 8)
        self.set_text_color(60)
        meta = [_("Beneficiary: %(name)s", name=tenant.get("name", "")),
                _("Due: %(date)s", date=br_date(view.get("due_date"))),
                _("Amount: %(amount)s", amount=money(boleto.get("amount", view.get("total"))))]
        if boleto.get("our_number"):
            meta.append(_("Our number: %(number)s", number=boleto["our_number"]))
        self.cell(0, 4.5, self._t("    ".join(meta)), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        self.set_font(self.mono, "", 11.5)
        self.set_text_color(10)
        line = boleto.get("digitable_line") or ""
        try:
            printed = format_digitable_line(line)
        except ValueError:
            printed = line
        self.cell(0, 7, self._t(printed), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.draw_itf(boleto["barcode"], MARGIN, self.get_y(), BARCODE_W, BARCODE_H)
        self.set_y(self.get_y() + BARCODE_H + 3)

    def draw_itf(self, digits: str, x: float, y: float, width: float, height: float) -> None:
        """Interleaved 2 of 5 bars (narrow:wide 1:3) filling `width` mm."""
        pattern = itf_pattern(digits)
        units = sum(3 if e == "w" else 1 for e in pattern)
        narrow = width / units
        self.set_fill_color(0, 0, 0)
        cursor = x
        for i, element in enumerate(pattern):
            w = narrow * (3 if element == "w" else 1)
            if i % 2 == 0:  # even positions are bars, odd are spaces
                self.rect(cursor, y, w, height, style="F")
            cursor += w

