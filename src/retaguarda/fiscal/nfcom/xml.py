"""NFCom v1.00 XML: the document (`NFCom`), the cancellation event and the web-service messages,
built with lxml in the schema's group order and validated against the official package in
`xsd/` (PL_NFCOM_1.00_NT2026.002_RTC_1.01) before anything leaves the process.

Hygiene the MOC requires (rules C02-C05): one default namespace on the root, no prefixes, no
whitespace between tags, no empty optional tags, UTF-8. `build_nfcom` returns the unsigned tree
(infNFCom + infNFComSupl); `sign.sign_nfcom` appends the Signature as the third child.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from retaguarda.fiscal.nfcom.key import UF_CODES, compose
from retaguarda.fiscal.nfcom.values import (
    CENT,
    Item,
    ItemTotals,
    Taxes,
    cents,
    document_totals,
    item_totals,
)

__all__ = (
    "CENT",
    "Address",
    "Billing",
    "Issuer",
    "Item",
    "ItemTotals",
    "NfcomRequest",
    "NfcomXmlError",
    "Recipient",
    "Subscriber",
    "Taxes",
    "TechResponsible",
    "build_cancel_event",
    "build_nfcom",
    "cents",
    "document_totals",
    "item_totals",
    "parse",
    "to_bytes",
    "validate",
    "validation_errors",
)

NS = "http://www.portalfiscal.inf.br/nfcom"
VERSION = "1.00"
XSD_DIR = Path(__file__).resolve().parent / "xsd"
TZ = ZoneInfo("America/Sao_Paulo")
ENVIRONMENTS = {"producao": "1", "homologacao": "2"}
UNITS = {"MIN": "1", "MB": "2", "GB": "3", "UN": "4"}
"""uMed codes: 1 minuto, 2 MB, 3 GB, 4 UN."""
QR_HOSTS = {
    "SVRS": "https://dfe-portal.svrs.rs.gov.br/NFCom/qrcode",
    "MG": "https://portalnfcom.fazenda.mg.gov.br/qrcode",
}
VER_PROC = "Retaguarda 1.0"


class NfcomXmlError(ValueError):
    """The document does not validate against the official schema; `errors` lists each finding."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


def dec2(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def rate4(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001')):.4f}"


def unit_price_text(value: Decimal) -> str:
    """vItem (13.2-8): two decimals at least, up to eight."""
    exponent = value.normalize().as_tuple().exponent
    places = min(8, max(2, -exponent if isinstance(exponent, int) else 2))
    return f"{value.quantize(Decimal(1).scaleb(-places)):.{places}f}"


def dh(moment: datetime) -> str:
    """TDateTimeUTC: local time with its UTC offset, seconds precision (2025-03-06T09:48:58-03:00)."""
    return moment.astimezone(TZ).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Address:
    street: str
    number: str
    district: str
    municipality_ibge: str
    city: str
    uf: str
    cep: str = ""
    complement: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Issuer:
    cnpj: str
    state_registration: str
    name: str
    address: Address
    crt: int = 3
    """CRT: 1 Simples Nacional, 2 Simples above the sub-limit, 3 regime normal."""
    trade_name: str = ""


@dataclass(frozen=True)
class Recipient:
    name: str
    document: str
    """CPF (11 digits) or CNPJ (14)."""
    address: Address
    state_registration: str = ""
    """Empty: not a contributor (indIEDest 9); "ISENTO": exempt (2); otherwise a contributor (1)."""


@dataclass(frozen=True)
class Subscriber:
    code: str
    """iCodAssinante: the customer's code at the ISP (≤ 30 characters)."""
    kind: int = 3
    """tpAssinante: 1 comercial, 2 industrial, 3 residencial/PF, … 99 outros."""
    service_type: int = 4
    """tpServUtil: 4 provimento de acesso à Internet."""
    contract: str = ""
    contract_start: date | None = None
    contract_end: date | None = None
    terminal: str = ""
    terminal_uf: str = ""


@dataclass(frozen=True)
class Billing:
    competence: date
    due_date: date
    barcode: str
    """Linha digitável / barcode digits (1-48), mandatory in gFat."""
    period_start: date | None = None
    period_end: date | None = None
    pix_url: str = ""


@dataclass(frozen=True)
class TechResponsible:
    cnpj: str
    contact: str
    email: str
    phone: str


@dataclass(frozen=True)
class NfcomRequest:
    """Everything one NFCom carries. `environment` in ENVIRONMENTS; `number` from the gap-free
    sequence of `series`; `random_code` the 7-digit cNF kept across retries of one emission."""

    environment: str
    series: int
    number: int
    random_code: str
    issued_at: datetime
    issuer: Issuer
    recipient: Recipient
    subscriber: Subscriber
    items: tuple[Item, ...]
    taxes: Taxes
    billing: Billing | None = None
    additional_info: str = ""
    tech: TechResponsible | None = None
    emission_type: int = 1
    site: int = 0
    qr_host: str = QR_HOSTS["SVRS"]
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def access_key(self) -> str:
        return compose(
            uf=self.issuer.address.uf,
            issued_on=self.issued_at.astimezone(TZ).date(),
            cnpj=self.issuer.cnpj,
            series=self.series,
            number=self.number,
            random_code=self.random_code,
            emission_type=self.emission_type,
            site=self.site,
        )


# Building -----------------------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _opt(parent: etree._Element, tag: str, text: str | None) -> None:
    """Optional tags are left out when empty (rule C05: no empty tags)."""
    if text:
        _sub(parent, tag, text)


_LATIN1 = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'",
                         "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u20ac": "EUR"})


