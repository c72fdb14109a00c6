"""Exports of the fiscal book of services (livro fiscal) for one competence month: CSV, XLSX, PDF.

Input is the `projections.fiscal.fiscal_book.book()` document (amounts as decimal strings);
cancelled notes are listed as cancelled and are not part of the totals.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from retaguarda.shared.exports import append_row, csv_writer

COLUMNS = (
    ("number", "NFS-e"), ("competence", "Competência"), ("authorized_at", "Autorizada em"),
    ("tomador_name", "Tomador"), ("tomador_document", "CPF/CNPJ"), ("service_code", "Serviço"),
    ("base", "Base de cálculo"), ("iss_rate", "Alíquota ISS %"), ("iss", "ISS"),
    ("iss_withheld", "ISS retido"), ("cbs", "CBS"), ("ibs", "IBS"), ("amount", "Valor"),
    ("status", "Situação"),
)
MONEY_KEYS = {"base", "iss", "cbs", "ibs", "amount", "iss_rate"}
STATUS_PT = {"authorized": "autorizada", "cancelled": "cancelada"}


def _cell(item: dict[str, Any], key: str) -> Any:
    value = item.get(key)
    if key == "iss_withheld":
        return "sim" if value else "não"
    if key == "status":
        return STATUS_PT.get(str(value), value)
    if key == "authorized_at" and value is not None:
        from retaguarda.shared.clock import SAO_PAULO

        return value.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
    if key == "competence" and value is not None:
        return value.strftime("%d/%m/%Y")
    if key == "tomador_document" and value:
        from retaguarda.shared.documents import format_document

        return format_document(str(value))
    return "" if value is None else value


def _csv_cell(item: dict[str, Any], key: str) -> Any:
    """As `_cell`, with Brazilian decimals (1.234,56): a spreadsheet in pt-BR reads `;` files so."""
    value = _cell(item, key)
    return _br_decimal(value) if key in MONEY_KEYS else value


def _br_decimal(value: Any) -> str:
    from retaguarda.i18n import format_money

    return "" if value in (None, "") else format_money(value, currency=False)


def _month_br(competence: Any) -> str:
    """`2026-11` → `11/2026`."""
    text = str(competence)
    return f"{text[5:7]}/{text[:4]}" if len(text) == 7 and text[4] == "-" else text


def to_csv(doc: dict[str, Any]) -> bytes:
    """Semicolon-separated, UTF-8 with BOM (opens correctly in spreadsheet programs in Brazil)."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in COLUMNS])
    for item in doc["items"]:
        writer.writerow([_csv_cell(item, key) for key, _ in COLUMNS])
    totals = doc["totals"]
    writer.writerow(["TOTAL (autorizadas)", _month_br(doc["competence"]), "", "", "", "",
                     _br_decimal(totals["base"]), "", _br_decimal(totals["iss"]),
                     _br_decimal(totals["iss_withheld"]), _br_decimal(totals["cbs"]),
                     _br_decimal(totals["ibs"]), _br_decimal(totals["amount"]),
                     f"{doc['count']} nota(s); {doc['cancelled']} cancelada(s) fora do total"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(doc: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = f"Livro {doc['competence']}"
    append_row(ws, [f"Livro fiscal de serviços — competência {doc['competence']}"])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [])
    append_row(ws, [title for _, title in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8ECF1")
    for item in doc["items"]:
        row = []
        for key, _ in COLUMNS:
            value = _cell(item, key)
            row.append(Decimal(value) if key in MONEY_KEYS and value != "" else value)
        append_row(ws, row)
        if item["status"] == "cancelled":
            for cell in ws[ws.max_row]:
                cell.font = Font(strike=True, color="991B1B")
    totals = doc["totals"]
    append_row(ws, [])
    append_row(ws, ["TOTAL (autorizadas)", "", "", "", "", "", Decimal(totals["base"]), "",
               Decimal(totals["iss"]), Decimal(totals["iss_withheld"]), Decimal(totals["cbs"]),
               Decimal(totals["ibs"]), Decimal(totals["amount"]), f"{doc['count']} nota(s)"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    widths = (10, 12, 17, 34, 18, 9, 15, 13, 12, 10, 11, 11, 14, 24)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: dict[str, Any], issuer_name: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"Livro fiscal {doc['competence']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin(f"Livro fiscal de serviços - competência {doc['competence']}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(issuer_name), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (14, 20, 26, 56, 30, 14, 22, 13, 18, 12, 16, 14, 22)
    short = {"Alíquota ISS %": "ISS %", "Base de cálculo": "Base", "Autorizada em": "Autorizada",
             "ISS retido": "Retido"}
    headers = [short.get(title, title) for _, title in COLUMNS[:-1]]
    pdf.set_font("Helvetica", "B", 7)
    pdf.set_fill_color(232, 236, 241)
    for w, h in zip(widths, headers):
        pdf.cell(w, 6, _latin(h), border=1, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for item in doc["items"]:
        cancelled = item["status"] == "cancelled"
        if cancelled:
            pdf.set_text_color(153, 27, 27)
        for w, (key, _) in zip(widths, COLUMNS[:-1]):
            value = _latin(_cell(item, key))
            if cancelled and key == "number":
                value += " (canc.)"
            pdf.cell(w, 5, value[: int(w / 1.6)], border=1,
                     align="R" if key in MONEY_KEYS else "L")
        pdf.ln()
        pdf.set_text_color(0, 0, 0)
    if not doc["items"]:
        pdf.cell(sum(widths), 6, _latin("Nenhuma nota autorizada nesta competência."), border=1)
        pdf.ln()
    t = doc["totals"]
    pdf.set_font("Helvetica", "B", 7)
    row = {"tomador_name": f"TOTAL ({doc['count']} autorizada(s))", "base": t["base"], "iss": t["iss"],
           "iss_withheld": t["iss_withheld"], "cbs": t["cbs"], "ibs": t["ibs"], "amount": t["amount"]}
    for w, (key, _) in zip(widths, COLUMNS[:-1]):
        pdf.cell(w, 6, _latin(row.get(key, "")), border=1, align="R" if key in MONEY_KEYS else "L")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(0, 4, _latin(f"Notas canceladas listadas e excluídas dos totais: {doc['cancelled']}."))
    return bytes(pdf.output())
