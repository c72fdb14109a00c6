"""Invoice PDF: the text a customer reads, the PIX QR that encodes the BR Code, and ITF bars that scan.

The bars are checked by rasterising the page with pdftoppm and decoding the run lengths of a
pixel row; the QR by comparing the embedded image's modules with the QR matrix of the code.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from retaguarda.billing import boleto, pix
from retaguarda.billing.boleto import decode_itf_pattern
from retaguarda.billing.pdf import format_document, money, render_invoice_pdf

AGREEMENT = {"convenio": "1234567", "carteira": "18"}


def make_view(**overrides):
    slip = boleto.make_boleto(bank_code="001", due_date=date(2026, 12, 10), amount=Decimal("129.90"),
                              free_field=boleto.free_field_for(AGREEMENT, 42))
    code = pix.build_brcode(key="12345678000195", merchant_name="Águia Net Telecom", merchant_city="São José",
                            amount=Decimal("129.90"), txid="INV2026000042", description="Fatura 2026-000042")
    view = {
        "tenant": {"name": "Águia Net Telecom Ltda", "document": "12345678000195",
                   "address": "Rua das Palmeiras, 120 - Centro, São José dos Campos/SP"},
        "customer": {"name": "Maria da Conceição Souza", "document": "52998224725",
                     "address": "Av. Brasil 1000, ap. 12", "email": "maria@example.com"},
        "number": "2026-000042", "issue_date": date(2026, 11,
                                                    23), "due_date": "2026-12-10", "status": "issued",
        "items": [{"description": "Plano Fibra 500 Mega - dezembro/2026", "quantity": 1,
                   "unit_price": "119.90",
                   "total": "119.90"},
                  {"description": "Aluguel de roteador Wi-Fi 6", "quantity": Decimal("2"),
                   "unit_price": "10.00",
                   "total": "20.00"}],
        "discounts": [{"description": "Loyalty discount", "amount": "10.00"}],
        "subtotal": "139.90", "total": Decimal("129.90"), "paid": "0.00", "balance": "129.90",
        "fine_interest_note": "After the due date: 2% fine plus 1% interest a month, pro rata die.",
        "pix": {"brcode": code, "txid": "INV2026000042"},
        "boleto": {"digitable_line": slip.digitable_line, "barcode": slip.barcode},
    }
    return view | overrides


@pytest.fixture(scope="module")
def rendered() -> tuple[dict, bytes]:
    view = make_view()
    return view, render_invoice_pdf(view)


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_text_has_header_customer_items_totals_and_payment_codes(rendered):
    view, data = rendered
    assert data.startswith(b"%PDF-")
    text = text_of(data)
    for expected in ("Águia Net Telecom Ltda", "12.345.678/0001-95", "Fatura 2026-000042", "23/11/2026",
                     "10/12/2026", "EM ABERTO", "Maria da Conceição Souza", "529.982.247-25",
                     "maria@example.com", "Plano Fibra 500 Mega - dezembro/2026", "R$ 119,90", "R$ 20,00",
                     "-R$ 10,00", "R$ 129,90",
                     "Loyalty discount", "Saldo devedor", "2% fine", "Pague com PIX", "txid INV2026000042",
                     boleto.format_digitable_line(view["boleto"]["digitable_line"])):
        assert expected in text, expected
    # The copy-paste code is printed whole (cut into lines, never altered).
    assert view["pix"]["brcode"] in text.replace("\n", "")


def test_the_qr_image_encodes_the_brcode(rendered):
    view, data = rendered
    page = PdfReader(io.BytesIO(data)).pages[0]
    [image] = page.images
    qr = Image.open(io.BytesIO(image.data)).convert("L")
    matrix = segno.make(view["pix"]["brcode"], error="m", micro=False).matrix
    modules = len(matrix) + 4  # border of 2 modules each side
    cell = qr.width / modules
    read = [[qr.getpixel((int((x + 2.5) * cell), int((y + 2.5) * cell))) < 128 for x in range(len(matrix))]
            for y in range(len(matrix))]
    assert read == [[bool(v) for v in row] for row in matrix]


def _runs(row: list[bool]) -> list[tuple[bool, int]]:
    runs: list[tuple[bool, int]] = []
    for dark in row:
        if runs and runs[-1][0] == dark:
            runs[-1] = (dark, runs[-1][1] + 1)
        else:
            runs.append((dark, 1))
    return runs


def _decode_row(row: list[bool]) -> str | None:
    runs = _runs(row)
    while runs and not runs[0][0]:
        runs.pop(0)
    while runs and not runs[-1][0]:
        runs.pop()
    if len(runs) < 20:
        return None
    narrow = sorted(width for _, width in runs)[len(runs) // 4]
    pattern = "".join("w" if width > 2 * narrow else "n" for _, width in runs)
    try:
        return decode_itf_pattern(pattern)
    except ValueError:
        return None


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils missing")
def test_the_rendered_barcode_scans_back_to_the_boleto(rendered, tmp_path: Path):
    view, data = rendered
    pdf_path = tmp_path / "invoice.pdf"
    pdf_path.write_bytes(data)
    # 200 dpi: the narrow bar (0.254 mm) is 2 px, the wide one 6 px.
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-gray", str(pdf_path), str(tmp_path / "page")],
                   check=True)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    pixels, width = page.tobytes(), page.width
    decoded = set()
    for y in range(page.height // 2, page.height, 4):
        row = [value < 128 for value in pixels[y * width:y * width + int(width * 0.75)]]
        if (digits := _decode_row(row)) is not None:
            decoded.add(digits)
    assert decoded == {view["boleto"]["barcode"]}


def test_paid_invoice_without_payment_codes_and_long_item_lists_render():
    items = [{"description": f"Service {i} " + "with a long description " * 3, "quantity": 1,
              "unit_price": "1.00", "total": "1.00"} for i in range(40)]
    data = render_invoice_pdf(make_view(status="paid", pix=None, boleto=None, items=items, paid="129.90",
                                        balance="0.00"))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = text_of(data)
    assert "PAGA" in text and "Service 39" in text and "Pague com PIX" not in text and "Boleto" not in text


def test_money_and_document_formatting():
    assert money(Decimal("1234567.891")) == "R$ 1.234.567,89"
    assert money("-10") == "-R$ 10,00"
    assert money(Decimal("0.125")) == "R$ 0,12"  # half-even
    assert format_document("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert format_document("529.982.247-25") == "529.982.247-25"