def _clean(text: str, limit: int) -> str:
    """One-line text within the layout's character set (TString: `[!-ÿ]` … Latin-1): typographic
    dashes and quotes become ASCII (the billing run's descriptions carry an en dash), other
    characters outside Latin-1 are decomposed to their base letter or dropped."""
    import unicodedata

    raw = " ".join(str(text or "").translate(_LATIN1).split())
    if any(ord(ch) > 0xFF for ch in raw):
        raw = "".join(
            ch if ord(ch) <= 0xFF else "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) <= 0xFF)
            for ch in raw
        )
        raw = " ".join(raw.split())
    return raw[:limit]


def _address(parent: etree._Element, tag: str, a: Address, *, country: bool = False) -> None:
    el = _sub(parent, tag)
    _sub(el, "xLgr", _clean(a.street, 255) or "Nao informado")
    _sub(el, "nro", _clean(a.number, 60) or "S/N")
    _opt(el, "xCpl", _clean(a.complement, 60))
    _sub(el, "xBairro", _clean(a.district, 60) or "Nao informado")
    _sub(el, "cMun", a.municipality_ibge)
    _sub(el, "xMun", _clean(a.city, 60) or "Nao informado")
    _opt(el, "CEP", "".join(c for c in a.cep if c.isdigit()) or None)
    _sub(el, "UF", a.uf)
    if country:
        pass  # cPais/xPais only for UF=EX
    _opt(el, "fone", "".join(c for c in a.phone if c.isdigit())[:12] or None)
    _opt(el, "email", _clean(a.email, 60))


def _ide(inf: etree._Element, r: NfcomRequest, key: str) -> None:
    ide = _sub(inf, "ide")
    _sub(ide, "cUF", key[:2])
    _sub(ide, "tpAmb", ENVIRONMENTS[r.environment])
    _sub(ide, "mod", "62")
    _sub(ide, "serie", str(r.series))
    _sub(ide, "nNF", str(r.number))
    _sub(ide, "cNF", key[36:43])
    _sub(ide, "cDV", key[43])
    _sub(ide, "dhEmi", dh(r.issued_at))
    _sub(ide, "tpEmis", str(r.emission_type))
    _sub(ide, "nSiteAutoriz", str(r.site))
    _sub(ide, "cMunFG", r.issuer.address.municipality_ibge)
    _sub(ide, "finNFCom", "0")
    _sub(ide, "tpFat", "0")
    _sub(ide, "verProc", VER_PROC)


def _emit(inf: etree._Element, i: Issuer) -> None:
    emit = _sub(inf, "emit")
    _sub(emit, "CNPJ", i.cnpj)
    _sub(emit, "IE", i.state_registration)
    _sub(emit, "CRT", str(i.crt))
    _sub(emit, "xNome", _clean(i.name, 60))
    _opt(emit, "xFant", _clean(i.trade_name, 60))
    _address(emit, "enderEmit", i.address)


def _dest(inf: etree._Element, d: Recipient) -> None:
    dest = _sub(inf, "dest")
    _sub(dest, "xNome", _clean(d.name, 60))
    _sub(dest, "CNPJ" if len(d.document) == 14 else "CPF", d.document)
    ie = d.state_registration.strip().upper()
    _sub(dest, "indIEDest", "9" if not ie else ("2" if ie == "ISENTO" else "1"))
    if ie and ie != "ISENTO":
        _sub(dest, "IE", ie)
    _address(dest, "enderDest", d.address)


