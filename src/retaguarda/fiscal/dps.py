"""DPS (layout v1.01) and cancellation event (pedRegEvento e101101) XML, built with lxml exactly
per the official schemas shipped in `retaguarda/fiscal/xsd/`, plus schema validation, the
gzip+base64 transport encoding and the access-key check digit.

Identifiers (tiposSimples_v1.01.xsd):
- `infDPS/@Id` = "DPS" + cLocEmi (7) + registration type (1 CPF, 2 CNPJ) + registration (14,
  CPF left-padded with zeros) + série (5, zero-padded) + nDPS (15, zero-padded) — 45 chars.
- `infPedReg/@Id` = "PRE" + access key (50) + event type (6, "101101" = cancellation) — 59 chars.
- access key (50) = cLocEmi (7) + ambGer (1) + registration type (1) + registration (14) +
  nNFSe (13) + AAMM (4) + random code (9) + mod-11 check digit (1).
"""

from __future__ import annotations

import base64
import gzip
import re
import threading
import unicodedata
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

from retaguarda.fiscal.backends.base import DpsRequest, Party
from retaguarda.fiscal.taxes import cents
from retaguarda.shared.clock import SAO_PAULO

NS = "http://www.sped.fazenda.gov.br/nfse"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
VERSION = "1.01"
VER_APLIC = "Retaguarda-1.0"
XSD_DIR = Path(__file__).with_name("xsd")
SCHEMAS = {"DPS": "DPS_v1.01.xsd", "NFSe": "NFSe_v1.01.xsd",
           "pedRegEvento": "pedRegEvento_v1.01.xsd", "evento": "evento_v1.01.xsd"}
OP_SIMP_NAC = {"normal": "1", "mei": "2", "simples_nacional": "3"}
"""Our tax regime -> regTrib/opSimpNac (1 não optante, 2 MEI, 3 ME/EPP)."""
TP_AMB = {"producao": "1", "producao_restrita": "2"}
CANCEL_EVENT = "101101"
CANCEL_TEXT = "Cancelamento de NFS-e"


class DpsBuildError(ValueError):
    """The request cannot become a valid DPS; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SchemaError(ValueError):
    """A document does not validate against the official XSD; `errors` lists libxml2's messages."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        super().__init__(f"{kind} does not validate against the official XSD: " + "; ".join(errors[:5]))
        self.kind = kind
        self.errors = errors


# ----------------------------------------------------------------------------------- schemas

_local = threading.local()


def schema(kind: str) -> etree.XMLSchema:
    """The compiled official schema for 'DPS', 'NFSe', 'pedRegEvento' or 'evento' (per thread)."""
    cache = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    if kind not in cache:
        cache[kind] = etree.XMLSchema(etree.parse(str(XSD_DIR / SCHEMAS[kind])))
    return cache[kind]


def validate(doc: etree._Element | bytes | str, kind: str | None = None) -> etree._Element:
    """Validates against the official XSD (kind from the root name when None); returns the root
    element or raises SchemaError."""
    root = parse(doc) if isinstance(doc, bytes | str) else doc
    kind = kind or etree.QName(root).localname
    if kind not in SCHEMAS:
        raise SchemaError(kind, [f"unknown document root {kind!r}"])
    xsd = schema(kind)
    if not xsd.validate(root):
        raise SchemaError(kind, [f"line {e.line}: {e.message}" for e in xsd.error_log])
    return root


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False,
                          huge_tree=False)


def parse(data: bytes | str) -> etree._Element:
    if isinstance(data, str):
        data = data.encode()
    return etree.fromstring(data, _PARSER)


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ------------------------------------------------------------------------ transport encoding

def pack(xml: bytes) -> str:
    """gzip, then base64 (the `...XmlGZipB64` fields of the Sefin JSON)."""
    return base64.b64encode(gzip.compress(xml, compresslevel=6, mtime=0)).decode("ascii")


def unpack(value: str) -> bytes:
    return gzip.decompress(base64.b64decode(value, validate=True))


