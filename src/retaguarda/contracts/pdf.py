"""Contract PDFs (fpdf2) and the signature page appended to a signed one (pypdf).

`render_contract_pdf` is deterministic: the same version renders to the same bytes (fixed
creation date = the version's time, no random ids), so the SHA-256 recorded when a version was
sent for signature can be checked again at any time. A signed contract's PDF is those exact
bytes' pages followed by one evidence page.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from retaguarda.i18n import _, format_datetime

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        if (FONT_DIR / "DejaVuSans.ttf").exists():
            self.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.family = "body"
        else:  # pragma: no cover - the image ships DejaVu
            self.family = "helvetica"
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, 18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def _text(value: str, unicode_font: bool) -> str:
    return value if unicode_font else value.encode("latin-1", "replace").decode("latin-1")


def render_contract_pdf(*, number: str, version: int, title: str, text: str, at: datetime) -> bytes:
    """The contract's text as PDF bytes, identical for identical input."""
    pdf = _Pdf(_("Contract %(number)s · version %(version)s", number=number, version=version))
    pdf.set_creation_date(at)
    pdf.set_producer("Retaguarda")
    pdf.set_title(f"{number} v{version}")
    pdf.alias_nb_pages()
    pdf.add_page()
    uni = pdf.family == "body"
    pdf.set_font(pdf.family, "B", 14)
    pdf.multi_cell(0, 7, _text(title, uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(pdf.family, "", 10)
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        if paragraph.strip():
            pdf.multi_cell(0, 5.2, _text(paragraph, uni), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    return bytes(pdf.output())


def signature_page(evidence: dict[str, Any]) -> bytes:
    """One page listing the signature evidence (name, document, IP, user agent, time, hashes)."""
    pdf = _Pdf(_("Electronic signature record"))
    signed_at = evidence["signed_at"]
    pdf.set_creation_date(signed_at)
    pdf.set_producer("Retaguarda")
    pdf.alias_nb_pages()
    pdf.add_page()
    uni = pdf.family == "body"
    pdf.set_font(pdf.family, "B", 13)
    pdf.cell(0, 8, _text(_("Electronic signature record"), uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)
    pdf.multi_cell(
        0,
        5,
        _text(
            _(
                "The signer read this document, identified themselves and accepted it electronically "
                "(MP 2.200-2/2001, art. 10, §2). Any change to the signed document changes its SHA-256."
            ),
            uni,
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    rows = [
        (_("Contract"), f"{evidence['number']} · v{evidence['version']}"),
        (_("Signer"), evidence["name"]),
        (_("Document"), evidence["document"]),
        (_("Signed at"), f"{format_datetime(signed_at)} (America/Sao_Paulo) · {signed_at.isoformat()}"),
        (_("IP address"), evidence.get("ip") or "-"),
        (_("User agent"), evidence.get("user_agent") or "-"),
        (_("Provider"), evidence.get("provider") or "builtin"),
        (_("SHA-256 of the signed PDF"), evidence["pdf_sha256"]),
        (_("SHA-256 of the text"), evidence["sha256"]),
    ]
    for label, value in rows:
        pdf.set_font(pdf.family, "B", 9)
        pdf.multi_cell(0, 5, _text(label, uni), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 9)
        pdf.multi_cell(0, 5, _text(str(value), uni), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())


def with_signature_page(signed_pdf: bytes, evidence: dict[str, Any]) -> bytes:
    """The signed PDF's pages unchanged, followed by the evidence page."""
    writer = PdfWriter()
    for source in (signed_pdf, signature_page(evidence)):
        for page in PdfReader(io.BytesIO(source)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