def _assinante(inf: etree._Element, s: Subscriber) -> None:
    el = _sub(inf, "assinante")
    _sub(el, "iCodAssinante", _clean(s.code, 30))
    _sub(el, "tpAssinante", str(s.kind))
    _sub(el, "tpServUtil", str(s.service_type))
    _opt(el, "nContrato", _clean(s.contract, 20))
    if s.contract_start:
        _sub(el, "dContratoIni", s.contract_start.isoformat())
    if s.contract_end:
        _sub(el, "dContratoFim", s.contract_end.isoformat())
    if s.terminal and s.terminal_uf:
        _sub(el, "NroTermPrinc", "".join(c for c in s.terminal if c.isdigit())[:12])
        _sub(el, "cUFPrinc", UF_CODES[s.terminal_uf])


def _det(inf: etree._Element, n: int, item: Item, taxes: Taxes) -> None:
    t = item_totals(item, taxes)
    det = _sub(inf, "det")
    det.set("nItem", str(n))
    prod = _sub(det, "prod")
    _sub(prod, "cProd", _clean(item.code, 60))
    _sub(prod, "xProd", _clean(item.description, 120))
    _sub(prod, "cClass", item.cclass)
    _sub(prod, "CFOP", item.cfop)
    _sub(prod, "uMed", UNITS[item.unit])
    _sub(prod, "qFaturada", rate4(item.quantity))
    _sub(prod, "vItem", unit_price_text(item.unit_price))
    if item.discount:
        _sub(prod, "vDesc", dec2(item.discount))
    _sub(prod, "vProd", dec2(t.gross))
    imposto = _sub(det, "imposto")
    if taxes.icms_mode == "normal":
        icms = _sub(imposto, "ICMS00")
        _sub(icms, "CST", "00")
        _sub(icms, "vBC", dec2(t.icms_base))
        _sub(icms, "pICMS", dec2(taxes.icms_rate))
        _sub(icms, "vICMS", dec2(t.icms))
    else:
        icms = _sub(imposto, "ICMSSN")
        _sub(icms, "CST", "90")
        _sub(icms, "indSN", "1")
    for tag, value, rate_ in (("PIS", t.pis, taxes.pis_rate), ("COFINS", t.cofins, taxes.cofins_rate)):
        if rate_:
            g = _sub(imposto, tag)
            _sub(g, "CST", "01")
            _sub(g, "vBC", dec2(t.gross))
            _sub(g, f"p{tag}", rate4(rate_))
            _sub(g, f"v{tag}", dec2(value))
    for tag, value, rate_ in (("FUST", t.fust, taxes.fust_rate), ("FUNTTEL", t.funttel, taxes.funttel_rate)):
        if rate_:
            g = _sub(imposto, tag)
            _sub(g, "vBC", dec2(t.gross))
            _sub(g, f"p{tag}", rate4(rate_))
            _sub(g, f"v{tag}", dec2(value))
    if taxes.ibscbs:
        _ibscbs_item(imposto, t, taxes)


def _ibscbs_item(imposto: etree._Element, t: ItemTotals, taxes: Taxes) -> None:
    """IBS/CBS (tax reform) group, CST 000 / cClassTrib 000001 (regular taxation), informative."""
    g = _sub(imposto, "IBSCBS")
    _sub(g, "CST", "000")
    _sub(g, "cClassTrib", "000001")
    gi = _sub(g, "gIBSCBS")
    _sub(gi, "vBC", dec2(t.gross))
    uf = _sub(gi, "gIBSUF")
    _sub(uf, "pIBSUF", rate4(taxes.ibs_uf_rate))
    _sub(uf, "vIBSUF", dec2(t.ibs_uf))
    mun = _sub(gi, "gIBSMun")
    _sub(mun, "pIBSMun", rate4(taxes.ibs_mun_rate))
    _sub(mun, "vIBSMun", dec2(t.ibs_mun))
    _sub(gi, "vIBS", dec2(t.ibs_uf + t.ibs_mun))
    cbs = _sub(gi, "gCBS")
    _sub(cbs, "pCBS", rate4(taxes.cbs_rate))
    _sub(cbs, "vCBS", dec2(t.cbs))