# ------------------------------------------------------------------------------ identifiers

def registration(document: str) -> tuple[str, str]:
    """(type digit, 14-char registration) for the Id/key: CPF -> ('1', '000'+cpf), CNPJ -> ('2', cnpj)."""
    if re.fullmatch(r"\d{11}", document):
        return "1", "000" + document
    if re.fullmatch(r"\d{14}", document):
        return "2", document
    raise DpsBuildError("document", "must be a CPF (11 digits) or a numeric CNPJ (14 digits)")


def dps_id(municipality_ibge: str, document: str, series: str, number: int) -> str:
    kind, reg = registration(document)
    return f"DPS{municipality_ibge}{kind}{reg}{int(series):05d}{number:015d}"


def check_digit(digits49: str) -> str:
    """Mod 11, weights 2..9 repeating from the right; 10 or 11 -> 0."""
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(digits49)))
    dv = 11 - total % 11
    return "0" if dv >= 10 else str(dv)


def make_access_key(municipality_ibge: str, document: str, nfse_number: int, issued: datetime,
                    random_code: int, amb_ger: str = "2") -> str:
    kind, reg = registration(document)
    body = (f"{municipality_ibge}{amb_ger}{kind}{reg}{nfse_number:013d}"
            f"{issued:%y%m}{random_code:09d}")
    return body + check_digit(body)


def valid_access_key(key: str) -> bool:
    return bool(re.fullmatch(r"\d{50}", key or "")) and check_digit(key[:49]) == key[49]


def cancellation_id(access_key: str) -> str:
    return f"PRE{access_key}{CANCEL_EVENT}"


# ----------------------------------------------------------------------------------- helpers

def _text(value: str | None, field: str, max_len: int, *, min_len: int = 1,
          multiline: bool = False) -> str:
    """Trims, folds characters outside Latin-1 (the XSD's `[!-ÿ]` range: accents kept, others
    decomposed, dashes to '-', unrepresentable symbols to '?', controls dropped), checks length."""
    raw = value or ""
    if multiline:
        raw = "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in raw.strip().splitlines())
    else:
        raw = re.sub(r"\s+", " ", raw).strip()
    out = []
    for ch in raw:
        if ch == "\n" or " " <= ch <= "\u00ff":
            out.append(ch)
        else:
            folded = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            cat = unicodedata.category(ch)
            out.append(folded if folded.strip() else "-" if cat == "Pd" else " " if cat[0] == "Z"
                       else "" if cat[0] in "CM" else "?")
    text = re.sub(r" {2,}", " ", "".join(out)).strip()
    if len(text) < min_len:
        raise DpsBuildError(field, f"must have at least {min_len} characters")
    if len(text) > max_len:
        raise DpsBuildError(field, f"must have at most {max_len} characters")
    return text


def dec2(value: Decimal, field: str = "amount") -> str:
    """TSDec15V2: non-negative, two decimals, up to 15 integer digits."""
    v = cents(value)
    if v < 0:
        raise DpsBuildError(field, "must not be negative")
    if v >= Decimal("1e15"):
        raise DpsBuildError(field, "is too large")
    return f"{v:.2f}"


def rate2(value: Decimal, field: str, limit: int = 10) -> str:
    """TSDec1V2 (limit 10) / TSDec2V2 (limit 100): percent with two decimals."""
    v = cents(value)
    if v < 0 or v >= limit:
        raise DpsBuildError(field, f"must be between 0 and {limit - Decimal('0.01')} percent")
    return f"{v:.2f}"


def date_time(value: datetime) -> str:
    """TSDateTimeUTC: local São Paulo time with its offset, no fractions."""
    if value.tzinfo is None:
        raise DpsBuildError("issued_at", "must be timezone-aware")
    return value.astimezone(SAO_PAULO).replace(microsecond=0).isoformat()


_QNAMES: dict[str, str] = {}


