"""DANFE-COM: the printed aid of an NFCom (MOC Anexo II divisions), rendered with fpdf2 from the
signed XML (NFCom or nfcomProc) plus the authorization protocol, with the QR code (segno, level M)
carrying `infNFComSupl/qrCodNFCom` (URL with the key, the environment and, in contingency, `sign`).

Divisions: issuer header, subscriber (name, CPF/CNPJ, address, subscriber code, due date, total,
competence, main terminal), NFCom number/series/key and protocol, items, taxes, billing and QR.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from retaguarda.fiscal.nfcom.xml import NS

UNITS = {"1": "MIN", "2": "MB", "3": "GB", "4": "UN"}


def _t(el: Any, path: str) -> str:
    if el is None:
        return ""
    return (el.findtext("/".join(f"{{{NS}}}{p}" for p in path.split("/"))) or "").strip()


def _doc(value: str) -> str:
    if len(value) == 14:
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
    if len(value) == 11:
        return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"
    return value or "-"


def _brl(value: str) -> str:
    if not value:
        return "-"
    number = Decimal(value).quantize(Decimal("0.01"))
    whole, frac = f"{number:,.2f}".split(".")
    return "R$ " + whole.replace(",", ".") + "," + frac


def _num(value: str, places: int = 2) -> str:
    if not value:
        return "-"
    whole, frac = f"{Decimal(value):,.{places}f}".split(".")
    return whole.replace(",", ".") + "," + frac


def _date(value: str) -> str:
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}" if len(value) >= 10 and value[4] == "-" else value or "-"


def _when(value: str) -> str:
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M:%S") if value else "-"
    except ValueError:
        return value


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").replace("-", "-").encode("latin-1", "replace").decode("latin-1")


def _key_groups(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def parse(xml: str | bytes) -> dict[str, Any]:
    """The fields the DANFE-COM shows, from a signed NFCom or an nfcomProc."""
    root = etree.fromstring(
        xml.encode() if isinstance(xml, str) else xml,
        etree.XMLParser(resolve_entities=False, no_network=True),
    )
    nfcom = root if etree.QName(root).localname == "NFCom" else root.find(f"{{{NS}}}NFCom")
    if nfcom is None:
        raise ValueError("not an NFCom document")
    inf = nfcom.find(f"{{{NS}}}infNFCom")
    prot = root.find(f"{{{NS}}}protNFCom/{{{NS}}}infProt")
    emit, dest, ass = (inf.find(f"{{{NS}}}{g}") for g in ("emit", "dest", "assinante"))
    total, fat = inf.find(f"{{{NS}}}total"), inf.find(f"{{{NS}}}gFat")

    def addr(el: Any, tag: str) -> str:
        a = el.find(f"{{{NS}}}{tag}") if el is not None else None
        if a is None:
            return ""
        parts = [
            _t(a, "xLgr"),
            _t(a, "nro"),
            _t(a, "xCpl"),
            _t(a, "xBairro"),
            f"{_t(a, 'xMun')} / {_t(a, 'UF')}",
            f"CEP {_t(a, 'CEP')}" if _t(a, "CEP") else "",
        ]
        return ", ".join(p for p in parts if p.strip(" /"))

    items = []
    for det in inf.findall(f"{{{NS}}}det"):
        imp = det.find(f"{{{NS}}}imposto")
        icms = (
            next((c for c in imp if etree.QName(c).localname.startswith("ICMS")), None)
            if imp is not None
            else None
        )
        items.append(
            {
                "n": det.get("nItem"),
                "code": _t(det, "prod/cProd"),
                "description": _t(det, "prod/xProd"),
                "cclass": _t(det, "prod/cClass"),
                "cfop": _t(det, "prod/CFOP"),
                "unit": UNITS.get(_t(det, "prod/uMed"), _t(det, "prod/uMed")),
                "quantity": _t(det, "prod/qFaturada"),
                "unit_price": _t(det, "prod/vItem"),
                "total": _t(det, "prod/vProd"),
                "icms_rate": _t(icms, "pICMS") if icms is not None else "",
                "icms": _t(icms, "vICMS") if icms is not None else "",
            }
        )
    key = (inf.get("Id") or "")[5:]
    return {
        "key": key,
        "environment": _t(inf, "ide/tpAmb"),
        "series": _t(inf, "ide/serie"),
        "number": _t(inf, "ide/nNF"),
        "issued_at": _t(inf, "ide/dhEmi"),
        "emission_type": _t(inf, "ide/tpEmis"),
        "issuer": {
            "cnpj": _t(emit, "CNPJ"),
            "ie": _t(emit, "IE"),
            "name": _t(emit, "xNome"),
            "address": addr(emit, "enderEmit"),
        },
        "recipient": {
            "document": _t(dest, "CNPJ") or _t(dest, "CPF"),
            "name": _t(dest, "xNome"),
            "address": addr(dest, "enderDest"),
        },
        "subscriber": {
            "code": _t(ass, "iCodAssinante"),
            "contract": _t(ass, "nContrato"),
            "terminal": _t(ass, "NroTermPrinc"),
        },
        "items": items,
        "totals": {
            k: _t(total, p)
            for k, p in (
                ("products", "vProd"),
                ("icms_base", "ICMSTot/vBC"),
                ("icms", "ICMSTot/vICMS"),
                ("pis", "vPIS"),
                ("cofins", "vCOFINS"),
                ("fust", "vFUST"),
                ("funttel", "vFUNTTEL"),
                ("discount", "vDesc"),
                ("total", "vNF"),
            )
        },
        "billing": {
            "competence": _t(fat, "CompetFat"),
            "due": _t(fat, "dVencFat"),
            "barcode": _t(fat, "codBarras"),
            "pix": _t(fat, "gPIX/urlQRCodePIX"),
            "period": (_t(fat, "dPerUsoIni"), _t(fat, "dPerUsoFim")),
        },
        "qr": _t(nfcom, "infNFComSupl/qrCodNFCom"),
        "protocol": _t(prot, "nProt") if prot is not None else "",
        "authorized_at": _t(prot, "dhRecbto") if prot is not None else "",
        "additional": _t(inf, "infAdic/infCpl"),
    }


def render_danfecom(
    xml: str | bytes, *, protocol: str = "", authorized_at: str = "", cancelled: bool = False
) -> bytes:
    """An A4 DANFE-COM. Homologation prints 'SEM VALOR FISCAL'; `cancelled` a CANCELADA stamp."""
    import segno
    from fpdf import FPDF

    d = parse(xml)
    protocol = protocol or d["protocol"]
    authorized_at = authorized_at or d["authorized_at"]
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"DANFE-COM {d['number']}")
    pdf.set_author(_latin(d["issuer"]["name"]))
    pdf.set_creator("Retaguarda")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    left, width = 10, 190

    def box_title(y: float, title: str) -> float:
        pdf.set_fill_color(232, 236, 241)
        pdf.set_xy(left, y)
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(width, 5, _latin(title), border=1, fill=True)
        return y + 5

    def field(x: float, y: float, w: float, label: str, value: str, h: float = 9, size: float = 9) -> None:
        pdf.rect(x, y, w, h)
        pdf.set_xy(x + 1, y + 0.6)
        pdf.set_font("Helvetica", "", 6)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(w - 2, 3, _latin(label))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Helvetica", "B", size)
        pdf.set_xy(x + 1, y + 3.6)
        pdf.cell(w - 2, 4.5, _latin(value)[: int(w * 0.65)])

    # Header: issuer and the document --------------------------------------------------------
    i = d["issuer"]
    pdf.set_xy(left, 10)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(150, 6, "DANFE-COM")
    pdf.set_xy(left, 16)
    pdf.set_font("Helvetica", "", 7.5)
    pdf.cell(150, 4, _latin("Documento Auxiliar da Nota Fiscal Fatura de Serviços de Comunicação Eletrônica"))
    pdf.set_xy(left, 21)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(150, 4.5, _latin(i["name"]))
    pdf.set_xy(left, 25.5)
    pdf.set_font("Helvetica", "", 7.5)
    pdf.cell(150, 4, _latin(f"CNPJ {_doc(i['cnpj'])}   IE {i['ie']}"))
    pdf.set_xy(left, 29.5)
    pdf.cell(150, 4, _latin(i["address"])[:110])
    qr = segno.make(d["qr"] or d["key"], error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=5, border=1)
    png.seek(0)
    pdf.image(png, x=165, y=8, w=35, h=35)
    y: float = 35
    if d["environment"] == "2":
        pdf.set_fill_color(255, 244, 214)
        pdf.set_text_color(138, 90, 0)
        pdf.set_xy(left, y)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(
            150,
            6,
            _latin("EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL"),
            border=1,
            fill=True,
            align="C",
        )
        pdf.set_text_color(0, 0, 0)
        y += 8
    if d["emission_type"] == "2":
        pdf.set_xy(left, y)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(150, 5, _latin("EMITIDA EM CONTINGÊNCIA"), border=1, align="C")
        y += 7
    y = max(y, 45)
    field(left, y, 30, "NÚMERO", d["number"], size=11)
    field(left + 30, y, 20, "SÉRIE", d["series"])
    field(left + 50, y, 50, "EMISSÃO", _when(d["issued_at"]))
    field(
        left + 100,
        y,
        90,
        "PROTOCOLO DE AUTORIZAÇÃO",
        f"{protocol} {_when(authorized_at)}" if protocol else "-",
    )
    y += 9
    field(left, y, width, "CHAVE DE ACESSO", _key_groups(d["key"]), size=9)
    y += 12

    # Subscriber ---------------------------------------------------------------------------------
    y = box_title(y, "ASSINANTE / DESTINATÁRIO")
    r, s, b = d["recipient"], d["subscriber"], d["billing"]
    field(left, y, 45, "CPF / CNPJ", _doc(r["document"]))
    field(left + 45, y, 95, "NOME / RAZÃO SOCIAL", r["name"])
    field(left + 140, y, 50, "CÓDIGO DO ASSINANTE", s["code"], size=7.5)
    y += 9
    field(left, y, 140, "ENDEREÇO", r["address"] or "-", size=8)
    field(left + 140, y, 50, "TERMINAL PRINCIPAL", s["terminal"] or "-")
    y += 9
    competence = b["competence"]
    col = width / 4
    field(
        left, y, col, "REFERÊNCIA (COMPETÊNCIA)", f"{competence[4:]}/{competence[:4]}" if competence else "-"
    )
    field(left + col, y, col, "VENCIMENTO", _date(b["due"]))
    field(left + 2 * col, y, col, "TOTAL A PAGAR", _brl(d["totals"]["total"]), size=11)
    field(left + 3 * col, y, col, "CONTRATO", s["contract"] or "-")
    y += 12

    # Items ----------------------------------------------------------------------------------------
    y = box_title(y, "ITENS DA FATURA")
    cols = [
        ("ITEM", 10),
        ("DESCRIÇÃO", 70),
        ("cClass", 18),
        ("CFOP", 12),
        ("UN", 10),
        ("QTD", 18),
        ("VALOR UNIT.", 20),
        ("TOTAL", 20),
        ("ICMS %", 12),
    ]
    pdf.set_font("Helvetica", "B", 6.5)
    x: float = left
    for label, w in cols:
        pdf.set_xy(x, y)
        pdf.cell(w, 5, _latin(label), border=1, align="C")
        x += w
    y += 5
    pdf.set_font("Helvetica", "", 7)
    shown = d["items"][:20]
    for item in shown:
        values = [
            item["n"],
            item["description"][:48],
            item["cclass"],
            item["cfop"],
            item["unit"],
            _num(item["quantity"], 4),
            _num(item["unit_price"]),
            _num(item["total"]),
            _num(item["icms_rate"]) if item["icms_rate"] else "-",
        ]
        x = float(left)
        for (_label, w), value in zip(cols, values, strict=True):
            pdf.set_xy(x, y)
            pdf.cell(w, 4.5, _latin(value), border=1, align="L" if _label == "DESCRIÇÃO" else "R")
            x += w
        y += 4.5
    if len(d["items"]) > len(shown):
        pdf.set_xy(left, y)
        pdf.cell(width, 4.5, _latin(f"... e mais {len(d['items']) - len(shown)} itens (ver XML)"), border=1)
        y += 4.5
    y += 3

    # Taxes -------------------------------------------------------------------------------------------
    y = box_title(y, "TRIBUTOS")
    t = d["totals"]
    col = width / 7
    for n, (label, key) in enumerate(
        (
            ("BASE ICMS", "icms_base"),
            ("ICMS", "icms"),
            ("PIS", "pis"),
            ("COFINS", "cofins"),
            ("FUST", "fust"),
            ("FUNTTEL", "funttel"),
            ("VALOR TOTAL", "total"),
        )
    ):
        field(left + n * col, y, col, label, _brl(t[key]), size=8)
    y += 12

    # Billing -------------------------------------------------------------------------------------------
    y = box_title(y, "FATURA")
    field(
        left,
        y,
        width,
        "LINHA DIGITÁVEL / CÓDIGO DE BARRAS",
        b["barcode"] if b["barcode"] != "0" else "-",
        size=8,
    )
    y += 9
    if b["pix"]:
        field(left, y, width, "PIX", b["pix"][:120], size=7)
        y += 9
    y += 2
    pdf.set_xy(left, y)
    pdf.set_font("Helvetica", "", 7)
    pdf.multi_cell(
        width,
        3.4,
        _latin(
            "Consulte pela chave de acesso em https://dfe-portal.svrs.rs.gov.br/NFCom/Consulta "
            "ou leia o QR code. " + (d["additional"] or "")
        ),
        align="L",
    )
    if cancelled:
        pdf.set_text_color(185, 28, 28)
        pdf.set_font("Helvetica", "B", 60)
        with pdf.rotation(30, x=105, y=150):
            pdf.text(45, 170, "CANCELADA")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
