"""Exports of the fiscal book (livro fiscal) for one competence month: CSV, XLSX, PDF.

Input is the `projections.fiscal.fiscal_book.book()` document (amounts as decimal strings) with,
under `nfcom`, the `projections.fiscal.nfcom_list.nfcom_book()` document of the same month: the
NFS-e section, then the NFCom (model 62) section with its ICMS, PIS, COFINS, FUST and FUNTTEL
totals. Cancelled documents are listed as cancelled and are not part of the totals. Cells go
through `shared.exports` (formula-like text is neutralised).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from retaguarda.i18n import N_
from retaguarda.i18n import gettext as _
from retaguarda.shared.exports import append_row, csv_writer

# Column titles are msgids (English), translated when a book is written (pt_BR by default).
_COLUMNS = (
    ("number", "NFS-e"), ("competence", N_("Competence")), ("authorized_at", N_("Authorized at")),
    ("tomador_name", N_("Tomador")), ("tomador_document", "CPF/CNPJ"), ("service_code", N_("Service")),
    ("base", N_("Tax base")), ("iss_rate", N_("ISS rate %")), ("iss", "ISS"),
    ("iss_withheld", N_("ISS withheld")), ("cbs", "CBS"), ("ibs", "IBS"), ("amount", N_("Amount")),
    ("status", N_("Status")),
)
MONEY_KEYS = {"base", "iss", "cbs", "ibs", "amount", "iss_rate"}
STATUS_WORDS = {"authorized": N_("authorized"), "cancelled": N_("cancelled"), "cancelling": N_("cancelling"),
                "cancellation_rejected": N_("cancellation rejected"),
                "cancellation_failed": N_("cancellation failed")}
_NFCOM_COLUMNS = (
    ("number", "NFCom"), ("series", N_("Series")), ("authorized_at", N_("Authorized at")),
    ("customer_name", N_("Subscriber")), ("customer_document", "CPF/CNPJ"), ("icms_base", N_("ICMS base")),
    ("icms", "ICMS"), ("pis", "PIS"), ("cofins", "COFINS"), ("fust", "FUST"), ("funttel", "FUNTTEL"),
    ("total", N_("Amount")), ("status", N_("Status")),
)
NFCOM_MONEY_KEYS = {"icms_base", "icms", "pis", "cofins", "fust", "funttel", "total"}


def _nfcom(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The NFCom section of the book, when it has a document to show."""
    nfcom = doc.get("nfcom")
    return nfcom if nfcom and nfcom.get("items") else None


def _nfcom_titles() -> list[str]:
    return [_(title) for _key, title in _NFCOM_COLUMNS]


def _nfcom_cell(item: dict[str, Any], key: str) -> Any:
    if key == "customer_document":
        return _cell({"tomador_document": item.get(key)}, "tomador_document")
    if key in ("authorized_at", "status"):
        return _cell(item, key)
    value = item.get(key)
    return "" if value is None else value


def _nfcom_total(nfcom: dict[str, Any]) -> dict[str, Any]:
    return {"customer_name": _("TOTAL (%(count)s authorized)", count=nfcom["count"] - nfcom["cancelled"]),
            **{k: nfcom["totals"].get(k, "0.00") for k in NFCOM_MONEY_KEYS}}


class _Columns:
    """(key, title) pairs with the titles in the current locale."""

    def __iter__(self) -> Any:
        return iter([(key, _(title)) for key, title in _COLUMNS])

    def __getitem__(self, index: Any) -> Any:
        return list(self)[index]

    def __len__(self) -> int:
        return len(_COLUMNS)


COLUMNS = _Columns()


def _cell(item: dict[str, Any], key: str) -> Any:
    value = item.get(key)
    if key == "iss_withheld":
        return _("yes") if value else _("no")
    if key == "status":
        return _(STATUS_WORDS[str(value)]) if str(value) in STATUS_WORDS else value
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