def _q(tag: str) -> str:
    name = _QNAMES.get(tag)
    if name is None:
        name = _QNAMES[tag] = f"{{{NS}}}{tag}"
    return name


_SubElement = etree.SubElement


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = _SubElement(parent, _QNAMES.get(tag) or _q(tag))
    if text is not None:
        el.text = text
    return el


def _document(parent: etree._Element, document: str, field: str) -> None:
    doc = re.sub(r"[.\-/\s]", "", document or "").upper()
    if re.fullmatch(r"\d{11}", doc):
        _sub(parent, "CPF", doc)
    elif re.fullmatch(r"\d{14}", doc):
        _sub(parent, "CNPJ", doc)
    elif re.fullmatch(r"[0-9A-Z]{12}\d{2}", doc):
        raise DpsBuildError(field, "an alphanumeric CNPJ cannot be carried by the NFS-e layout v1.01 "
                                   "(its schema accepts only numeric CNPJs); it is not supported yet")
    else:
        raise DpsBuildError(field, "must be a CPF (11 digits) or a CNPJ (14 digits)")


def _address(parent: etree._Element, party: Party, field: str) -> None:
    """`end` only when the address is complete (the v1.01 choice endNac is required inside it)."""
    parts = (party.municipality_ibge, party.cep, party.street, party.number, party.district)
    if not all(parts):
        return
    cep = re.sub(r"\D", "", party.cep or "")
    if not re.fullmatch(r"\d{7}", party.municipality_ibge or ""):
        raise DpsBuildError(f"{field}.municipality_ibge", "must be an IBGE code of 7 digits")
    if not re.fullmatch(r"\d{8}", cep):
        raise DpsBuildError(f"{field}.cep", "must have 8 digits")
    end = _sub(parent, "end")
    nac = _sub(end, "endNac")
    _sub(nac, "cMun", party.municipality_ibge)
    _sub(nac, "CEP", cep)
    _sub(end, "xLgr", _text(party.street, f"{field}.street", 255))
    _sub(end, "nro", _text(party.number, f"{field}.number", 60))
    if party.complement and party.complement.strip():
        _sub(end, "xCpl", _text(party.complement, f"{field}.complement", 156))
    _sub(end, "xBairro", _text(party.district, f"{field}.district", 60))


def _contact(parent: etree._Element, party: Party, field: str) -> None:
    phone = re.sub(r"\D", "", party.phone or "")
    if 6 <= len(phone) <= 20:
        _sub(parent, "fone", phone)
    if party.email and party.email.strip():
        _sub(parent, "email", _text(party.email, f"{field}.email", 80))


def _im(parent: etree._Element, party: Party, field: str) -> None:
    if party.municipal_registration and party.municipal_registration.strip():
        _sub(parent, "IM", _text(party.municipal_registration, f"{field}.municipal_registration", 15))


# --------------------------------------------------------------------------------------- DPS

