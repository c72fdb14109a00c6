"""Our DANFSe: a PDF rendered (fpdf2) from the authorized NFS-e XML, with a QR code (segno) to the
public consultation, for providers that serve none (the sandbox) or when theirs is unavailable.

QR/consultation URL: `https://www.nfse.gov.br/ConsultaPublica/?tpc=1&chave=<50-digit key>` (the
address several independent DANFSe implementations decode from the official PDF, citing NT-008).
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.municipalities import municipality_name

CONSULTA_PUBLICA = "https://www.nfse.gov.br/ConsultaPublica/?tpc=1&chave="
TAX_REGIMES = {"1": "Não optante", "2": "MEI", "3": "Simples Nacional ME/EPP"}


def consultation_url(access_key: str) -> str:
    return CONSULTA_PUBLICA + access_key


def _text(node: Any, *path: str) -> str:
    """Text of the first descendant following `path` by local names (namespace-agnostic)."""
    current = [node]
    for name in path:
        found = []
        for el in current:
            found.extend(c for c in el.iterchildren() if isinstance(c.tag, str)
                         and etree.QName(c).localname == name)
        if not found:
            return ""
        current = found
    return (current[0].text or "").strip()


def _child(node: Any, name: str) -> Any:
    for c in node.iter():
        if isinstance(c.tag, str) and etree.QName(c).localname == name:
            return c
    return None


def parse_nfse(xml: str | bytes) -> dict[str, Any]:
    """The fields the DANFSe shows, from an NFS-e XML (v1.00/v1.01)."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    inf = _child(root, "infNFSe")
    if inf is None:
        raise ValueError("not an NFS-e document (no infNFSe)")
    dps = _child(inf, "infDPS")
    emit = _child(inf, "emit")
    toma = _child(dps, "toma") if dps is not None else None
    key = (inf.get("Id") or "")[3:]
    addr = _child(emit, "enderNac") if emit is not None else None
    ibscbs = None
    for el in inf.iterchildren():
        if isinstance(el.tag, str) and etree.QName(el).localname == "IBSCBS":
            ibscbs = el
    # Names the note itself gives for its codes, then the IBGE table: addresses carry only cMun.
    known = {code: name for code, name in (
        (_text(dps, "cLocEmi") if dps is not None else "", _text(inf, "xLocEmi")),
        (_text(dps, "serv", "locPrest", "cLocPrestacao") if dps is not None else "",
         _text(inf, "xLocPrestacao")),
        (_text(inf, "cLocIncid"), _text(inf, "xLocIncid"))) if code and name}
    data: dict[str, Any] = {
        "access_key": key,
        "number": _text(inf, "nNFSe"),
        "processed_at": _text(inf, "dhProc"),
        "environment": _text(inf, "ambGer"),
        "location": _text(inf, "xLocPrestacao") or _text(inf, "xLocEmi"),
        "incidence": _text(inf, "xLocIncid"),
        "service_name": _text(inf, "xTribNac"),
        "status_code": _text(inf, "cStat"),
        "issuer": {
            "document": _text(emit, "CNPJ") or _text(emit, "CPF") if emit is not None else "",
            "im": _text(emit, "IM") if emit is not None else "",
            "name": _text(emit, "xNome") if emit is not None else "",
            "email": _text(emit, "email") if emit is not None else "",
            "address": ", ".join(x for x in (_text(addr, "xLgr"), _text(addr, "nro"), _text(addr, "xBairro"),
                                             f"{municipality_name(_text(addr, 'cMun'), known)} / "
                                             f"{_text(addr, 'UF')}",
                                             f"CEP {_text(addr, 'CEP')}") if x.strip(" /"))
            if addr is not None else "",
        },
        "values": {
            "base": _text(inf, "valores", "vBC"), "rate": _text(inf, "valores", "pAliqAplic"),
            "iss": _text(inf, "valores", "vISSQN"), "withheld": _text(inf, "valores", "vTotalRet"),
            "net": _text(inf, "valores", "vLiq"),
        },
    }
    if dps is not None:
        data.update({
            "dps_series": _text(dps, "serie"), "dps_number": _text(dps, "nDPS"),
            "competence": _text(dps, "dCompet"), "issued_at": _text(dps, "dhEmi"),
            "environment_dps": _text(dps, "tpAmb"),
            "service": {"code": _text(dps, "serv", "cServ", "cTribNac"),
                        "description": _text(dps, "serv", "cServ", "xDescServ"),
                        "nbs": _text(dps, "serv", "cServ", "cNBS"),
                        "place": _text(dps, "serv", "locPrest", "cLocPrestacao")},
            "amount": _text(dps, "valores", "vServPrest", "vServ"),
            "deductions": _text(_child(dps, "vDedRed") if _child(dps, "vDedRed") is not None else dps,
                                "vDR"),
            "iss_retention": _text(dps, "valores", "trib", "tribMun", "tpRetISSQN"),
            "regime": TAX_REGIMES.get(_text(dps, "prest", "regTrib", "opSimpNac"), ""),
        })
    if toma is not None:
        end = _child(toma, "end")
        data["tomador"] = {
            "document": _text(toma, "CNPJ") or _text(toma, "CPF"), "name": _text(toma, "xNome"),
            "email": _text(toma, "email"),
            "address": ", ".join(x for x in (_text(end, "xLgr"), _text(end, "nro"), _text(end, "xBairro"),
                                             municipality_name(_text(end, "endNac", "cMun"), known),
                                             f"CEP {_text(end, 'endNac', 'CEP')}") if x.strip())
            if end is not None else "",
        }
    if ibscbs is not None:
        data["ibscbs"] = {
            "base": _text(ibscbs, "valores", "vBC"),
            "cbs_rate": _text(ibscbs, "valores", "fed", "pCBS"),
            "ibs_uf_rate": _text(ibscbs, "valores", "uf", "pIBSUF"),
            "ibs_mun_rate": _text(ibscbs, "valores", "mun", "pIBSMun"),
            "cbs": _text(ibscbs, "totCIBS", "gCBS", "vCBS"),
            "ibs_uf": _text(ibscbs, "totCIBS", "gIBS", "gIBSUFTot", "vIBSUF"),
            "ibs_mun": _text(ibscbs, "totCIBS", "gIBS", "gIBSMunTot", "vIBSMun"),
            "ibs": _text(ibscbs, "totCIBS", "gIBS", "vIBSTot"),
        }
    return data


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


