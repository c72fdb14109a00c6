"""A simulated SVRS NFCom authority, in process: the sandbox backend talks to it directly and the
fake SVRS server (tests/fakes/fiscal/svrs.py) serves it over SOAP 1.2 + mutual TLS.

It checks what the real one rejects first (MOC Anexo I): gzip/base64 (244), schema (215),
signature (297), signer CNPJ base vs emit (213), environment (252), key check digit (253), key
vs ide fields (227), emission date in the future (212), duplicates (204 same key, 539 same
number with another key); it authorizes with cStat 100 and a 16-digit protocol (3 + cUF + yy +
site + sequence). Events: 110111 cancellation with nProt check (222), already cancelled (218),
the 120-hours-after-month-end window (220), unknown key (217). `inject` queues canned answers.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

from retaguarda.fiscal.nfcom import sign as S
from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.key import check_digit

VER_APLIC = "SVRS-SIM-1.00"


def _q(tag: str) -> str:
    return f"{{{X.NS}}}{tag}"


def _text(el: etree._Element | None, path: str) -> str:
    if el is None:
        return ""
    return (el.findtext("/".join(f"{{{X.NS}}}{p}" for p in path.split("/"))) or "").strip()


def cancel_deadline(authorized_at: datetime) -> datetime:
    """120 hours after the last day of the month of authorization (Ajuste SINIEF 7/2022 cl. 15ª),
    in the authority's local time."""
    local = authorized_at.astimezone(X.TZ)
    first_next = (local.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return first_next + timedelta(hours=120)


@dataclass
class Stored:
    key: str
    protocol: str
    received_at: datetime
    xml: bytes
    digest: str
    series_number: tuple[str, str, str]
    cancelled: bool = False
    cancel_protocol: str = ""
    events: list[bytes] = field(default_factory=list)


class SimulatedSvrs:
    def __init__(self, *, environment: str = "homologacao", clock: Any = None) -> None:
        self.environment = environment
        self.clock = clock
        self.by_key: dict[str, Stored] = {}
        self.by_number: dict[tuple[str, str, str], str] = {}
        self.injected: list[tuple[str, str]] = []
        self.sequence = 0
        self.lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(timezone.utc)

    def inject(self, cstat: str, reason: str) -> None:
        """The next reception answers `cstat`/`reason` (after decoding), whatever it holds."""
        with self.lock:
            self.injected.append((cstat, reason))

    # Reception -------------------------------------------------------------------------------
    def _ret(
        self, cstat: str, reason: str, uf: str = "43", prot: etree._Element | None = None
    ) -> etree._Element:
        root = etree.Element(_q("retNFCom"), nsmap={None: X.NS})
        root.set("versao", X.VERSION)
        etree.SubElement(root, _q("tpAmb")).text = X.ENVIRONMENTS[self.environment]
        etree.SubElement(root, _q("cUF")).text = uf
        etree.SubElement(root, _q("verAplic")).text = VER_APLIC
        etree.SubElement(root, _q("cStat")).text = cstat
        etree.SubElement(root, _q("xMotivo")).text = reason[:255]
        if prot is not None:
            root.append(prot)
        return root

    def _prot(
        self, stored: Stored, cstat: str = "100", reason: str = "Autorizado o uso da NFCom"
    ) -> etree._Element:
        prot = etree.Element(_q("protNFCom"), nsmap={None: X.NS})
        prot.set("versao", X.VERSION)
        inf = etree.SubElement(prot, _q("infProt"))
        inf.set("Id", f"ID{stored.protocol}")
        etree.SubElement(inf, _q("tpAmb")).text = X.ENVIRONMENTS[self.environment]
        etree.SubElement(inf, _q("verAplic")).text = VER_APLIC
        etree.SubElement(inf, _q("chNFCom")).text = stored.key
        etree.SubElement(inf, _q("dhRecbto")).text = X.dh(stored.received_at)
        etree.SubElement(inf, _q("nProt")).text = stored.protocol
        etree.SubElement(inf, _q("digVal")).text = stored.digest
        etree.SubElement(inf, _q("cStat")).text = cstat
        etree.SubElement(inf, _q("xMotivo")).text = reason
        return prot

    def reception(self, payload: str) -> etree._Element:
        """`payload`: the text of nfcomDadosMsg (gzip + base64 of the signed NFCom)."""
        try:
            raw = gzip.decompress(base64.b64decode(payload.strip(), validate=True))
        except (binascii.Error, OSError, EOFError, ValueError):
            return self._ret("244", "Rejeição: Falha na descompactação da área de dados")
        if len(raw) > 1024 * 1024:
            return self._ret("214", "Rejeição: Tamanho da mensagem excedeu o limite estabelecido")
        try:
            doc = X.parse(raw)
        except etree.XMLSyntaxError as exc:
            return self._ret("215", f"Rejeição: Falha no schema XML [{str(exc)[:180]}]")
        if etree.QName(doc).localname != "NFCom":
            return self._ret("215", "Rejeição: Falha no schema XML [root element is not NFCom]")
        with self.lock:
            if self.injected:
                cstat, reason = self.injected.pop(0)
                return self._ret(cstat, reason)
        if b"<ds:" in raw or b"xmlns:" in raw:
            return self._ret("404", "Rejeição: Uso de prefixo de namespace não permitido")
        errors = X.validation_errors(doc)
        if errors:
            return self._ret("215", f"Rejeição: Falha no schema XML [{errors[0][:180]}]")
        inf = doc[0]
        uf = _text(inf, "ide/cUF")
        try:
            verified = S.verify(doc)
        except S.SignatureError:
            return self._ret("297", "Rejeição: Assinatura difere do calculado", uf)
        emit_cnpj = _text(inf, "emit/CNPJ")
        from retaguarda.fiscal.certificates import cnpj_from_certificate

        signer = cnpj_from_certificate(verified.certificate) or ""
        if signer[:8] != emit_cnpj[:8]:
            return self._ret(
                "213", "Rejeição: CNPJ-Base do Emitente difere do CNPJ-Base do " "Certificado Digital", uf
            )
        if _text(inf, "ide/tpAmb") != X.ENVIRONMENTS[self.environment]:
            return self._ret("252", "Rejeição: Ambiente informado diverge do Ambiente de recebimento", uf)
        key = (inf.get("Id") or "")[5:]
        if check_digit(key[:43]) != int(key[43]) or _text(inf, "ide/cDV") != key[43]:
            return self._ret("253", "Rejeição: Dígito Verificador da chave de acesso composta inválido", uf)
        issued = datetime.fromisoformat(_text(inf, "ide/dhEmi"))
        composed = (
            f"{uf}{issued:%y%m}{emit_cnpj}62{int(_text(inf, 'ide/serie')):03d}"
            f"{int(_text(inf, 'ide/nNF')):09d}{_text(inf, 'ide/tpEmis')}"
            f"{_text(inf, 'ide/nSiteAutoriz')}{_text(inf, 'ide/cNF')}"
        )
        if composed != key[:43]:
            return self._ret(
                "227",
                "Rejeição: Chave de Acesso do campo Id difere da concatenação " "dos campos correspondentes",
                uf,
            )
        now = self.now()
        if issued - now > timedelta(minutes=5):
            return self._ret("212", "Rejeição: Data-Hora de emissão posterior à data de recebimento", uf)
        number = (emit_cnpj, _text(inf, "ide/serie"), _text(inf, "ide/nNF"))
        with self.lock:
            known = self.by_key.get(key)
            if known is not None:
                return self._ret(
                    "204",
                    f"Rejeição: Duplicidade de NFCom [nProt:{known.protocol}]"
                    f"[dhAut:{X.dh(known.received_at)}]",
                    uf,
                )
            other = self.by_number.get(number)
            if other is not None:
                return self._ret(
                    "539",
                    f"Rejeição: Duplicidade de NFCom com diferença na Chave de " f"Acesso [chNFCom:{other}]",
                    uf,
                )
            self.sequence += 1
            protocol = f"3{uf}{now:%y}0{self.sequence:010d}"
            digest = (
                doc.findtext(
                    f"{{{S.DSIG_NS}}}Signature/{{{S.DSIG_NS}}}SignedInfo/"
                    f"{{{S.DSIG_NS}}}Reference/{{{S.DSIG_NS}}}DigestValue"
                )
                or ""
            )
            stored = Stored(
                key=key, protocol=protocol, received_at=now, xml=raw, digest=digest, series_number=number
            )
            self.by_key[key] = stored
            self.by_number[number] = key
        return self._ret("100", "Autorizado o uso da NFCom", uf, self._prot(stored))

    # Consult ---------------------------------------------------------------------------------
    def consult(self, message: etree._Element) -> etree._Element:
        root = etree.Element(_q("retConsSitNFCom"), nsmap={None: X.NS})
        root.set("versao", X.VERSION)
        key = _text(message, "chNFCom")
        stored = self.by_key.get(key)
        if X.validation_errors(message):
            cstat, reason = "215", "Rejeição: Falha no schema XML"
        elif stored is None:
            cstat, reason = "217", "Rejeição: NFCom não consta na base de dados da SEFAZ"
        elif stored.cancelled:
            cstat, reason = "101", "Cancelamento de NFCom homologado"
        else:
            cstat, reason = "100", "Autorizado o uso da NFCom"
        etree.SubElement(root, _q("tpAmb")).text = X.ENVIRONMENTS[self.environment]
        etree.SubElement(root, _q("verAplic")).text = VER_APLIC
        etree.SubElement(root, _q("cStat")).text = cstat
        etree.SubElement(root, _q("xMotivo")).text = reason
        etree.SubElement(root, _q("cUF")).text = key[:2] if len(key) == 44 else "43"
        if stored is not None:
            wrapper = etree.SubElement(root, _q("protNFCom"))
            wrapper.set("versao", X.VERSION)
            wrapper.append(self._prot(stored))
            for ev in stored.events:
                w = etree.SubElement(root, _q("procEventoNFCom"))
                w.set("versao", X.VERSION)
                w.append(X.parse(ev))
        return root

    def status(self, message: etree._Element) -> etree._Element:
        root = etree.Element(_q("retConsStatServNFCom"), nsmap={None: X.NS})
        root.set("versao", X.VERSION)
        etree.SubElement(root, _q("tpAmb")).text = X.ENVIRONMENTS[self.environment]
        etree.SubElement(root, _q("verAplic")).text = VER_APLIC
        etree.SubElement(root, _q("cStat")).text = "107"
        etree.SubElement(root, _q("xMotivo")).text = "Serviço em Operação"
        etree.SubElement(root, _q("cUF")).text = "43"
        etree.SubElement(root, _q("dhRecbto")).text = X.dh(self.now())
        etree.SubElement(root, _q("tMed")).text = "1"
        return root

    # Events ------------------------------------------------------------------------------------
    def _ret_event(
        self, cstat: str, reason: str, key: str = "", tp: str = "", seq: str = "", protocol: str = ""
    ) -> etree._Element:
        root = etree.Element(_q("retEventoNFCom"), nsmap={None: X.NS})
        root.set("versao", X.VERSION)
        inf = etree.SubElement(root, _q("infEvento"))
        etree.SubElement(inf, _q("tpAmb")).text = X.ENVIRONMENTS[self.environment]
        etree.SubElement(inf, _q("verAplic")).text = VER_APLIC
        etree.SubElement(inf, _q("cOrgao")).text = key[:2] if len(key) == 44 else "43"
        etree.SubElement(inf, _q("cStat")).text = cstat
        etree.SubElement(inf, _q("xMotivo")).text = reason
        if key:
            etree.SubElement(inf, _q("chNFCom")).text = key
        if protocol:
            etree.SubElement(inf, _q("tpEvento")).text = tp
            etree.SubElement(inf, _q("xEvento")).text = "Cancelamento"
            etree.SubElement(inf, _q("nSeqEvento")).text = seq
            etree.SubElement(inf, _q("dhRegEvento")).text = X.dh(self.now())
            etree.SubElement(inf, _q("nProt")).text = protocol
        return root

    def event(self, message: etree._Element) -> etree._Element:
        errors = X.validation_errors(message)
        if errors:
            return self._ret_event("215", f"Rejeição: Falha no schema XML [{errors[0][:180]}]")
        try:
            S.verify(message)
        except S.SignatureError:
            return self._ret_event("297", "Rejeição: Assinatura difere do calculado")
        inf = message[0]
        key, tp, seq = _text(inf, "chNFCom"), _text(inf, "tpEvento"), _text(inf, "nSeqEvento")
        if tp != X.CANCEL_EVENT:
            return self._ret_event("489", "Rejeição: Tipo de evento não suportado", key)
        with self.lock:
            stored = self.by_key.get(key)
            if stored is None:
                return self._ret_event("217", "Rejeição: NFCom não consta na base de dados da SEFAZ", key)
            if stored.cancelled:
                return self._ret_event(
                    "218",
                    f"Rejeição: NFCom já está cancelada na base de dados da "
                    f"SEFAZ [nProt:{stored.cancel_protocol}]",
                    key,
                )
            if seq != "1":
                return self._ret_event("636", "Rejeição: Número do item do evento inválido", key)
            if _text(inf, "detEvento/evCancNFCom/nProt") != stored.protocol:
                return self._ret_event(
                    "222", "Rejeição: Protocolo de Autorização de Uso difere do " "cadastrado", key
                )
            if self.now() > cancel_deadline(stored.received_at):
                return self._ret_event(
                    "220", "Rejeição: Prazo de Cancelamento superior ao previsto " "na Legislação", key
                )
            self.sequence += 1
            protocol = f"3{key[:2]}{self.now():%y}0{self.sequence:010d}"
            ret = self._ret_event("135", "Evento registrado e vinculado a NFCom", key, tp, seq, protocol)
            proc = etree.Element(_q("procEventoNFCom"), nsmap={None: X.NS})
            proc.set("versao", X.VERSION)
            import copy

            proc.append(copy.deepcopy(message))
            proc.append(copy.deepcopy(ret))
            stored.cancelled = True
            stored.cancel_protocol = protocol
            stored.events.append(X.to_bytes(proc))
        return ret
