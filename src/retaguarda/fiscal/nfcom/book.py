"""Exports of the NFCom part of the fiscal book (one competence): CSV, XLSX, PDF, in Brazilian
formats (semicolons, UTF-8 with BOM, R$ values with decimal commas in the PDF). Input is
`projections.fiscal.nfcom_list.nfcom_book()`; cancelled NFCom are listed, not totalled."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

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
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
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
    ws.append([f"Livro fiscal - NFCom (modelo 62) - competência {doc['competence']}"])
    ws.append([])
    ws.append([title for _, title in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for item in doc["items"]:
        ws.append([Decimal(str(item[k])) if k in MONEY_KEYS else _cell(item, k) for k, _ in COLUMNS])
    total = _total_row(doc)
    ws.append([Decimal(str(total[k])) if k in MONEY_KEYS else total.get(k, "") for k, _ in COLUMNS[:-1]])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: dict[str, Any], issuer_name: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"Livro fiscal NFCom {doc['competence']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(
        0,
        8,
        _latin(f"Livro fiscal - NFCom (modelo 62) - competência {doc['competence']}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(issuer_name), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    cols = [c for c in COLUMNS if c[0] not in ("access_key", "status")]
    widths = (16, 10, 26, 60, 30, 20, 18, 16, 18, 16, 16, 20)
    pdf.set_font("Helvetica", "B", 7)
    pdf.set_fill_color(232, 236, 241)
    for w, (_, title) in zip(widths, cols, strict=True):
        pdf.cell(w, 6, _latin(title), border=1, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for item in doc["items"]:
        cancelled = item["status"] == "cancelled"
        if cancelled:
            pdf.set_text_color(153, 27, 27)
        for w, (key, _) in zip(widths, cols, strict=True):
            value = _latin(_cell(item, key, br=True)) + (" (canc.)" if cancelled and key == "number" else "")
            pdf.cell(w, 5, value[: int(w / 1.5)], border=1, align="R" if key in MONEY_KEYS else "L")
        pdf.ln()
        pdf.set_text_color(0, 0, 0)
    if not doc["items"]:
        pdf.cell(sum(widths), 6, _latin("Nenhuma NFCom autorizada nesta competência."), border=1)
        pdf.ln()
    total = _total_row(doc)
    pdf.set_font("Helvetica", "B", 7)
    for w, (key, _) in zip(widths, cols, strict=True):
        pdf.cell(w, 6, _latin(_cell(total, key, br=True)), border=1, align="R" if key in MONEY_KEYS else "L")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(0, 4, _latin(f"NFCom canceladas listadas e excluídas dos totais: {doc['cancelled']}."))
    return bytes(pdf.output())