def _pct(value: str) -> str:
    return f"{Decimal(value):.2f} %".replace(".", ",") if value else "-"


def _when(value: str) -> str:
    if not value:
        return "-"
    try:
        at = datetime.fromisoformat(value)
        # São Paulo wall clock whatever offset the authority wrote (a naive value already is one).
        return (at.astimezone(SAO_PAULO) if at.tzinfo else at).strftime("%d/%m/%Y %H:%M:%S")
    except ValueError:
        return value


def _date(value: str) -> str:
    if len(value) == 10 and value[4] == "-":
        return f"{value[8:]}/{value[5:7]}/{value[:4]}"
    return value or "-"


def _latin(text: Any) -> str:
    return str(text).replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def _key_groups(key: str) -> str:
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def render_danfse(nfse_xml: str, *, sandbox: bool = False, cancelled: bool = False) -> bytes:
    """An A4 DANFSe. `sandbox` prints a 'no fiscal value' band; `cancelled` a CANCELADA stamp."""
    import segno
    from fpdf import FPDF

    d = parse_nfse(nfse_xml)
    homolog = sandbox or d.get("environment_dps") == "2"
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"DANFSe {d['number']}")
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

    def field(x: float, y: float, w: float, label: str, value: str, h: float = 9,
              size: float = 9) -> None:
        pdf.rect(x, y, w, h)
        pdf.set_xy(x + 1, y + 0.6)
        pdf.set_font("Helvetica", "", 6)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(w - 2, 3, _latin(label))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Helvetica", "B", size)
        pdf.set_xy(x + 1, y + 3.6)
        pdf.cell(w - 2, 4.5, _latin(value)[:int(w * 0.6)])

    # Header ---------------------------------------------------------------------------------
    pdf.set_xy(left, 10)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(150, 7, "DANFSe - Documento Auxiliar da NFS-e")
    pdf.set_xy(left, 17)
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(150, 4, _latin("Nota Fiscal de Serviço eletrônica - padrão nacional (layout v1.01)"))
    qr = segno.make(consultation_url(d["access_key"]), error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=6, border=1)
    png.seek(0)
    pdf.image(png, x=170, y=8, w=30, h=30)
    pdf.set_xy(150, 38)
    pdf.set_font("Helvetica", "", 5.5)
    pdf.multi_cell(50, 2.4, _latin("Consulte a autenticidade em www.nfse.gov.br/ConsultaPublica "
                                   "lendo o QR code ou com a chave de acesso."), align="C")
    if homolog:
        pdf.set_fill_color(255, 244, 214)
        pdf.set_text_color(138, 90, 0)
        pdf.set_xy(left, 23)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(155, 6, _latin("SANDBOX / PRODUÇÃO RESTRITA - SEM VALOR FISCAL"), border=1, fill=True,
                 align="C")
        pdf.set_text_color(0, 0, 0)
    y = 31
    field(left, y, 35, "NÚMERO DA NFS-e", d["number"] or "-", size=11)
    field(left + 35, y, 40, "COMPETÊNCIA", _date(d.get("competence", "")))
    field(left + 75, y, 63, "DATA E HORA DA AUTORIZAÇÃO", _when(d["processed_at"]))
    y += 9
    field(left, y, 35, "SÉRIE / Nº DA DPS", f"{d.get('dps_series', '-')} / {d.get('dps_number', '-')}")
    field(left + 35, y, 103, "EMISSÃO DA DPS", _when(d.get("issued_at", "")))
    y += 9
    field(left, y, 138, "CHAVE DE ACESSO DA NFS-e", _key_groups(d["access_key"]), size=8.5)
    y += 12

    # Issuer / tomador -------------------------------------------------------------------------
    y = box_title(y, "PRESTADOR DO SERVIÇO (EMITENTE)")
    i = d["issuer"]
    field(left, y, 45, "CNPJ / CPF", _doc(i["document"]))
    field(left + 45, y, 35, "INSCRIÇÃO MUNICIPAL", i["im"] or "-")
    field(left + 80, y, 110, "NOME / RAZÃO SOCIAL", i["name"])
    y += 9
    field(left, y, 130, "ENDEREÇO", i["address"] or "-", size=8)
    field(left + 130, y, 60, "REGIME", d.get("regime") or "-", size=8)
    y += 12
    y = box_title(y, "TOMADOR DO SERVIÇO")
    t = d.get("tomador") or {}
    field(left, y, 45, "CNPJ / CPF", _doc(t.get("document", "")))
    field(left + 45, y, 145, "NOME / RAZÃO SOCIAL", t.get("name", "-"))
    y += 9
    field(left, y, 130, "ENDEREÇO", t.get("address") or "-", size=8)
    field(left + 130, y, 60, "E-MAIL", t.get("email") or "-", size=8)
    y += 12

    # Service ------------------------------------------------------------------------------------
    y = box_title(y, "SERVIÇO PRESTADO")
    s = d.get("service") or {}
    field(left, y, 35, "CÓDIGO NACIONAL (cTribNac)", s.get("code", "-"))
    field(left + 35, y, 30, "CÓDIGO NBS", s.get("nbs") or "-")
    field(left + 65, y, 65, "LOCAL DA PRESTAÇÃO", d.get("location") or s.get("place", "-"))
    field(left + 130, y, 60, "MUNICÍPIO DE INCIDÊNCIA", d.get("incidence") or "-")
    y += 9
    pdf.rect(left, y, width, 28)
    pdf.set_xy(left + 1, y + 0.6)
    pdf.set_font("Helvetica", "", 6)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(width - 2, 3, _latin("DESCRIÇÃO DO SERVIÇO"))
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(left + 1, y + 4)
    pdf.set_font("Helvetica", "B", 8)
    pdf.multi_cell(width - 2, 3.6, _latin(d.get("service_name") or ""))
    pdf.set_x(left + 1)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(width - 2, 4.2, _latin(s.get("description", ""))[:900])
    y += 31

    # Values --------------------------------------------------------------------------------------
    y = box_title(y, "VALORES E TRIBUTAÇÃO MUNICIPAL (ISSQN)")
    v = d["values"]
    retained = d.get("iss_retention") in ("2", "3")
    col = width / 6
    field(left, y, col, "VALOR DO SERVIÇO", _brl(d.get("amount", "")))
    field(left + col, y, col, "DEDUÇÕES", _brl(d.get("deductions") or "0"))
    field(left + 2 * col, y, col, "BASE DE CÁLCULO", _brl(v["base"]))
    field(left + 3 * col, y, col, "ALÍQUOTA", _pct(v["rate"]))
    field(left + 4 * col, y, col, "ISSQN" + (" (RETIDO)" if retained else ""), _brl(v["iss"]))
    field(left + 5 * col, y, col, "VALOR LÍQUIDO", _brl(v["net"]))
    y += 12
    ib = d.get("ibscbs")
    if ib:
        y = box_title(y, "REFORMA TRIBUTÁRIA - IBS / CBS (ANO-TESTE 2026, INFORMATIVO)")
        field(left, y, col, "BASE IBS/CBS", _brl(ib["base"]))
        field(left + col, y, col, f"CBS ({_pct(ib['cbs_rate'])})", _brl(ib["cbs"]))
        field(left + 2 * col, y, col, f"IBS UF ({_pct(ib['ibs_uf_rate'])})", _brl(ib["ibs_uf"]))
        field(left + 3 * col, y, col, f"IBS MUN ({_pct(ib['ibs_mun_rate'])})", _brl(ib["ibs_mun"]))
        field(left + 4 * col, y, col, "IBS TOTAL", _brl(ib["ibs"]))
        field(left + 5 * col, y, col, "ISS RETIDO", "Sim" if retained else "Não")
        y += 12

    # Footer ----------------------------------------------------------------------------------------
    pdf.set_xy(left, y + 2)
    pdf.set_font("Helvetica", "", 7)
    pdf.multi_cell(width, 3.4, _latin(
        "Documento auxiliar gerado pelo Retaguarda a partir do XML da NFS-e autorizada. "
        f"Consulta pública: {consultation_url(d['access_key'])}"), align="L")
    if cancelled:
        pdf.set_text_color(185, 28, 28)
        pdf.set_font("Helvetica", "B", 60)
        with pdf.rotation(30, x=105, y=150):
            pdf.text(45, 170, "CANCELADA")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
