"""A report `Document` as CSV, XLSX (openpyxl write-only: typed cells, BRL number format, frozen
header, totals) or PDF (fpdf2: title, filters, generated at, page numbers). Every text cell goes
through `shared.exports` (no formula ever starts in a cell)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from retaguarda.i18n import format_datetime, format_money, format_percent
from retaguarda.i18n import gettext as _
from retaguarda.reports.documents import Column, Document
from retaguarda.shared.exports import csv_writer, safe_cell, safe_row

BRL_FORMAT = '"R$" #,##0.00;-"R$" #,##0.00'
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def filename(doc: Document, fmt: str) -> str:
    stamp = doc.generated_at.astimezone(UTC).strftime("%Y%m%d-%H%M")
    return f"report-{doc.kind}-{stamp}.{fmt}"


def typed(value: Any, column: Column) -> Any:
    """The cell value a spreadsheet should hold: numbers as numbers, dates as dates."""
    if value is None or value == "":
        return None
    if column.type == "money":
        return Decimal(str(value))
    if column.type == "rate":
        return Decimal(str(value))
    if column.type == "int":
        return int(value)
    if column.type == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if column.type == "datetime":
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        from zoneinfo import ZoneInfo

        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(ZoneInfo("America/Sao_Paulo")).replace(tzinfo=None)
    return str(value)


def shown(value: Any, column: Column) -> str:
    """The text a person reads (PDF, screen)."""
    if value is None or value == "":
        return ""
    if column.type == "money":
        return format_money(value)
    if column.type == "rate":
        return format_percent(Decimal(str(value)) * 100)
    if column.type == "date":
        return typed(value, column).strftime("%d/%m/%Y")
    if column.type == "datetime":
        return format_datetime(value)
    if column.type == "int":
        return str(value)
    return str(value)


def to_csv(doc: Document) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";")
    writer.writerow([c.title for c in doc.columns])
    for item in doc.items:
        row = []
        for c in doc.columns:
            value = typed(item.get(c.key), c)
            if isinstance(value, Decimal):
                value = str(value).replace(".", ",")
            elif isinstance(value, datetime):
                value = value.strftime("%d/%m/%Y %H:%M")
            elif isinstance(value, date):
                value = value.strftime("%d/%m/%Y")
            row.append("" if value is None else value)
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(doc: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=doc.title[:31] or "Report")
    ws.freeze_panes = "A2"
    for i, c in enumerate(doc.columns):
        ws.column_dimensions[_letter(i)].width = 14 if c.type != "text" else 24
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8ECF1")

    def cell(value: Any, column: Column | None = None, font: Any = None) -> Any:
        item = WriteOnlyCell(ws, value=safe_cell(value))
        if column is not None:
            if column.type == "money":
                item.number_format = BRL_FORMAT
            elif column.type == "rate":
                item.number_format = "0.00%"
            elif column.type == "date":
                item.number_format = "DD/MM/YYYY"
            elif column.type == "datetime":
                item.number_format = "DD/MM/YYYY HH:MM"
            elif column.type == "int":
                item.number_format = "0"
        if font is not None:
            item.font = font
        return item

    header = []
    for c in doc.columns:
        h = cell(c.title, font=bold)
        h.fill = fill
        header.append(h)
    ws.append(header)
    formatted = [c.type in ("money", "rate", "date", "datetime") for c in doc.columns]
    for row in doc.items:
        # Plain values need no cell object (write-only mode writes them as they are, typed);
        # only cells with a number format do.
        ws.append([cell(typed(row.get(c.key), c), c) if f else safe_cell(typed(row.get(c.key), c))
                   for c, f in zip(doc.columns, formatted)])
    if doc.totals:
        ws.append(
            [
                cell(
                    typed(doc.totals[c.key], c)
                    if c.type != "text" and doc.totals.get(c.key) != ""
                    else doc.totals.get(c.key),
                    c,
                    bold,
                )
                if c.key in doc.totals
                else cell(None)
                for c in doc.columns
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").replace("\xa0", " ").encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: Document) -> bytes:
    from fpdf import FPDF

    class ReportPdf(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("Helvetica", "", 7)
            self.cell(
                0, 5, _latin(_("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")), align="C"
            )

    pdf = ReportPdf(orientation="L", unit="mm", format="A4")
    pdf.alias_nb_pages()
    pdf.set_title(_latin(doc.title))
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin(_("Report: %(title)s", title=doc.title)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    filters = ", ".join(f"{k}: {v}" for k, v in doc.filters.items()) or _("none")
    pdf.cell(0, 5, _latin(_("Filters: %(filters)s", filters=filters)), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        5,
        _latin(_("Generated at %(when)s", when=format_datetime(doc.generated_at))),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    weights = [2.2 if c.type == "text" else 1.0 for c in doc.columns]
    widths = [usable * w / sum(weights) for w in weights]

    def header() -> None:
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_fill_color(232, 236, 241)
        for w, c in zip(widths, doc.columns):
            pdf.cell(w, 6, _latin(c.title)[: int(w / 1.5)], border=1, fill=True)
        pdf.ln()
        pdf.set_font("Helvetica", "", 7)

    header()
    for item in doc.items:
        if pdf.get_y() > pdf.h - 20:
            pdf.add_page()
            header()
        for w, c in zip(widths, doc.columns):
            pdf.cell(
                w,
                5,
                _latin(shown(item.get(c.key), c))[: int(w / 1.5)],
                border=1,
                align="L" if c.type == "text" else "R",
            )
        pdf.ln()
    if not doc.items:
        pdf.cell(sum(widths), 6, _latin(_("No rows for these filters.")), border=1)
        pdf.ln()
    if doc.totals:
        pdf.set_font("Helvetica", "B", 7)
        for w, c in zip(widths, doc.columns):
            value = doc.totals.get(c.key, "")
            text = shown(value, c) if c.type != "text" and value != "" else str(value)
            pdf.cell(w, 6, _latin(text)[: int(w / 1.5)], border=1, align="L" if c.type == "text" else "R")
        pdf.ln()
    return bytes(pdf.output())


def render(doc: Document, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "xlsx":
        return to_xlsx(doc)
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValueError(fmt)


__all__ = ["CONTENT_TYPES", "filename", "render", "safe_row", "to_csv", "to_pdf", "to_xlsx"]