def build_dps(req: DpsRequest, *, ver_aplic: str = VER_APLIC) -> etree._Element:
    """The unsigned `DPS` element for `req` (raises DpsBuildError naming the field)."""
    if req.environment not in TP_AMB:
        raise DpsBuildError("environment", "must be 'producao' or 'producao_restrita'")
    series = (req.series or "").strip()
    if not re.fullmatch(r"\d{1,5}", series):
        raise DpsBuildError("series", "must have 1 to 5 digits")
    if not isinstance(req.number, int) or not 0 < req.number < 10**15:
        raise DpsBuildError("number", "must be a positive integer of up to 15 digits")
    issuer = req.issuer
    issuer_doc = re.sub(r"[.\-/\s]", "", issuer.document or "").upper()
    c_loc_emi = req.issuing_municipality_ibge or issuer.municipality_ibge or ""
    if not re.fullmatch(r"\d{7}", c_loc_emi):
        raise DpsBuildError("issuer.municipality_ibge", "must be an IBGE code of 7 digits")
    if not re.fullmatch(r"\d{7}", req.municipality_ibge or ""):
        raise DpsBuildError("municipality_ibge", "must be an IBGE code of 7 digits")
    if not re.fullmatch(r"\d{6}", req.service_code or ""):
        raise DpsBuildError("service_code", "the national service code (cTribNac) has 6 digits")
    if req.nbs and not re.fullmatch(r"\d{9}", req.nbs):
        raise DpsBuildError("nbs", "the NBS code has 9 digits")
    op = OP_SIMP_NAC.get(issuer.tax_regime)
    if op is None:
        raise DpsBuildError("issuer.tax_regime", f"must be one of {', '.join(OP_SIMP_NAC)}")
    if cents(req.amount) <= 0:
        raise DpsBuildError("amount", "must be greater than zero")
    if req.deductions < 0 or cents(req.deductions) > cents(req.amount):
        raise DpsBuildError("deductions", "must be between zero and the amount")
    if not re.fullmatch(r"\d{11}|\d{14}", issuer_doc):
        _document(etree.Element("x"), issuer_doc, "issuer.document")  # raises the right message

    root = etree.Element(_q("DPS"), nsmap={None: NS})
    root.set("versao", VERSION)
    inf = _sub(root, "infDPS")
    inf.set("Id", dps_id(c_loc_emi, issuer_doc, series, req.number))
    _sub(inf, "tpAmb", TP_AMB[req.environment])
    _sub(inf, "dhEmi", date_time(req.issued_at))
    _sub(inf, "verAplic", ver_aplic)
    _sub(inf, "serie", series)
    _sub(inf, "nDPS", str(req.number))
    _sub(inf, "dCompet", req.competence.isoformat())
    _sub(inf, "tpEmit", "1")
    _sub(inf, "cLocEmi", c_loc_emi)

    # prest: when the issuer is the prestador, name and address come from the national register
    # (the Emissor Nacional's own DPS carries only the document, contacts and regTrib).
    prest = _sub(inf, "prest")
    _document(prest, issuer_doc, "issuer.document")
    _im(prest, issuer, "issuer")
    _contact(prest, issuer, "issuer")
    reg = _sub(prest, "regTrib")
    _sub(reg, "opSimpNac", op)
    if op == "3":
        _sub(reg, "regApTribSN", str(issuer.simples_apuracao or 1))
    if issuer.special_regime not in (0, 1, 2, 3, 4, 5, 6, 9):
        raise DpsBuildError("issuer.special_regime", "must be one of 0, 1, 2, 3, 4, 5, 6, 9")
    _sub(reg, "regEspTrib", str(issuer.special_regime))

    toma_party = req.tomador
    toma = _sub(inf, "toma")
    _document(toma, toma_party.document, "tomador.document")
    _im(toma, toma_party, "tomador")
    _sub(toma, "xNome", _text(toma_party.name, "tomador.name", 300))
    _address(toma, toma_party, "tomador")
    _contact(toma, toma_party, "tomador")

    serv = _sub(inf, "serv")
    loc = _sub(serv, "locPrest")
    _sub(loc, "cLocPrestacao", req.municipality_ibge)
    cserv = _sub(serv, "cServ")
    _sub(cserv, "cTribNac", req.service_code)
    if req.municipal_tax_code:
        if not re.fullmatch(r"\d{3}", req.municipal_tax_code):
            raise DpsBuildError("municipal_tax_code", "must have 3 digits")
        _sub(cserv, "cTribMun", req.municipal_tax_code)
    _sub(cserv, "xDescServ", _text(req.description, "description", 2000, multiline=True))
    if req.nbs:
        _sub(cserv, "cNBS", req.nbs)
    if req.additional_info and req.additional_info.strip():
        compl = _sub(serv, "infoCompl")
        _sub(compl, "xInfComp", _text(req.additional_info, "additional_info", 2000))

    valores = _sub(inf, "valores")
    vsp = _sub(valores, "vServPrest")
    _sub(vsp, "vServ", dec2(req.amount, "amount"))
    if cents(req.deductions) > 0:
        ded = _sub(valores, "vDedRed")
        _sub(ded, "vDR", dec2(req.deductions, "deductions"))
    trib = _sub(valores, "trib")
    mun = _sub(trib, "tribMun")
    _sub(mun, "tribISSQN", "1")
    _sub(mun, "tpRetISSQN", "2" if req.iss_withheld else "1")
    if op != "2" and cents(req.iss_rate) > 0:
        _sub(mun, "pAliq", rate2(req.iss_rate, "iss_rate"))
    tot = _sub(trib, "totTrib")
    if op == "3":
        # ME/EPP in the Simples: the total is the Simples percentage (indTotTrib is refused there).
        _sub(tot, "pTotTribSN", rate2(issuer.simples_total_rate, "issuer.simples_total_rate", 100))
    else:
        _sub(tot, "indTotTrib", "0")

    if req.ibscbs is not None:
        g = req.ibscbs
        for name, value, size in (("ibscbs.situation", g.situation, 3),
                                  ("ibscbs.classification_code", g.classification_code, 6),
                                  ("ibscbs.operation_indicator", g.operation_indicator, 6)):
            if not re.fullmatch(rf"\d{{{size}}}", value or ""):
                raise DpsBuildError(name, f"must have {size} digits")
        ibs = _sub(inf, "IBSCBS")
        _sub(ibs, "finNFSe", "0")
        _sub(ibs, "indFinal", "1" if g.final_consumer else "0")
        _sub(ibs, "cIndOp", g.operation_indicator)
        _sub(ibs, "indDest", "0")
        vals = _sub(ibs, "valores")
        t = _sub(vals, "trib")
        gi = _sub(t, "gIBSCBS")
        _sub(gi, "CST", g.situation)
        _sub(gi, "cClassTrib", g.classification_code)
    return root