def _total(inf: etree._Element, r: NfcomRequest) -> dict[str, Decimal]:
    tot = document_totals(r.items, r.taxes)
    discount = sum((i.discount for i in r.items), Decimal("0"))
    total = _sub(inf, "total")
    _sub(total, "vProd", dec2(tot["gross"]))
    icms = _sub(total, "ICMSTot")
    _sub(icms, "vBC", dec2(tot["icms_base"]))
    _sub(icms, "vICMS", dec2(tot["icms"]))
    _sub(icms, "vICMSDeson", "0.00")
    _sub(icms, "vFCP", "0.00")
    _sub(total, "vCOFINS", dec2(tot["cofins"]))
    _sub(total, "vPIS", dec2(tot["pis"]))
    _sub(total, "vFUNTTEL", dec2(tot["funttel"]))
    _sub(total, "vFUST", dec2(tot["fust"]))
    ret = _sub(total, "vRetTribTot")
    for tag in ("vRetPIS", "vRetCofins", "vRetCSLL", "vIRRF"):
        _sub(ret, tag, "0.00")
    _sub(total, "vDesc", dec2(discount))
    _sub(total, "vOutro", "0.00")
    _sub(total, "vNF", dec2(tot["total"]))
    if r.taxes.ibscbs:
        g = _sub(total, "IBSCBSTot")
        _sub(g, "vBCIBSCBS", dec2(tot["gross"]))
        gibs = _sub(g, "gIBS")
        guf = _sub(gibs, "gIBSUF")
        _sub(guf, "vDif", "0.00")
        _sub(guf, "vDevTrib", "0.00")
        _sub(guf, "vIBSUF", dec2(tot["ibs_uf"]))
        gmun = _sub(gibs, "gIBSMun")
        _sub(gmun, "vDif", "0.00")
        _sub(gmun, "vDevTrib", "0.00")
        _sub(gmun, "vIBSMun", dec2(tot["ibs_mun"]))
        _sub(gibs, "vIBS", dec2(tot["ibs_uf"] + tot["ibs_mun"]))
        gcbs = _sub(g, "gCBS")
        _sub(gcbs, "vDif", "0.00")
        _sub(gcbs, "vDevTrib", "0.00")
        _sub(gcbs, "vCBS", dec2(tot["cbs"]))
        _sub(total, "vTotDFe", dec2(tot["total"] + tot["ibs_uf"] + tot["ibs_mun"] + tot["cbs"]))
    return tot


def _gfat(inf: etree._Element, b: Billing) -> None:
    g = _sub(inf, "gFat")
    _sub(g, "CompetFat", f"{b.competence:%Y%m}")
    _sub(g, "dVencFat", b.due_date.isoformat())
    if b.period_start and b.period_end:
        _sub(g, "dPerUsoIni", b.period_start.isoformat())
        _sub(g, "dPerUsoFim", b.period_end.isoformat())
    _sub(g, "codBarras", "".join(c for c in b.barcode if c.isdigit())[:48] or "0")
    if b.pix_url:
        pix = _sub(g, "gPIX")
        _sub(pix, "urlQRCodePIX", b.pix_url[:2000])


def qr_code_url(host: str, key: str, environment: str, sign: str = "") -> str:
    url = f"{host}?chNFCom={key}&tpAmb={ENVIRONMENTS[environment]}"
    return f"{url}&sign={sign}" if sign else url


def build_nfcom(r: NfcomRequest) -> etree._Element:
    """The unsigned `NFCom` (infNFCom + infNFComSupl), groups in schema order."""
    if not r.items:
        raise NfcomXmlError(["an NFCom needs at least one item"])
    key = r.access_key
    root = etree.Element(_q("NFCom"), nsmap={None: NS})
    inf = _sub(root, "infNFCom")
    inf.set("versao", VERSION)
    inf.set("Id", f"NFCom{key}")
    _ide(inf, r, key)
    _emit(inf, r.issuer)
    _dest(inf, r.recipient)
    _assinante(inf, r.subscriber)
    for n, item in enumerate(r.items, start=1):
        _det(inf, n, item, r.taxes)
    _total(inf, r)
    if r.billing is not None:
        _gfat(inf, r.billing)
    if r.additional_info:
        adic = _sub(inf, "infAdic")
        _sub(adic, "infCpl", _clean(r.additional_info, 3000))
    if r.tech is not None:
        t = _sub(inf, "gRespTec")
        _sub(t, "CNPJ", r.tech.cnpj)
        _sub(t, "xContato", _clean(r.tech.contact, 60))
        _sub(t, "email", _clean(r.tech.email, 60))
        _sub(t, "fone", "".join(c for c in r.tech.phone if c.isdigit())[:12])
    supl = _sub(root, "infNFComSupl")
    _sub(supl, "qrCodNFCom", qr_code_url(r.qr_host, key, r.environment))
    return root


# Events and messages --------------------------------------------------------------------------

CANCEL_EVENT = "110111"