def _to_csv(doc: dict[str, Any]) -> bytes:
    """Semicolon-separated, UTF-8 with BOM (opens correctly in spreadsheet programs in Brazil)."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _key, title in COLUMNS])
    for item in doc["items"]:
        writer.writerow([_csv_cell(item, key) for key, _title in COLUMNS])
    totals = doc["totals"]
    writer.writerow([_("TOTAL (authorized)"), _month_br(doc["competence"]), "", "", "", "",
                     _br_decimal(totals["base"]), "", _br_decimal(totals["iss"]),
                     _br_decimal(totals["iss_withheld"]), _br_decimal(totals["cbs"]),
                     _br_decimal(totals["ibs"]), _br_decimal(totals["amount"]),
                     _("%(count)s note(s); %(cancelled)s cancelled outside the total",
                       count=doc["count"], cancelled=doc["cancelled"])])
    nfcom = _nfcom(doc)
    if nfcom:
        writer.writerow([])
        writer.writerow([_("NFCom (model 62) — competence %(competence)s", competence=_month_br(doc["competence"]))])
        writer.writerow(_nfcom_titles())
        for item in nfcom["items"]:
            writer.writerow([_br_decimal(_nfcom_cell(item, key)) if key in NFCOM_MONEY_KEYS
                             else _nfcom_cell(item, key) for key, _title in _NFCOM_COLUMNS])
        total = _nfcom_total(nfcom)
        writer.writerow([_br_decimal(total[key]) if key in NFCOM_MONEY_KEYS else total.get(key, "")
                         for key, _title in _NFCOM_COLUMNS[:-1]]
                        + [_("%(n)s cancelled outside the total", n=nfcom["cancelled"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _to_xlsx(doc: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = _("Book %(competence)s", competence=doc["competence"])
    append_row(ws, [_("Fiscal book of services — competence %(competence)s", competence=doc["competence"])])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [])
    append_row(ws, [title for _key, title in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8ECF1")
    for item in doc["items"]:
        row = []
        for key, _title in COLUMNS:
            value = _cell(item, key)
            row.append(Decimal(value) if key in MONEY_KEYS and value != "" else value)
        append_row(ws, row)
        if item["status"] == "cancelled":
            for cell in ws[ws.max_row]:
                cell.font = Font(strike=True, color="991B1B")
    totals = doc["totals"]
    append_row(ws, [])
    append_row(ws, [_("TOTAL (authorized)"), "", "", "", "", "", Decimal(totals["base"]), "",
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
    nfcom = _nfcom(doc)
    if nfcom:
        ns = wb.create_sheet(f"NFCom {doc['competence']}")
        append_row(ns, [_("NFCom (model 62) — competence %(competence)s", competence=doc["competence"])])
        ns["A1"].font = Font(bold=True, size=13)
        append_row(ns, [])
        append_row(ns, _nfcom_titles())
        for cell in ns[3]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E8ECF1")
        for item in nfcom["items"]:
            append_row(ns, [Decimal(str(item[k])) if k in NFCOM_MONEY_KEYS else _nfcom_cell(item, k)
                            for k, _title in _NFCOM_COLUMNS])
            if item["status"] == "cancelled":
                for cell in ns[ns.max_row]:
                    cell.font = Font(strike=True, color="991B1B")
        total = _nfcom_total(nfcom)
        append_row(ns, [])
        append_row(ns, [Decimal(str(total[k])) if k in NFCOM_MONEY_KEYS else total.get(k, "")
                        for k, _title in _NFCOM_COLUMNS[:-1]])
        for cell in ns[ns.max_row]:
            cell.font = Font(bold=True)
        for row in ns.iter_rows(min_row=4):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
        for i, w in enumerate((10, 7, 17, 34, 20, 12, 11, 10, 10, 10, 10, 12, 16)):
            ns.column_dimensions[chr(ord("A") + i)].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def _to_pdf(doc: dict[str, Any], issuer_name: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_("Fiscal book %(month)s", month=doc["competence"]))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin(_("Fiscal book of services - competence %(competence)s", competence=doc["competence"])),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(issuer_name), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (14, 20, 26, 56, 30, 14, 22, 13, 18, 12, 16, 14, 22)
    short = {"iss_rate": "ISS %", "base": _("Base"), "authorized_at": _("Authorized"),
             "iss_withheld": _("Withheld")}
    headers = [short.get(key, title) for key, title in COLUMNS[:-1]]
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
        for w, (key, _title) in zip(widths, COLUMNS[:-1]):
            value = _latin(_cell(item, key))
            if cancelled and key == "number":
                value += " (canc.)"
            pdf.cell(w, 5, value[: int(w / 1.6)], border=1,
                     align="R" if key in MONEY_KEYS else "L")
        pdf.ln()
        pdf.set_text_color(0, 0, 0)
    if not doc["items"]:
        pdf.cell(sum(widths), 6, _latin(_("No authorized note in this competence.")), border=1)
        pdf.ln()
    t = doc["totals"]
    pdf.set_font("Helvetica", "B", 7)
    row = {"tomador_name": _("TOTAL (%(count)s authorized)", count=doc["count"]), "base": t["base"], "iss": t["iss"],
           "iss_withheld": t["iss_withheld"], "cbs": t["cbs"], "ibs": t["ibs"], "amount": t["amount"]}
    for w, (key, _title) in zip(widths, COLUMNS[:-1]):
        pdf.cell(w, 6, _latin(row.get(key, "")), border=1, align="R" if key in MONEY_KEYS else "L")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(0, 4, _latin(_("Cancelled notes listed and left out of the totals: %(n)s.", n=doc["cancelled"])))
    nfcom = _nfcom(doc)
    if nfcom:
        pdf.ln(10)
        nfcom_pdf_section(pdf, doc["competence"], nfcom)
    return bytes(pdf.output())


def nfcom_pdf_section(pdf: Any, competence: str, nfcom: dict[str, Any], issuer_name: str = "") -> None:
    """The NFCom table of a competence on `pdf` (an fpdf2 document): this book's second part and
    the whole of the NFCom book's PDF (`fiscal.nfcom.book`)."""
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin(_("NFCom (model 62) — competence %(competence)s", competence=competence)),
             new_x="LMARGIN", new_y="NEXT")
    if issuer_name:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, _latin(issuer_name), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    cols = _NFCOM_COLUMNS[:-1]
    widths = (16, 10, 26, 62, 30, 20, 18, 16, 18, 16, 16, 20)
    pdf.set_font("Helvetica", "B", 7)
    pdf.set_fill_color(232, 236, 241)
    for w, (_key, title) in zip(widths, cols, strict=True):
        pdf.cell(w, 6, _latin(_(title)), border=1, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for item in nfcom["items"]:
        cancelled = item["status"] == "cancelled"
        if cancelled:
            pdf.set_text_color(153, 27, 27)
        for w, (key, _title) in zip(widths, cols, strict=True):
            value = _nfcom_cell(item, key)
            text = _latin(_br_decimal(value) if key in NFCOM_MONEY_KEYS else value)
            if cancelled and key == "number":
                text += " (canc.)"
            pdf.cell(w, 5, text[: int(w / 1.5)], border=1, align="R" if key in NFCOM_MONEY_KEYS else "L")
        pdf.ln()
        pdf.set_text_color(0, 0, 0)
    if not nfcom["items"]:
        pdf.cell(sum(widths), 6, _latin(_("No authorized NFCom in %(month)s.", month=competence)), border=1)
        pdf.ln()
    total = _nfcom_total(nfcom)
    pdf.set_font("Helvetica", "B", 7)
    for w, (key, _title) in zip(widths, cols, strict=True):
        value = total.get(key, "")
        pdf.cell(w, 6, _latin(_br_decimal(value) if key in NFCOM_MONEY_KEYS else value)[: int(w / 1.4)],
                 border=1, align="R" if key in NFCOM_MONEY_KEYS else "L")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(0, 4, _latin(_("Cancelled NFCom listed and left out of the totals: %(n)s.", n=nfcom["cancelled"])))


# The book is a Brazilian fiscal document: written in pt_BR unless a locale is asked for.

def to_csv(doc: dict[str, Any], locale: str | None = None) -> bytes:
    """Semicolon-separated, UTF-8 with BOM (opens correctly in spreadsheet programs in Brazil)."""
    from retaguarda.i18n import DEFAULT_LOCALE, use_locale

    with use_locale(locale or DEFAULT_LOCALE):
        return _to_csv(doc)


def to_xlsx(doc: dict[str, Any], locale: str | None = None) -> bytes:
    from retaguarda.i18n import DEFAULT_LOCALE, use_locale

    with use_locale(locale or DEFAULT_LOCALE):
        return _to_xlsx(doc)


def to_pdf(doc: dict[str, Any], issuer_name: str = "", locale: str | None = None) -> bytes:
    from retaguarda.i18n import DEFAULT_LOCALE, use_locale

    with use_locale(locale or DEFAULT_LOCALE):
        return _to_pdf(doc, issuer_name)