# ------------------------------------------------------------------------ cancellation event

def build_cancellation(*, access_key: str, author_document: str, reason_code: str, reason: str,
                       environment: str, at: datetime, ver_aplic: str = VER_APLIC) -> etree._Element:
    """Unsigned `pedRegEvento` with `e101101` (cancelamento de NFS-e)."""
    if not valid_access_key(access_key):
        raise DpsBuildError("access_key", "must be a 50-digit NFS-e access key with a valid check digit")
    if reason_code not in ("1", "2", "9"):
        raise DpsBuildError("reason_code", "must be 1 (erro na emissão), 2 (serviço não prestado) "
                                           "or 9 (outros)")
    if environment not in TP_AMB:
        raise DpsBuildError("environment", "must be 'producao' or 'producao_restrita'")
    root = etree.Element(_q("pedRegEvento"), nsmap={None: NS})
    root.set("versao", VERSION)
    inf = _sub(root, "infPedReg")
    inf.set("Id", cancellation_id(access_key))
    _sub(inf, "tpAmb", TP_AMB[environment])
    _sub(inf, "verAplic", ver_aplic)
    _sub(inf, "dhEvento", date_time(at))
    doc = re.sub(r"[.\-/\s]", "", author_document or "")
    if re.fullmatch(r"\d{14}", doc):
        _sub(inf, "CNPJAutor", doc)
    elif re.fullmatch(r"\d{11}", doc):
        _sub(inf, "CPFAutor", doc)
    else:
        raise DpsBuildError("issuer.document", "must be a CPF or a numeric CNPJ")
    _sub(inf, "chNFSe", access_key)
    ev = _sub(inf, "e" + CANCEL_EVENT)
    _sub(ev, "xDesc", CANCEL_TEXT)
    _sub(ev, "cMotivo", reason_code)
    _sub(ev, "xMotivo", _text(reason, "reason", 255, min_len=15))
    return root


def signed_element_id(root: etree._Element) -> str:
    """Id of the element a document's signature covers (infDPS, infPedReg, infNFSe, infEvento)."""
    return root[0].get("Id") or ""