def build_cancel_event(
    *, key: str, environment: str, cnpj: str, protocol: str, reason: str, at: datetime, sequence: int = 1
) -> etree._Element:
    """`eventoNFCom` 110111 (Cancelamento), unsigned; `sign.sign_event` signs infEvento."""
    root = etree.Element(_q("eventoNFCom"), nsmap={None: NS})
    root.set("versao", VERSION)
    inf = _sub(root, "infEvento")
    inf.set("Id", f"ID{CANCEL_EVENT}{key}{sequence:03d}")
    _sub(inf, "cOrgao", key[:2])
    _sub(inf, "tpAmb", ENVIRONMENTS[environment])
    _sub(inf, "CNPJ", cnpj)
    _sub(inf, "chNFCom", key)
    _sub(inf, "dhEvento", dh(at))
    _sub(inf, "tpEvento", CANCEL_EVENT)
    _sub(inf, "nSeqEvento", str(sequence))
    det = _sub(inf, "detEvento")
    det.set("versaoEvento", VERSION)
    ev = _sub(det, "evCancNFCom")
    _sub(ev, "descEvento", "Cancelamento")
    _sub(ev, "nProt", protocol)
    _sub(ev, "xJust", _clean(reason, 255))
    return root


def build_consult(key: str, environment: str) -> etree._Element:
    root = etree.Element(_q("consSitNFCom"), nsmap={None: NS})
    root.set("versao", VERSION)
    _sub(root, "tpAmb", ENVIRONMENTS[environment])
    _sub(root, "xServ", "CONSULTAR")
    _sub(root, "chNFCom", key)
    return root


def build_status(environment: str) -> etree._Element:
    root = etree.Element(_q("consStatServNFCom"), nsmap={None: NS})
    root.set("versao", VERSION)
    _sub(root, "tpAmb", ENVIRONMENTS[environment])
    _sub(root, "xServ", "STATUS")
    return root


def processed(nfcom: etree._Element, prot: etree._Element) -> etree._Element:
    """`nfcomProc`: the signed NFCom with the authority's protNFCom."""
    import copy

    root = etree.Element(_q("nfcomProc"), nsmap={None: NS})
    root.set("versao", VERSION)
    root.append(copy.deepcopy(nfcom))
    root.append(copy.deepcopy(prot))
    return root


# Validation --------------------------------------------------------------------------------------

_schema_lock = threading.Lock()


@functools.cache
def _schema_cached(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name)))


def schema(name: str = "nfcom_v1.00.xsd") -> etree.XMLSchema:
    with _schema_lock:
        return _schema_cached(name)


SCHEMA_OF = {
    "NFCom": "nfcom_v1.00.xsd",
    "nfcomProc": "procNFCom_v1.00.xsd",
    "eventoNFCom": "eventoNFCom_v1.00.xsd",
    "consSitNFCom": "consSitNFCom_v1.00.xsd",
    "consStatServNFCom": "consStatServNFCom_v1.00.xsd",
    "retNFCom": "retNFCom_v1.00.xsd",
    "retEventoNFCom": "retEventoNFCom_v1.00.xsd",
    "retConsSitNFCom": "retConsSitNFCom_v1.00.xsd",
    "retConsStatServNFCom": "retConsStatServNFCom_v1.00.xsd",
    "procEventoNFCom": "procEventoNFCom_v1.00.xsd",
}


def validation_errors(doc: etree._Element) -> list[str]:
    """Schema findings for `doc` (by its root), empty when valid. The event's detEvento payload is
    checked too against its own schema (evCancNFCom)."""
    name = etree.QName(doc).localname
    found = SCHEMA_OF.get(name)
    if found is None:
        return [f"unknown root element {name}"]
    xsd = schema(found)
    errors = [] if xsd.validate(doc) else [f"line {e.line}: {e.message}" for e in xsd.error_log]
    if name == "eventoNFCom":
        payload = doc.find(f"{_q('infEvento')}/{_q('detEvento')}/{_q('evCancNFCom')}")
        if payload is not None:
            ev = schema("evCancNFCom_v1.00.xsd")
            if not ev.validate(payload):
                errors += [f"evCancNFCom: {e.message}" for e in ev.error_log]
    return errors


def validate(doc: etree._Element) -> None:
    errors = validation_errors(doc)
    if errors:
        raise NfcomXmlError(errors)


def to_bytes(doc: etree._Element) -> bytes:
    """Serialized as the authority wants it: UTF-8 declaration, no pretty printing."""
    return b'<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(doc, encoding="UTF-8")


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(
        data,
        etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=False),
    )
