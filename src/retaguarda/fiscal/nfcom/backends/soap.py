"""SOAP 1.2 framing of the four NFCom web services (WSDLs of SVRS; MOC VG §3.4, NT 2023.001 §4).

Request body: `<nfcomDadosMsg xmlns="http://www.portalfiscal.inf.br/nfcom/wsdl/<Svc>">` holding,
for reception, the gzip+base64 text of the signed NFCom and, for the others, the XML message
itself; no SOAP header. Answer: `nfcomResultMsg` (same namespace) holding the ret* element.
Content-Type `application/soap+xml; charset=utf-8; action="<ns>/<operation>"`.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://www.portalfiscal.inf.br/nfcom/wsdl/"


@dataclass(frozen=True)
class Service:
    name: str
    operation: str

    @property
    def namespace(self) -> str:
        return WSDL_NS + self.name

    @property
    def action(self) -> str:
        return f"{self.namespace}/{self.operation}"

    def path(self) -> str:
        return f"/WS/{self.name}/{self.name}.asmx"


RECEPTION = Service("NFComRecepcao", "nfcomRecepcao")
CONSULT = Service("NFComConsulta", "nfcomConsultaNF")
STATUS = Service("NFComStatusServico", "nfcomStatusServicoNF")
EVENT = Service("NFComRecepcaoEvento", "nfcomRecepcaoEvento")
SERVICES = {s.name: s for s in (RECEPTION, CONSULT, STATUS, EVENT)}

URLS = {"producao": "https://nfcom.svrs.rs.gov.br", "homologacao": "https://nfcom-homologacao.svrs.rs.gov.br"}
"""SVRS hosts (every state it authorises; MG and MS run their own)."""


class SoapError(ValueError):
    """Not a SOAP 1.2 envelope we understand, or a SOAP Fault; the message says which."""


def pack(xml: bytes) -> str:
    """gzip + base64 of the signed NFCom (reception's data area)."""
    return base64.b64encode(gzip.compress(xml, mtime=0)).decode("ascii")


def unpack(text: str) -> bytes:
    return gzip.decompress(base64.b64decode(text.strip(), validate=True))


def envelope(service: Service, payload: etree._Element | str) -> bytes:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap12": SOAP12})
    body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    msg = etree.SubElement(body, f"{{{service.namespace}}}nfcomDadosMsg", nsmap={None: service.namespace})
    if isinstance(payload, str):
        msg.text = payload
    else:
        msg.append(payload)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(env, encoding="UTF-8")


def content_type(service: Service) -> str:
    return f'application/soap+xml; charset=utf-8; action="{service.action}"'


def _body(data: bytes) -> etree._Element:
    try:
        env = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SoapError(f"not XML: {str(exc)[:120]}") from None
    if env.tag != f"{{{SOAP12}}}Envelope":
        raise SoapError("not a SOAP 1.2 envelope")
    body = env.find(f"{{{SOAP12}}}Body")
    if body is None or len(body) == 0:
        raise SoapError("empty SOAP body")
    fault = body.find(f"{{{SOAP12}}}Fault")
    if fault is not None:
        reason = " ".join(fault.itertext()).strip()
        raise SoapError(f"SOAP Fault: {reason[:200]}")
    return body[0]


def request_payload(data: bytes) -> tuple[Service, etree._Element | str]:
    """Server side: which service, and its payload (text for reception, element otherwise)."""
    msg = _body(data)
    qname = etree.QName(msg)
    if qname.localname != "nfcomDadosMsg" or not (qname.namespace or "").startswith(WSDL_NS):
        raise SoapError("the body must hold nfcomDadosMsg")
    service = SERVICES.get((qname.namespace or "")[len(WSDL_NS) :])
    if service is None:
        raise SoapError(f"unknown service {qname.namespace}")
    if len(msg):
        # a document of its own: inclusive C14N must not see the envelope's namespaces
        return service, etree.fromstring(etree.tostring(_detached(msg[0])))
    return service, (msg.text or "")


def _detached(el: etree._Element) -> etree._Element:
    import copy

    out = copy.deepcopy(el)
    etree.cleanup_namespaces(out)
    return out


def result(service: Service, answer: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
    body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    msg = etree.SubElement(body, f"{{{service.namespace}}}nfcomResultMsg", nsmap={None: service.namespace})
    msg.append(answer)
    return b'<?xml version="1.0" encoding="utf-8"?>' + etree.tostring(env, encoding="UTF-8")


def fault(reason: str) -> bytes:
    env = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
    body = etree.SubElement(env, f"{{{SOAP12}}}Body")
    f = etree.SubElement(body, f"{{{SOAP12}}}Fault")
    code = etree.SubElement(f, f"{{{SOAP12}}}Code")
    etree.SubElement(code, f"{{{SOAP12}}}Value").text = "soap:Receiver"
    r = etree.SubElement(f, f"{{{SOAP12}}}Reason")
    etree.SubElement(r, f"{{{SOAP12}}}Text").text = reason
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def response_payload(service: Service, data: bytes) -> etree._Element:
    """Client side: the ret* element inside nfcomResultMsg."""
    msg = _body(data)
    if etree.QName(msg).localname != "nfcomResultMsg" or len(msg) == 0:
        raise SoapError("the body must hold nfcomResultMsg with an answer")
    return etree.fromstring(etree.tostring(_detached(msg[0])))
