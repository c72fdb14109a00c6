"""Exports of the NFCom part of the fiscal book (one competence): CSV, XLSX, PDF, in Brazilian
formats (semicolons, UTF-8 with BOM, R$ values with decimal commas in the PDF). Input is
`projections.fiscal.nfcom_list.nfcom_book()`; cancelled NFCom are listed, not totalled."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from retaguarda.shared.exports import append_row, csv_writer

COLUMNS = (
    ("number", "NFCom"),
    ("series", "Série"),
    ("authorized_at", "Autorizada em"),
    ("customer_name", "Assinante"),
    ("customer_document", "CPF/CNPJ"),
    ("access_key", "Chave de acesso"),
    ("icms_base", "Base ICMS"),
    ("icms", "ICMS"),
    ("pis", "PIS"),
    ("cofins", "COFINS"),
    ("fust", "FUST"),
    ("funttel", "FUNTTEL"),
    ("total", "Valor"),
    ("status", "Situação"),
)
MONEY_KEYS = {"icms_base", "icms", "pis", "cofins", "fust", "funttel", "total"}
STATUS_PT = {
    "authorized": "autorizada",
    "cancelled": "cancelada",
    "cancelling": "cancelando",
    "cancellation_rejected": "cancelamento rejeitado",
    "cancellation_failed": "falha no cancelamento",
}


def _cell(item: dict[str, Any], key: str, *, br: bool = False) -> Any:
    value = item.get(key)
    if key == "status":
        return STATUS_PT.get(str(value), value)
    if key == "authorized_at" and value is not None:
        from retaguarda.shared.clock import SAO_PAULO

        return value.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
    if br and key in MONEY_KEYS and value not in (None, ""):
        whole, frac = f"{Decimal(str(value)):,.2f}".split(".")
        return whole.replace(",", ".") + "," + frac
    return "" if value is None else value


def _total_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {"customer_name": f"TOTAL ({doc['count'] - doc['cancelled']} autorizada(s))", **doc["totals"]}


def to_csv(doc: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in COLUMNS])
    for item in doc["items"]:
        writer.writerow([_cell(item, key) for key, _ in COLUMNS])
    total = _total_row(doc)
    writer.writerow(
        [
            total.get(key, "") if key != "status" else f"{doc['cancelled']} cancelada(s) fora do total"
            for key, _ in COLUMNS
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(doc: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = f"NFCom {doc['competence']}"
    append_row(ws, [f"Livro fiscal - NFCom (modelo 62) - competência {doc['competence']}"])
    append_row(ws, [])
    append_row(ws, [title for _, title in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for item in doc["items"]:
        append_row(ws, [Decimal(str(item[k])) if k in MONEY_KEYS else _cell(item, k) for k, _ in COLUMNS])
    total = _total_row(doc)
    append_row(ws, [Decimal(str(total[k])) if k in MONEY_KEYS else total.get(k, "") for k, _ in COLUMNS[:-1]])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(doc: dict[str, Any], issuer_name: str = "") -> bytes:
    """Landscape A4, the same NFCom table as the second part of the main fiscal book, in pt_BR."""
    from fpdf import FPDF

    from retaguarda.fiscal.book import nfcom_pdf_section
    from retaguarda.i18n import DEFAULT_LOCALE, use_locale

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"Livro fiscal NFCom {doc['competence']}")
    pdf.add_page()
    with use_locale(DEFAULT_LOCALE):
        nfcom_pdf_section(pdf, doc["competence"], doc, issuer_name)
    return bytes(pdf.output())
