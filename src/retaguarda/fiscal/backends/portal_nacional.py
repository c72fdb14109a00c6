"""Sefin Nacional (NFS-e Nacional) over mutual TLS with the tenant's A1 certificate.

Pipeline of `emit`: build the DPS (dps.build_dps) -> validate against DPS_v1.01.xsd -> sign
(xmlsign.sign, enveloped over infDPS) -> validate again -> gzip+base64 into
`{"dpsXmlGZipB64"}` -> `POST {base}/SefinNacional/nfse` -> 201 `chaveAcesso` + `nfseXmlGZipB64`.
The emission is synchronous: there is no 'processing' state. After a timeout the retry sends the
same DPS Id; a "DPS already processed" rejection (or any 4xx) is followed by
`GET /SefinNacional/dps/{id}` and, when the authority has a note for it, `GET /nfse/{key}`, so a
retry never loses or duplicates a note.
Cancellation: signed pedRegEvento e101101 -> `POST /SefinNacional/nfse/{key}/eventos`.
DANFSe: `GET {adn}/danfse/{key}` (PDF).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
from lxml import etree

from retaguarda.fiscal import dps as D
from retaguarda.fiscal import xmlsign
from retaguarda.fiscal.backends.base import (
    BackendConfigError,
    CancellationOutcome,
    DpsRequest,
    EmissionOutcome,
    TransientBackendError,
)
from retaguarda.fiscal.backends.http import Exchanger, Response, json_of
from retaguarda.fiscal.certificates import A1Certificate
from retaguarda.fiscal.errors_map import local_error, read_errors
from retaguarda.shared.clock import parse_instant

SEFIN_PATH = "/SefinNacional"
TRANSIENT_CODES = {"E999"}
PROBE_KEY = "0" * 49 + "0"


def _digest_of_dps(xml: str | None) -> str | None:
    """DigestValue of the DPS signature (first DPS in the document)."""
    if not xml:
        return None
    m = re.search(r"<(?:\w+:)?infDPS\b.*?<(?:\w+:)?DigestValue>([^<]+)<", xml, re.S)
    return m.group(1).strip() if m else None


def _same_dps(nfse_xml: str | None, dps_xml: str | None) -> bool:
    ours, theirs = _digest_of_dps(dps_xml), _digest_of_dps(nfse_xml)
    return ours is not None and ours == theirs


class PortalNacionalBackend:
    name = "portal_nacional"
    label = "Portal Nacional (Sefin Nacional)"

    def __init__(self, *, base_url: str, danfse_url: str, certificate: A1Certificate,
                 issuer_cnpj: str, environment: str, clock: Any, timeout: float = 30.0,
                 ca_bundle: str | None = None, ver_aplic: str = D.VER_APLIC, **_: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.danfse_url = danfse_url.rstrip("/")
        self.certificate = certificate
        self.issuer_cnpj = re.sub(r"[.\-/\s]", "", issuer_cnpj or "")
        self.environment = environment
        self.clock = clock
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self.ver_aplic = ver_aplic
        self.http = self._exchanger()

    # ------------------------------------------------------------------ transport

    def _exchanger(self) -> Exchanger:
        def factory() -> httpx.Client:
            try:
                ctx = self.certificate.ssl_context(self.ca_bundle)
            except Exception as exc:  # noqa: BLE001
                raise BackendConfigError(f"the A1 certificate cannot be used for TLS: {exc}") from None
            return httpx.Client(verify=ctx, timeout=self.timeout,
                                headers={"Accept": "application/json"})
        return Exchanger(factory, self.clock)

    def close(self) -> None:
        self.http.close()

    def _sefin(self, path: str) -> str:
        return f"{self.base_url}{SEFIN_PATH}{path}"

    def _send(self, operation: str, method: str, url: str, body: Any = None, **kw: Any) -> Response:
        return self.http.send(operation, method, url, json_body=body, **kw)

    # ------------------------------------------------------------------ emission

    def prepare(self, request: DpsRequest) -> tuple[str, bytes]:
        """(DPS Id, signed DPS bytes), validated before and after signing. Raises
        dps.DpsBuildError / dps.SchemaError."""
        root = D.build_dps(request, ver_aplic=self.ver_aplic)
        D.validate(root, "DPS")
        xmlsign.sign(root, self.certificate)
        D.validate(root, "DPS")
        return D.signed_element_id(root), D.to_bytes(root)

    def _check_certificate(self, at: datetime) -> list[dict[str, str]]:
        cert = self.certificate
        if cert.cnpj and self.issuer_cnpj and cert.cnpj != self.issuer_cnpj:
            return [local_error("LOCAL-CERTIFICATE", f"The certificate belongs to CNPJ {cert.cnpj}, "
                                                     f"not to the issuer {self.issuer_cnpj}.")]
        if at > cert.not_after:
            return [local_error("LOCAL-CERTIFICATE", f"The certificate expired on {cert.not_after:%Y-%m-%d}.")]
        return []

    def emit(self, request: DpsRequest, ref: str) -> EmissionOutcome:
        problems = self._check_certificate(self.clock.now())
        if problems:
            return EmissionOutcome(status="rejected", errors=problems, provider_ref=ref)
        try:
            dps_id, signed = self.prepare(request)
        except D.DpsBuildError as exc:
            return EmissionOutcome(status="rejected", provider_ref=ref,
                                   errors=[local_error("LOCAL-VALIDATION", exc.message, exc.field)])
        except D.SchemaError as exc:
            return EmissionOutcome(status="rejected", provider_ref=ref,
                                   errors=[local_error("LOCAL-XSD", m) for m in exc.errors[:5]])
        dps_text = signed.decode()
        body = {"dpsXmlGZipB64": D.pack(signed)}
        logged = {"dpsXmlGZipB64": f"<gzip+base64 of signed DPS {dps_id}, {len(signed)} bytes>"}
        try:
            resp = self._send("emit", "POST", self._sefin("/nfse"), body, logged_request=logged)
        except TransientBackendError:
            raise
        data = json_of(self.http, resp, "emit")
        if resp.status in (200, 201) and isinstance(data, dict) and data.get("chaveAcesso"):
            return self._authorized(data, dps_id, dps_text, ref)
        if resp.status in (200, 201):
            raise self.http.malformed("emit", "success without chaveAcesso")
        errors = read_errors(data)
        if any(e["code"] in TRANSIENT_CODES for e in errors):
            raise TransientBackendError("emit: authority answered an unclassified error (E999)",
                                        calls=self.http.take_calls())
        # The DPS may already have become a note (a retry after a timeout): ask by DPS Id, and
        # take that note only if it embeds this very DPS (same digest); otherwise the number was
        # used by another document and the rejection stands.
        recovered = self._recover(dps_id, dps_text, ref)
        if recovered is not None and _same_dps(recovered.nfse_xml, dps_text):
            return recovered
        return EmissionOutcome(status="rejected", errors=errors, dps_xml=dps_text, dps_id=dps_id,
                               provider_ref=ref, calls=self.http.take_calls())

    def _recover(self, dps_id: str, dps_text: str | None, ref: str) -> EmissionOutcome | None:
        """The note the authority made from DPS `dps_id`, if any (its calls stay in the log)."""
        resp = self._send("recover_by_dps", "GET", self._sefin(f"/dps/{dps_id}"))
        if resp.status != 200:
            return None
        data = json_of(self.http, resp, "recover_by_dps")
        key = data.get("chaveAcesso") if isinstance(data, dict) else None
        if not key:
            return None
        outcome = self._fetch(key, ref, keep_calls=True)
        if outcome.status != "authorized":
            return None
        outcome.dps_xml = dps_text or outcome.dps_xml
        outcome.dps_id = dps_id
        outcome.calls = self.http.take_calls()
        return outcome

    def _authorized(self, data: dict[str, Any], dps_id: str | None, dps_text: str | None,
                    ref: str) -> EmissionOutcome:
        key = str(data["chaveAcesso"])
        packed = data.get("nfseXmlGZipB64")
        nfse_xml = None
        number = None
        authorized_at = None
        if packed:
            try:
                xml = D.unpack(packed)
                root = D.parse(xml)
            except Exception:  # noqa: BLE001
                raise self.http.malformed("emit", "nfseXmlGZipB64 is not gzip+base64 XML") from None
            nfse_xml = xml.decode()
            ns = {"n": D.NS}
            number = root.findtext("n:infNFSe/n:nNFSe", namespaces=ns)
            dh = root.findtext("n:infNFSe/n:dhProc", namespaces=ns)
            authorized_at = parse_instant(dh) if dh else None
            if dps_text is None:
                embedded = root.find("n:infNFSe/n:DPS", namespaces=ns)
                if embedded is not None:
                    dps_text = etree.tostring(embedded, encoding="unicode")
                    dps_id = embedded[0].get("Id")
        if authorized_at is None and data.get("dataHoraProcessamento"):
            try:
                authorized_at = parse_instant(str(data["dataHoraProcessamento"]))
            except ValueError:
                authorized_at = None
        return EmissionOutcome(status="authorized", access_key=key, number=number,
                               authorized_at=authorized_at, nfse_xml=nfse_xml, dps_xml=dps_text,
                               dps_id=dps_id or data.get("idDps"), provider_ref=ref,
                               calls=self.http.take_calls())

    def _fetch(self, key: str, ref: str, keep_calls: bool = False) -> EmissionOutcome:
        resp = self._send("consult", "GET", self._sefin(f"/nfse/{key}"))
        data = json_of(self.http, resp, "consult")
        if resp.status == 200 and isinstance(data, dict):
            data.setdefault("chaveAcesso", key)
            outcome = self._authorized(data, None, None, ref)
        else:
            outcome = EmissionOutcome(status="rejected", access_key=key, errors=read_errors(data),
                                      provider_ref=ref)
        if keep_calls:
            self.http.calls.extend(outcome.calls)
            outcome.calls = []
        else:
            outcome.calls = outcome.calls or self.http.take_calls()
        return outcome

    def consult(self, ref: str, access_key: str | None) -> EmissionOutcome:
        if not access_key:
            return EmissionOutcome(status="rejected", provider_ref=ref, errors=[local_error(
                "LOCAL-VALIDATION", "The Sefin Nacional is consulted by access key; this note has none "
                                    "(it was never authorized).", "access_key")])
        return self._fetch(access_key, ref)

    # ------------------------------------------------------------------ cancellation

    def cancel(self, access_key: str, reason_code: str, reason: str, ref: str) -> CancellationOutcome:
        try:
            root = D.build_cancellation(access_key=access_key, author_document=self.issuer_cnpj,
                                        reason_code=reason_code, reason=reason,
                                        environment=self.environment, at=self.clock.now(),
                                        ver_aplic=self.ver_aplic)
            D.validate(root, "pedRegEvento")
            xmlsign.sign(root, self.certificate)
            D.validate(root, "pedRegEvento")
        except D.DpsBuildError as exc:
            return CancellationOutcome(status="rejected",
                                       errors=[local_error("LOCAL-VALIDATION", exc.message, exc.field)])
        except D.SchemaError as exc:
            return CancellationOutcome(status="rejected",
                                       errors=[local_error("LOCAL-XSD", m) for m in exc.errors[:5]])
        signed = D.to_bytes(root)
        body = {"pedidoRegistroEventoXmlGZipB64": D.pack(signed)}
        logged = {"pedidoRegistroEventoXmlGZipB64":
                  f"<gzip+base64 of signed pedRegEvento {D.signed_element_id(root)}, {len(signed)} bytes>"}
        resp = self._send("cancel", "POST", self._sefin(f"/nfse/{access_key}/eventos"), body,
                          logged_request=logged)
        data = json_of(self.http, resp, "cancel")
        if resp.status in (200, 201) and isinstance(data, dict) and data.get("eventoXmlGZipB64"):
            try:
                event_xml = D.unpack(data["eventoXmlGZipB64"]).decode()
            except Exception:  # noqa: BLE001
                raise self.http.malformed("cancel", "eventoXmlGZipB64 is not gzip+base64") from None
            return CancellationOutcome(status="cancelled", event_xml=event_xml,
                                       request_xml=signed.decode(), calls=self.http.take_calls())
        if resp.status in (200, 201):
            raise self.http.malformed("cancel", "success without eventoXmlGZipB64")
        errors = read_errors(data)
        if any(e["code"] in TRANSIENT_CODES for e in errors):
            raise TransientBackendError("cancel: authority answered E999", calls=self.http.take_calls())
        return CancellationOutcome(status="rejected", errors=errors, request_xml=signed.decode(),
                                   calls=self.http.take_calls())

    # ------------------------------------------------------------------ DANFSe, probe

    def danfse(self, access_key: str, ref: str) -> bytes | None:
        resp = self._send("danfse", "GET", f"{self.danfse_url}/danfse/{access_key}")
        self.last_calls = self.http.take_calls()
        if resp.status == 200 and resp.content[:5] == b"%PDF-":
            return resp.content
        return None

    def test_connection(self) -> dict[str, Any]:
        try:
            resp = self._send("test_connection", "GET", self._sefin(f"/nfse/{PROBE_KEY}"))
        except TransientBackendError as exc:
            return {"ok": False, "backend": self.name, "message": str(exc),
                    "calls": [c.as_dict() for c in exc.calls]}
        ok = resp.status in (200, 400, 404)
        message = ("mutual TLS handshake accepted; consult answered HTTP %d" % resp.status) if ok \
            else f"the Sefin answered HTTP {resp.status}"
        return {"ok": ok, "backend": self.name, "message": message,
                "certificate": self.certificate.summary(),
                "calls": [c.as_dict() for c in self.http.take_calls()]}
